// frugal search: run a study with K local worker processes (or add trials to a shared one), and the
// subcommands worker, show and export (search-show.ts).
import { existsSync, readFileSync } from 'node:fs';
import {
  Study,
  bestTrial,
  drawTrials,
  forkSearchWorkers,
  objectiveCheck,
  openSearchStorage,
  redactUrl,
  stateCounts,
  validateStudyDef,
  type StudyDef,
  type TrialRecord,
} from '../../node.js';
import { choice, DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import * as sub from './search-show.js';

export const DEFAULT_STORAGE = 'runs/search.db';
const PRUNERS = ['none', 'median', 'asha'] as const;

export const usage = `frugal search SPACE.json --trials N [--workers K] [--storage PATH|URL] [--study NAME]
             [--pruner none|median|asha] [--resume [--retry-failed]] [--models DIR|none] [--data-dir DIR]
             [--heartbeat-timeout S] [--json]
frugal search worker [--storage PATH|URL] [--study NAME] [--pruner none|median|asha] [--models DIR|none]
             [--data-dir DIR] [--heartbeat-timeout S] [--max-trials N] [--json]
frugal search show [STUDY] [--storage PATH|URL] [--top-k K] [--group-by PARAM] [--report DIR] [--json]
frugal search export STUDY [--storage PATH|URL] --format csv|json
frugal search retrain [STUDY] [--storage PATH|URL] [--lrs A,B,…] [--seeds 1,2,3] [--top-k K] [--group-by PARAM]
             [--data-dir DIR] [--json]
  Random (or grid) search of hyperparameters. SPACE.json names the study, the objective (a model spec with
  {"$param": NAME} placeholders, or cnn / mlp; dataset, epochs, batchSize, optimizer, lr, limit, metric,
  direction) and the params (int, float, loguniform, choice, repeat groups, "if" conditions); see
  docs/techniques.md. Trials 0..N-1 are drawn from the study's seed, so --resume (or a second machine) draws
  the same ones; --retry-failed also runs its failed trials again. The study lives in --storage: a SQLite
  file, or postgresql://… shared by workers on many machines (\`frugal search worker --storage URL\` joins
  it; see docs/distributed-search.md). A worker that
  dies is noticed by its missing heartbeat (--heartbeat-timeout, over 1.2 epochs) and its trial is
  re-queued (failed after 3 attempts). --pruner stops poor trials early from their per-epoch metric
  (median stopping rule, or ASHA). show prints the leaderboard and the robust setting (per-parameter
  median of the top k, spec 09); show --report DIR also writes DIR/report.html (leaderboard, each parameter
  against the metric with the robust setting marked, the metric by trial with the best so far; one
  self-contained file) and DIR/report.json. export writes every trial as CSV or JSON to stdout. retrain
  trains each group's robust setting again with the study's objective at each learning rate × seed and
  names the learning rate with the best mean (spec 09's last step).
${defaultsText([
  '--trials none (required)',
  '--workers 1',
  `--storage ${DEFAULT_STORAGE}`,
  '--study the "study" of SPACE.json (worker, show: the only study in --storage)',
  '--pruner none',
  '--models beside the SQLite file (STUDY-models/), runs/search/STUDY/ with PostgreSQL',
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--heartbeat-timeout 300',
  '--max-trials no limit',
  '--top-k 5',
  '--group-by none',
  '--report none (show: no report)',
  '--format none (export requires it)',
  "--lrs the setting's lr ×0.1, ×1, ×10 (retrain)",
  '--seeds 1,2,3 (retrain)',
])}`;

export const WORKER_OPTIONS: Options = {
  storage: { type: 'string' },
  study: { type: 'string' },
  pruner: { type: 'string' },
  models: { type: 'string' },
  'data-dir': { type: 'string' },
  'heartbeat-timeout': { type: 'string' },
};

const options: Options = {
  ...WORKER_OPTIONS,
  trials: { type: 'string' },
  workers: { type: 'string' },
  resume: { type: 'boolean', default: false },
  'retry-failed': { type: 'boolean', default: false },
};

/** Read and check SPACE.json (with --study replacing its name). */
export function readSpace(path: string, study?: string): StudyDef {
  if (!path.endsWith('.json')) throw new UsageError(`SPACE must be a .json file, got ${JSON.stringify(path)}`);
  if (!existsSync(path)) throw new Error(`search space file ${path} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new Error(`search space ${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (study !== undefined && raw && typeof raw === 'object') (raw as StudyDef).study = study;
  try {
    return validateStudyDef(raw);
  } catch (e) {
    throw new Error(`search space ${path}: ${(e as Error).message}`);
  }
}

/** The flags a worker process gets from the command that forks it. */
function workerArgs(values: Record<string, unknown>, storage: string, study: string): string[] {
  const a = ['--storage', storage, '--study', study];
  for (const k of ['pruner', 'models', 'data-dir', 'heartbeat-timeout'])
    if (values[k] !== undefined) a.push(`--${k}`, String(values[k]));
  return a;
}

/** Seconds as M:SS (rounded to the second first: 119.6 s is 2:00, not 1:60). */
export function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  const r = Math.round(s);
  return `${Math.floor(r / 60)}:${String(r % 60).padStart(2, '0')}`;
}

/** One progress line: trials done/running/failed, best so far, ETA from the pace of this run. */
function progressLine(ts: TrialRecord[], study: Study, t0: number, doneAtStart: number): string {
  const c = stateCounts(ts);
  const done = c.complete + c.pruned + c.failed;
  const best = bestTrial(ts, study.direction);
  const rate = (done - doneAtStart) / ((Date.now() - t0) / 1000);
  const eta = rate > 0 ? (c.queued + c.running) / rate : NaN;
  const b = best ? `best ${best.value!.toFixed(4)} (trial ${best.number})` : 'best -';
  return (
    `search ${study.record.name}: ${done}/${ts.length} done (${c.complete} complete, ${c.pruned} pruned, ` +
    `${c.failed} failed), ${c.running} running, ${b}, ETA ${clock(eta)}`
  );
}

export async function run(argv: string[]): Promise<number> {
  const head = argv[0];
  if (head === 'worker') return sub.worker(argv.slice(1));
  if (head === 'show') return sub.show(argv.slice(1));
  if (head === 'export') return sub.exportTrials(argv.slice(1));
  if (head === 'retrain') return (await import('./search-retrain.js')).retrain(argv.slice(1));
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const json = !!values.json;
  if (values.trials === undefined) throw new UsageError('--trials N is required (how many trials the study has)');
  const trials = num(values, 'trials', 0, { int: true, min: 1 });
  const workers = num(values, 'workers', 1, { int: true, min: 1, max: 256 });
  choice(values, 'pruner', PRUNERS, 'none');
  if (values['heartbeat-timeout'] !== undefined) num(values, 'heartbeat-timeout', 300, { min: 0.1 });
  if (values['retry-failed'] && !values.resume)
    throw new UsageError('--retry-failed works on an existing study: add --resume');
  const def = readSpace(positionals[0], values.study as string | undefined);
  const where = (values.storage as string | undefined) ?? DEFAULT_STORAGE;
  const check = objectiveCheck(def.objective);
  // Every draw before anything is written: a space without valid draws leaves the store untouched.
  drawTrials(def, trials, check);
  const storage = await openSearchStorage(where);
  let study: Study;
  try {
    const existing = await storage.getStudy(def.study);
    // Refuses a different space under the same name first (no --resume would help there).
    study = await Study.create(storage, def);
    if (existing && !values.resume) {
      const n = (await storage.trials(existing.id)).length;
      if (n > 0)
        throw new Error(
          `study "${def.study}" already has ${n} trials in ${redactUrl(where)}; add --resume to continue it ` +
            '(or give --study another name)',
        );
    }
    await study.enqueue(trials, check);
    if (values['retry-failed']) {
      const n = await storage.retryFailed(study.record.id);
      if (!json) process.stderr.write(`frugal search: ${n} failed trial(s) back in the queue\n`);
    }
  } catch (e) {
    await storage.close();
    throw e;
  }
  const t0 = Date.now();
  const doneAtStart = (await study.trials()).filter((t) => !['queued', 'running'].includes(t.state)).length;
  let last = '';
  const tty = !!process.stderr.isTTY;
  const tick = setInterval(async () => {
    const line = progressLine(await study.trials(), study, t0, doneAtStart);
    if (line === last) return;
    last = line;
    process.stderr.write(tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }, 1000);
  // Ctrl-C/SIGTERM: the workers (told by forkSearchWorkers) give their running trials back; this process then
  // says so and exits 130 like the other long commands.
  let interrupted = false;
  const mark = () => (interrupted = true);
  process.on('SIGINT', mark);
  process.on('SIGTERM', mark);
  const { errors } = await forkSearchWorkers(workerArgs(values, where, def.study), workers).finally(() => {
    process.off('SIGINT', mark);
    process.off('SIGTERM', mark);
  });
  clearInterval(tick);
  const ts = await study.trials();
  await storage.close();
  const final = progressLine(ts, study, t0, doneAtStart);
  if (!json) process.stderr.write(tty ? `\r\x1b[2K${final}\n` : `${final}\n`);
  const c = stateCounts(ts);
  if (interrupted) {
    process.stderr.write(
      `frugal search: interrupted with ${c.complete + c.pruned + c.failed} of ${ts.length} trials finished ` +
        `(${c.queued + c.running} back in the queue); continue with --resume\n`,
    );
    return 130;
  }
  if (c.queued + c.running > 0) {
    throw new Error(
      `${c.queued + c.running} trials are not finished (${errors[0] ?? 'workers stopped'}); ` +
        'continue with the same command and --resume',
    );
  }
  for (const e of errors) note(`frugal search: warning: ${e}`);
  const summary = sub.summarise(study.record, ts, { topK: def.robust?.topK ?? 5, groupBy: def.robust?.groupBy });
  emit(
    json,
    { command: 'search', storage: redactUrl(where), workers, seconds: (Date.now() - t0) / 1000, ...summary },
    sub.formatSummary(summary),
  );
  return 0;
}
