// A study: its definition (the SPACE.json), its trials in a storage, and the worker loop that runs them.
// The storage is an interface (SQLite and PostgreSQL implement it in the node-only part); nothing here
// touches files or processes.
import { canonicalJson, checkKnownKeys, gridPoints, sampleParams, validateSpace, SearchSpaceError } from './space.js';
import type { DrawCheck, ParamDef, Params, Rejections } from './space.js';
import type { Direction } from './robust.js';
import { noPruner, type Pruner, type TrialCurve } from './pruners.js';
import { ReportWriter } from './report-writer.js';

/** The objective part of a SPACE.json (see objective.ts for the fields it reads). */
export type ObjectiveDef = Record<string, unknown> & { metric?: string; direction?: Direction };

/** The objective's metric: valAccuracy unless it names another. */
export const objectiveMetric = (o: ObjectiveDef): string => String(o.metric ?? 'valAccuracy');

/**
 * Which way the study ranks: the objective's direction, else minimize for a loss metric (…Loss, loss) and maximize
 * otherwise. The study (ranking, pruning, robust setting) and each trial (its best epoch) both read it here.
 */
export function objectiveDirection(o: ObjectiveDef): Direction {
  return o.direction ?? (objectiveMetric(o).endsWith('oss') ? 'minimize' : 'maximize');
}

/** A SPACE.json: the study's name, what a trial trains, and the hyperparameters. */
export interface StudyDef {
  study: string;
  objective: ObjectiveDef;
  params: Record<string, ParamDef>;
  /** Seed of the draws (trial i draws from (seed, i)); default 1. */
  seed?: number;
  /** random (default) or grid (every point in order). */
  sampler?: 'random' | 'grid';
  /** Robust selection: k of the median-of-top-k (default 5) and the parameter to group by. */
  robust?: { topK?: number; groupBy?: string };
}

export type TrialState = 'queued' | 'running' | 'complete' | 'pruned' | 'failed';
export const TRIAL_STATES: readonly TrialState[] = ['queued', 'running', 'complete', 'pruned', 'failed'];

export interface StudyRecord {
  id: number;
  name: string;
  def: StudyDef;
  direction: Direction;
  created: number;
}

export interface TrialRecord {
  id: number;
  study: number;
  /** 0-based position in the study; the draw is seeded by it. */
  number: number;
  state: TrialState;
  params: Params;
  rejections: Rejections;
  /** The trial's metric (best epoch), null until it ends (and for failed trials). */
  value: number | null;
  /** Per-epoch metric, epoch 1 first. */
  values: number[];
  reason: string | null;
  worker: string | null;
  /** How many times the trial was claimed (a re-run after a dead worker counts again). */
  attempts: number;
  started: number | null;
  finished: number | null;
  /** Seconds the finishing attempt took. */
  seconds: number | null;
  heartbeat: number | null;
  modelPath: string | null;
}

/** A trial's metric after one epoch. */
export interface EpochValue {
  epoch: number;
  value: number;
}

/** The end of a trial. */
export interface TrialOutcome {
  state: 'complete' | 'pruned' | 'failed';
  value?: number | null;
  reason?: string | null;
  modelPath?: string | null;
  seconds?: number | null;
}

/**
 * Where a study lives. Every state change is one transaction; a trial's result is written once: finish()
 * on a trial already complete, pruned or failed changes nothing and returns false (so at-least-once
 * delivery of a trial to workers still records exactly one result).
 */
export interface SearchStorage {
  readonly kind: string;
  /** Create the study, or return it when it exists with the same definition; refuse a different one. */
  createStudy(def: StudyDef, direction: Direction): Promise<StudyRecord>;
  getStudy(name: string): Promise<StudyRecord | null>;
  listStudies(): Promise<StudyRecord[]>;
  /** Add queued trials; numbers already present are left as they are (idempotent). */
  enqueue(study: number, trials: { number: number; params: Params; rejections: Rejections }[]): Promise<void>;
  /** Take the next queued trial for `worker` (state running, attempts + 1), or null when none is queued. */
  claim(study: number, worker: string): Promise<TrialRecord | null>;
  heartbeat(trial: number, worker: string): Promise<void>;
  /**
   * Record the metric after each epoch of `values` (replacing values of an earlier attempt, the last of an epoch
   * given twice) while the trial is open: run by `worker` when given, otherwise queued or running. False when it
   * is not (it ended, or was taken from a worker that missed its heartbeats). With `beat`, the same write is the
   * worker's heartbeat.
   */
  report(trial: number, values: EpochValue[], worker?: string, beat?: boolean): Promise<boolean>;
  /**
   * End the trial while it is open (as for report), with `values` not reported yet (after an epoch given twice, its
   * last); false, writing nothing, when it is not.
   */
  finish(trial: number, outcome: TrialOutcome, values?: EpochValue[], worker?: string): Promise<boolean>;
  /** Give a running trial back to the queue (its worker is stopping); its attempt is not counted as a death. */
  release(trial: number): Promise<void>;
  trials(study: number): Promise<TrialRecord[]>;
  /** How many trials are queued or running: what an idle worker asks, often, without reading the study. */
  countOpen(study: number): Promise<number>;
  /**
   * Running trials whose heartbeat is older than `timeoutMs` (their worker died) go back to the queue;
   * those already claimed `maxAttempts` times are marked failed instead, with the reason.
   */
  requeueStale(study: number, timeoutMs: number, maxAttempts: number): Promise<{ requeued: number; failed: number }>;
  /**
   * Failed trials back to the queue with their values and reason cleared (Optuna's RetryFailedTrialCallback, by
   * hand): for a resumed run after the failure's cause (memory, a killed machine) was dealt with. Returns how many.
   */
  retryFailed(study: number): Promise<number>;
  close(): Promise<void>;
}

/** A study name that exists with a different space, or a study that does not exist. */
export class StudyError extends Error {}

/**
 * What a trial's objective gets: per-epoch reporting (the answer says whether to stop) and a heartbeat. A report is
 * written behind the objective, which waits for the store only when a pruner must read the study; without a pruner
 * it is held for the next heartbeat or the result. A failed write throws from the next report, and a trial found
 * ended elsewhere is told 'prune' on the next.
 */
export interface TrialContext {
  report(epoch: number, value: number): Promise<'continue' | 'prune'>;
  heartbeat(): Promise<void>;
}

/** Runs one trial; returns its metric (and where its model was saved). */
export type TrialObjective = (
  trial: TrialRecord,
  ctx: TrialContext,
) => Promise<{ value: number; modelPath?: string | null }>;

export interface WorkOptions {
  worker: string;
  pruner?: Pruner;
  /** A running trial without a heartbeat for this long is taken as dead (default 300 s). */
  heartbeatTimeoutMs?: number;
  /** Claims of one trial before it is marked failed (default 3). */
  maxAttempts?: number;
  /** Wait between polls when nothing is queued but trials still run (default 500 ms). */
  idleMs?: number;
  /** Stop after this many trials (default: until the study has nothing left). */
  maxTrials?: number;
  /** Asked before each claim and after each epoch: true stops the worker, its running trial back in the queue. */
  stop?: () => boolean;
  /** Called after each trial this worker ends with its result recorded. */
  onTrial?: (t: TrialRecord, outcome: TrialOutcome) => void;
}

/** The keys of a SPACE.json (StudyDef's fields). */
const STUDY_KEYS = ['study', 'objective', 'params', 'seed', 'sampler', 'robust'] as const;
/** The keys of `robust`. */
const ROBUST_KEYS = ['topK', 'groupBy'] as const;
/** The keys of `objective`: the fields trialSettings (objective.ts) reads; add a new one there and here. */
export const OBJECTIVE_KEYS = [
  'model',
  'dataset',
  'data',
  'epochs',
  'batchSize',
  'optimizer',
  'lr',
  'momentum',
  'weightDecay',
  'limit',
  'valSplit',
  'seed',
  'metric',
  'direction',
  'select',
  'sampler',
  'samplerLambda',
  'schedule',
  'l1',
  'patience',
] as const;

/** Check a parsed SPACE.json: its keys, the study name, the objective object and the space. */
export function validateStudyDef(v: unknown): StudyDef {
  const d = v as StudyDef;
  if (!d || typeof d !== 'object' || Array.isArray(d)) throw new SearchSpaceError('SPACE.json must be a JSON object');
  checkKnownKeys(d, STUDY_KEYS, 'top level');
  if (typeof d.study !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(d.study))
    throw new SearchSpaceError('"study" must be a name of letters, digits, ".", "_" and "-" (at most 100)');
  if (!d.objective || typeof d.objective !== 'object') throw new SearchSpaceError('"objective" must be an object');
  checkKnownKeys(d.objective, OBJECTIVE_KEYS, 'objective');
  if (d.robust !== undefined) {
    if (!d.robust || typeof d.robust !== 'object' || Array.isArray(d.robust))
      throw new SearchSpaceError('"robust" must be an object, e.g. {"topK": 5, "groupBy": "N"}');
    checkKnownKeys(d.robust, ROBUST_KEYS, 'robust');
  }
  if (d.objective.direction !== undefined && !['maximize', 'minimize'].includes(d.objective.direction))
    throw new SearchSpaceError(`objective.direction must be maximize or minimize, got ${d.objective.direction}`);
  if (d.sampler !== undefined && !['random', 'grid'].includes(d.sampler))
    throw new SearchSpaceError(`"sampler" must be random or grid, got ${JSON.stringify(d.sampler)}`);
  if (d.seed !== undefined && !(Number.isInteger(d.seed) && d.seed >= 0))
    throw new SearchSpaceError(`"seed" must be an integer ≥ 0, got ${JSON.stringify(d.seed)}`);
  validateSpace(d.params);
  return d;
}

/** Thrown through a trial's objective when its worker is asked to stop (see WorkOptions.stop). */
class WorkerStopping extends Error {}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/**
 * One turn of the event loop, through its poll phase, so signals get delivered: setImmediate where it exists, not
 * setTimeout(0), which Node.js clamps to 1 ms — with 10 reports a trial that was most of its store overhead.
 */
const turn = () => new Promise<void>((r) => (typeof setImmediate === 'function' ? setImmediate(r) : setTimeout(r, 0)));

/**
 * The draws of trials 0..n−1 not in `skip`. Random: trial i is drawn from (seed, i); draws `check` refuses
 * are redrawn (reasons kept; a SearchSpaceError after too many). Grid: trial i is the i-th valid grid point,
 * and a grid smaller than n gives fewer trials (`total`).
 */
export function drawTrials(
  def: StudyDef,
  n: number,
  check?: DrawCheck,
  skip: Set<number> = new Set(),
): { trials: { number: number; params: Params; rejections: Rejections }[]; total: number } {
  const trials: { number: number; params: Params; rejections: Rejections }[] = [];
  if (def.sampler === 'grid') {
    let i = 0;
    for (const p of gridPoints(def.params, check)) {
      if (i >= n) break;
      if (!skip.has(i)) trials.push({ number: i, params: p, rejections: {} });
      i++;
    }
    return { trials, total: i };
  }
  for (let i = 0; i < n; i++)
    if (!skip.has(i)) trials.push({ number: i, ...sampleParams(def.params, def.seed ?? 1, i, check) });
  return { trials, total: n };
}

/** Per-epoch curves of the trials, as the pruners read them. */
export function curves(trials: TrialRecord[]): TrialCurve[] {
  return trials.map((t) => ({ number: t.number, state: t.state, values: t.values }));
}

/**
 * A study in a storage. `Study.create` records the definition (refusing a different one under the same
 * name); `enqueue` adds trials 0..n−1 that are missing, each drawn from (seed, number) so a resumed study
 * draws the same parameters; `work` runs queued trials until none is left.
 *
 * ```ts
 * const study = await Study.create(storage, def);
 * await study.enqueue(20, check);
 * await study.work(objective, { worker: 'w1', pruner: medianPruner() });
 * ```
 */
export class Study {
  readonly record: StudyRecord;

  private constructor(
    readonly storage: SearchStorage,
    record: StudyRecord,
  ) {
    // The direction follows from the stored definition: a study created before loss metrics defaulted to minimize
    // has 'maximize' in its row, and must rank as its trials choose their epochs.
    this.record = { ...record, direction: objectiveDirection(record.def.objective) };
  }

  static async create(storage: SearchStorage, def: StudyDef): Promise<Study> {
    validateStudyDef(def);
    return new Study(storage, await storage.createStudy(def, objectiveDirection(def.objective)));
  }

  /** The existing study `name`; a StudyError names the studies that exist when it does not. */
  static async open(storage: SearchStorage, name: string): Promise<Study> {
    const r = await storage.getStudy(name);
    if (r) return new Study(storage, r);
    const names = (await storage.listStudies()).map((s) => s.name);
    throw new StudyError(
      `study "${name}" does not exist in ${storage.kind} storage` +
        (names.length ? ` (it holds: ${names.join(', ')})` : ' (it holds no study)') +
        '; create it with `frugal search SPACE.json --storage …` first',
    );
  }

  get def(): StudyDef {
    return this.record.def;
  }
  get direction(): Direction {
    return this.record.direction;
  }
  /** Whether two definitions are the same study (canonical JSON of the whole SPACE.json). */
  static sameDef(a: StudyDef, b: StudyDef): boolean {
    return canonicalJson(a) === canonicalJson(b);
  }

  /**
   * Make trials 0..n−1 exist (queued when new): the draws of drawTrials, all made before anything is written,
   * so a space with no valid draw leaves the store as it was. Returns how many trials the study now has.
   */
  async enqueue(n: number, check?: DrawCheck): Promise<number> {
    const have = new Set((await this.storage.trials(this.record.id)).map((t) => t.number));
    const draws = drawTrials(this.def, n, check, have);
    await this.storage.enqueue(this.record.id, draws.trials);
    return Math.max(draws.total, have.size);
  }

  trials(): Promise<TrialRecord[]> {
    return this.storage.trials(this.record.id);
  }

  /**
   * Run queued trials until none is queued or running (or `maxTrials`). Before a claim, at most every tenth of
   * the heartbeat timeout, trials of dead workers (stale heartbeat) are re-queued. A trial that throws is marked
   * failed with the message; one the pruner stops is marked pruned with its best value so far.
   */
  async work(objective: TrialObjective, o: WorkOptions): Promise<{ ran: number }> {
    const pruner = o.pruner ?? noPruner;
    const timeout = o.heartbeatTimeoutMs ?? 300_000,
      maxAttempts = o.maxAttempts ?? 3;
    const dir = this.direction;
    let ran = 0;
    // Dead workers are looked for at most every tenth of the timeout, not before every claim: on a shared store
    // that query was a round trip per trial, and a dead worker's trial waits the timeout anyway.
    let lastStaleCheck = -Infinity;
    while ((o.maxTrials === undefined || ran < o.maxTrials) && !o.stop?.()) {
      if (Date.now() - lastStaleCheck >= timeout / 10) {
        await this.storage.requeueStale(this.record.id, timeout, maxAttempts);
        lastStaleCheck = Date.now();
      }
      const t = await this.storage.claim(this.record.id, o.worker);
      if (!t) {
        if ((await this.storage.countOpen(this.record.id)) === 0) break;
        await sleep(o.idleMs ?? 500);
        continue;
      }
      const t0 = Date.now();
      let lastBeat = t0, // the claim was one
        pruned = false;
      const values: number[] = [];
      const writer = new ReportWriter(this.storage, t.id, o.worker);
      const ctx: TrialContext = {
        report: async (epoch, value) => {
          values[epoch - 1] = value;
          // The report is the heartbeat when the last one is a tenth of the timeout old: a heartbeat per report
          // rewrote the trial's row ten times a trial on a shared store.
          const beat = Date.now() - lastBeat >= timeout / 10;
          // Without a pruner nobody reads a running trial's values: they wait for the next heartbeat or the result
          // (a trial re-run after its worker died reports again from epoch 1), one write fewer a trial.
          writer.add(epoch, value, beat, pruner === noPruner);
          if (beat) lastBeat = Date.now();
          // A turn of the event loop: the write goes out before the objective trains on (a pool hands over its
          // connection on the next tick, which a synchronous epoch would hold back by a whole epoch), and signals
          // get delivered.
          await turn();
          if (o.stop?.()) throw new WorkerStopping();
          if (pruner !== noPruner) {
            await writer.flush();
            const self = { number: t.number, state: 'running', values: values.slice(0, epoch) };
            if (pruner.shouldPrune(self, epoch, curves(await this.trials()), dir)) pruned = true;
          }
          return pruned || writer.ended ? 'prune' : 'continue';
        },
        heartbeat: () => this.storage.heartbeat(t.id, o.worker),
      };
      let outcome: TrialOutcome;
      try {
        const r = await objective(t, ctx);
        outcome = { state: pruned ? 'pruned' : 'complete', value: r.value, modelPath: r.modelPath ?? null };
      } catch (e) {
        if (e instanceof WorkerStopping) {
          await writer.flush().catch(() => {});
          await this.storage.release(t.id);
          break;
        }
        outcome = { state: 'failed', reason: (e as Error).message.split('\n')[0], value: null };
      }
      const rest = await writer.settle();
      outcome.seconds = (Date.now() - t0) / 1000;
      // The values still queued go with the result: one write at the end of a trial, not two. Nothing is written
      // when the trial was taken from this worker (it missed its heartbeats).
      if (await this.storage.finish(t.id, outcome, rest, o.worker)) o.onTrial?.(t, outcome);
      ran++;
    }
    return { ran };
  }
}

/** Counts of a study's trials by state. */
export function stateCounts(trials: TrialRecord[]): Record<TrialState, number> {
  const c = Object.fromEntries(TRIAL_STATES.map((s) => [s, 0])) as Record<TrialState, number>;
  for (const t of trials) c[t.state]++;
  return c;
}

/** The best complete trial (ties: the lower number), or undefined. */
export function bestTrial(trials: TrialRecord[], direction: Direction): TrialRecord | undefined {
  let best: TrialRecord | undefined;
  for (const t of trials) {
    if (t.state !== 'complete' || t.value === null) continue;
    if (!best || (direction === 'maximize' ? t.value > best.value! : t.value < best.value!)) best = t;
  }
  return best;
}
