// The objective of a trial: fill a model spec template with the trial's parameters, train it with the
// options of `frugal train`, and report a validation metric after every epoch. Datasets and built-in
// model families are looked up by name, so techniques (e.g. the ECG data of spec 09) register their own.
import { buildModel, validateSpec, FASHION_MNIST_STATS, type ModelSpec } from '../nn/spec.js';
import type { LayerSpec } from '../nn/module.js';
import { Adam, AdamW, SGD, paramGroups, type Optimizer } from '../optim/index.js';
import { fit, type EpochLog } from '../train/fit.js';
import { balancedWeights, weightedSampler } from '../data/sampler.js';
import { scheduleByName } from '../optim/schedule.js';
import { SAMPLERS, samplerByName, type SamplerName } from '../techniques/sampling/by-name.js';
import { kfScorer, lossScorer } from '../techniques/sampling/kf.js';
import { proximalL1 } from '../techniques/prune/l1.js';
import { trainValSplit, subset, type ImageDataset } from '../data/dataset.js';
import type { Sequential } from '../nn/layers.js';
import type { Tensor } from '../core/tensor.js';
import { SearchSpaceError, type DrawCheck, type ParamValue, type Params } from './space.js';
import type { Direction } from './robust.js';
import { objectiveDirection, objectiveMetric, type ObjectiveDef } from './study.js';

/** What a dataset gives a trial: training rows and, optionally, its own validation rows. */
export interface SearchData {
  train: ImageDataset;
  validation?: ImageDataset;
  source?: string;
}

/** A dataset by name: its sample shape and class count (known without loading), and a loader. */
export interface SearchDataset {
  input: number[];
  classes: number;
  /** `options` is the objective's `data` object (e.g. split sizes of a generated dataset), or undefined. */
  load(o: { limit: number; dataDir?: string; options?: Record<string, unknown> }): SearchData;
}

/** A built-in model family by name: the spec for a trial's parameters and the data's shape. */
export type SearchModel = (params: Params, data: { input: number[]; classes: number }) => ModelSpec;

const datasets = new Map<string, SearchDataset>();
const models = new Map<string, SearchModel>();

/** Make `objective.dataset: NAME` available to searches (fashion-mnist is registered by the node part). */
export function registerSearchDataset(name: string, d: SearchDataset): void {
  datasets.set(name, d);
}
/** Make `objective.model: NAME` available to searches (cnn and mlp are built in). */
export function registerSearchModel(name: string, m: SearchModel): void {
  models.set(name, m);
}
export function searchDatasetNames(): string[] {
  return [...datasets.keys()].sort();
}

/** Datasets beyond the registered names (Node: `frugal train --dataset`'s kinds, e.g. digits, csv:FILE). */
let fallback: { find: (name: string) => SearchDataset | undefined; kinds: () => string[] } | undefined;
export function registerSearchDatasetFallback(f: typeof fallback): void {
  fallback = f;
}

function dataset(name: unknown): SearchDataset {
  const n = String(name ?? 'fashion-mnist');
  const d = datasets.get(n) ?? fallback?.find(n);
  if (!d) {
    const known = [...searchDatasetNames(), ...(fallback?.kinds() ?? [])];
    throw new SearchSpaceError(
      `objective.dataset ${JSON.stringify(name)} is not known; known: ${[...new Set(known)].join(', ') || 'none'}`,
    );
  }
  return d;
}

const act = (p: Params): LayerSpec => ({ type: String(p.act ?? 'relu') });
const int = (p: Params, k: string, d: number): number => {
  const v = p[k] ?? d;
  if (!(typeof v === 'number' && Number.isInteger(v) && v >= 1))
    throw new Error(`parameter "${k}" must be an integer ≥ 1 for this model, got ${JSON.stringify(v)}`);
  return v;
};

// mlp: `depth` hidden layers of `width` units (defaults 2 and 128); cnn: two 3×3 convs of `filters` and
// 2·`filters` channels, each pooled, then a hidden layer of `width` units. Both use `act` (default relu).
registerSearchModel('mlp', (p, d) => {
  const width = int(p, 'width', 128),
    depth = int(p, 'depth', 2);
  const inF = d.input.reduce((a, b) => a * b, 1);
  const layers: LayerSpec[] = [];
  for (let i = 0; i < depth; i++) layers.push({ type: 'linear', in: i ? width : inF, out: width }, act(p));
  return {
    format: 'frugal-model',
    version: 1,
    input: [inF],
    layers: [...layers, { type: 'linear', in: width, out: d.classes }],
  };
});
registerSearchModel('cnn', (p, d) => {
  const f = int(p, 'filters', 16),
    width = int(p, 'width', 128);
  const [c, h, w] = d.input;
  const side = (n: number) => Math.floor((Math.floor((n - 2) / 2) - 2) / 2);
  return {
    format: 'frugal-model',
    version: 1,
    input: d.input,
    layers: [
      { type: 'normalize', mean: FASHION_MNIST_STATS.mean, std: FASHION_MNIST_STATS.std },
      { type: 'conv2d', in: c, out: f, kernel: 3 },
      act(p),
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', in: f, out: 2 * f, kernel: 3 },
      act(p),
      { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', in: 2 * f * side(h) * side(w), out: width },
      act(p),
      { type: 'linear', in: width, out: d.classes },
    ],
  };
});

/** The value of `{"$param": NAME}` in a `$repeat` over GROUP at index i (or outside one when i < 0). */
function lookup(p: Params, ph: Record<string, unknown>, group: string | null, i: number): ParamValue {
  let name = String(ph.$param);
  if (group !== null) {
    const at = ph.block === 'prev' ? i - 1 : i;
    const key = `${group}.${at}.${name}`;
    if (at < 0 || !(key in p)) {
      if ('else' in ph) return ph.else as ParamValue;
    } else return p[key];
  }
  // GROUP.last.NAME: the member of the group's last block.
  const m = /^(.+)\.last\.(.+)$/.exec(name);
  if (m) {
    let n = -1;
    while (`${m[1]}.${n + 1}.${m[2]}` in p) n++;
    name = `${m[1]}.${n}.${m[2]}`;
  }
  if (name in p) return p[name];
  if ('default' in ph) return ph.default as ParamValue;
  throw new SearchSpaceError(
    `placeholder {"$param": "${ph.$param}"} names no drawn parameter; drawn: ${Object.keys(p).join(', ') || 'none'}`,
  );
}

/**
 * Fill a template: `{"$param": "lr"}` becomes the trial's lr (`"default"` when it is not drawn, e.g. a
 * conditional parameter); in an array, `{"$repeat": "blocks", "each": [...]}` becomes `each` once per
 * drawn block, where `{"$param": "filters"}` is that block's filters and `{"$param": "filters", "block":
 * "prev", "else": 1}` the previous block's (1 for the first); `{"$param": "blocks.last.filters"}` is the
 * last block's.
 */
export function fillTemplate(t: unknown, p: Params, group: string | null = null, i = -1): unknown {
  if (Array.isArray(t)) {
    const out: unknown[] = [];
    for (const x of t) {
      if (x && typeof x === 'object' && '$repeat' in x) {
        const g = String((x as Record<string, unknown>).$repeat);
        const each = (x as Record<string, unknown>).each;
        if (!Array.isArray(each)) throw new SearchSpaceError(`{"$repeat": "${g}"} needs an "each" array`);
        for (let k = 0; Object.keys(p).some((n) => n.startsWith(`${g}.${k}.`)); k++)
          out.push(...(fillTemplate(each, p, g, k) as unknown[]));
      } else out.push(fillTemplate(x, p, group, i));
    }
    return out;
  }
  if (t && typeof t === 'object') {
    if ('$param' in t) return lookup(p, t as Record<string, unknown>, group, i);
    return Object.fromEntries(Object.entries(t).map(([k, v]) => [k, fillTemplate(v, p, group, i)]));
  }
  return t;
}

/** The objective's settings for one trial, placeholders filled. */
export interface TrialSettings {
  spec: ModelSpec;
  dataset: string;
  epochs: number;
  batchSize: number;
  optimizer: 'adam' | 'adamw' | 'sgd';
  lr: number;
  momentum: number;
  weightDecay: number;
  limit: number;
  valSplit: number;
  seed: number;
  metric: string;
  direction: Direction;
  select: 'best' | 'last';
  /**
   * uniform (shuffled epochs), balanced (rows drawn ∝ 1 / class count, with replacement), or one of `frugal
   * train --sampler`'s importance samplers (obs, kf, as, ras, ras-kl, ras-floor; spec 10) with `samplerLambda`.
   */
  sampler: 'balanced' | SamplerName;
  /** λ of the ras samplers (default 0.2). */
  samplerLambda: number;
  /** The learning-rate schedule over the trial's epochs, as `frugal train --schedule`. */
  schedule: 'none' | 'cosine' | 'step';
  /** Proximal L1 strength after each step (0: none), as `frugal train --l1`. */
  l1: number;
  /** Stop after this many epochs without a better metric (0: never). */
  patience: number;
  /** The dataset's options (objective.data). */
  data?: Record<string, unknown>;
}

const METRICS = ['valAccuracy', 'valBalancedAccuracy', 'valLoss', 'accuracy', 'loss'] as const;

function field(o: Record<string, unknown>, k: string, d: number, check: (v: number) => boolean, want: string): number {
  const v = o[k] ?? d;
  if (typeof v !== 'number' || !check(v))
    throw new SearchSpaceError(`objective.${k} must be ${want}, got ${JSON.stringify(v)}`);
  return v;
}

/**
 * Resolve the objective for a trial's parameters (the spec filled and checked against core/limits.ts). A field
 * read here is listed in OBJECTIVE_KEYS (study.ts), which refuses every other key.
 */
export function trialSettings(objective: ObjectiveDef, params: Params): TrialSettings {
  const o = fillTemplate({ ...objective, model: undefined }, params) as Record<string, unknown>;
  const ds = dataset(o.dataset);
  const m = objective.model ?? 'cnn';
  let spec: ModelSpec;
  if (typeof m === 'string') {
    const build = models.get(m);
    if (!build)
      throw new SearchSpaceError(`objective.model "${m}" is not known; use ${[...models.keys()].join(', ')} or a spec`);
    spec = build(params, ds);
  } else spec = fillTemplate(m, params) as ModelSpec;
  validateSpec(spec);
  const optimizer = String(o.optimizer ?? 'adam');
  if (!['adam', 'adamw', 'sgd'].includes(optimizer))
    throw new SearchSpaceError(`objective.optimizer must be adam, adamw or sgd, got ${JSON.stringify(optimizer)}`);
  const metric = objectiveMetric(o);
  if (!(METRICS as readonly string[]).includes(metric))
    throw new SearchSpaceError(`objective.metric must be one of ${METRICS.join(', ')}, got ${JSON.stringify(metric)}`);
  const pos = (v: number) => Number.isInteger(v) && v >= 1;
  const sampler = String(o.sampler ?? 'uniform');
  const samplers = ['balanced', ...SAMPLERS];
  if (!samplers.includes(sampler))
    throw new SearchSpaceError(
      `objective.sampler must be one of ${samplers.join(', ')}, got ${JSON.stringify(o.sampler)}`,
    );
  const schedule = String(o.schedule ?? 'none');
  if (!['none', 'cosine', 'step'].includes(schedule))
    throw new SearchSpaceError(`objective.schedule must be none, cosine or step, got ${JSON.stringify(o.schedule)}`);
  if (o.data !== undefined && (!o.data || typeof o.data !== 'object' || Array.isArray(o.data)))
    throw new SearchSpaceError("objective.data must be an object of the dataset's options");
  return {
    spec,
    dataset: String(o.dataset ?? 'fashion-mnist'),
    epochs: field(o, 'epochs', 3, pos, 'an integer ≥ 1'),
    batchSize: field(o, 'batchSize', 64, pos, 'an integer ≥ 1'),
    optimizer: optimizer as TrialSettings['optimizer'],
    lr: field(o, 'lr', optimizer === 'sgd' ? 0.01 : 1e-3, (v) => v > 0 && Number.isFinite(v), 'a number > 0'),
    momentum: field(o, 'momentum', optimizer === 'sgd' ? 0.9 : 0, (v) => v >= 0 && v < 1, 'in [0, 1)'),
    weightDecay: field(o, 'weightDecay', 0, (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0'),
    limit: field(o, 'limit', 0, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0 (0: all)'),
    valSplit: field(o, 'valSplit', 0.2, (v) => v > 0 && v < 1, 'in (0, 1)'),
    seed: field(o, 'seed', 1, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0'),
    metric,
    direction: objectiveDirection(o),
    select: o.select === 'last' ? 'last' : 'best',
    sampler: sampler as TrialSettings['sampler'],
    samplerLambda: field(o, 'samplerLambda', 0.2, (v) => v >= 0 && v <= 1, 'in [0, 1]'),
    schedule: schedule as TrialSettings['schedule'],
    l1: field(o, 'l1', 0, (v) => v >= 0 && Number.isFinite(v), 'a number ≥ 0'),
    patience: field(o, 'patience', 0, (v) => Number.isInteger(v) && v >= 0, 'an integer ≥ 0 (0: no early stop)'),
    ...(o.data ? { data: o.data as Record<string, unknown> } : {}),
  };
}

/**
 * A draw check for sampleParams: a draw whose filled spec is invalid (e.g. length ≤ 0, a layer that does not
 * fit its input) is refused with why. It builds the model once (a forward pass of two samples), far cheaper
 * than the training it saves.
 */
export function objectiveCheck(objective: ObjectiveDef): DrawCheck {
  return (p) => {
    try {
      buildModel(trialSettings(objective, p).spec);
      return null;
    } catch (e) {
      if (e instanceof SearchSpaceError && /not known|must be one of|objective\./.test(e.message)) throw e;
      return (e as Error).message
        .split('\n')[0]
        .replace(/\d+(\.\d+)?/g, 'N')
        .slice(0, 200);
    }
  };
}

const cache = new Map<string, { train: ImageDataset; validation: ImageDataset; source?: string }>();

/** The training and validation rows of a trial (loaded once per process; the split is seeded by `seed`). */
export function trialData(s: TrialSettings, dataDir?: string): { train: ImageDataset; validation: ImageDataset } {
  const key = JSON.stringify([s.dataset, s.limit, s.valSplit, dataDir ?? '', s.data ?? null]);
  let d = cache.get(key);
  if (!d) {
    const raw = dataset(s.dataset).load({ limit: s.limit, dataDir, options: s.data });
    let train = raw.train;
    if (s.limit && train.count > s.limit)
      train = subset(
        train,
        Array.from({ length: s.limit }, (_, i) => i),
      );
    // A fixed split (seed 1 of the data, not the trial's): every trial is judged on the same rows.
    const split = raw.validation ? { train, val: raw.validation } : trainValSplit(train, s.valSplit, 1);
    d = { train: split.train, validation: split.val, source: raw.source };
    cache.set(key, d);
  }
  return d;
}

function metricOf(log: EpochLog, metric: string): number {
  const v = (log as unknown as Record<string, number | undefined>)[metric];
  if (typeof v !== 'number') throw new Error(`epoch ${log.epoch} has no ${metric}`);
  return v;
}

/** What a trial's training gave. */
export interface ObjectiveResult {
  /** The metric of the selected epoch (best or last). */
  value: number;
  epoch: number;
  epochsRun: number;
  pruned: boolean;
  values: number[];
  spec: ModelSpec;
  /** The model, with the selected epoch's weights. */
  model: Sequential;
  settings: TrialSettings;
}

/**
 * Train one trial: build the filled spec (seeded by objective.seed, or `seed`), train epoch by epoch
 * (each epoch resumes the previous from an in-memory checkpoint, so the awaits between epochs — reports,
 * heartbeats, pruning — leave training exactly as one uninterrupted fit), report the metric after each
 * epoch, stop when `report` answers 'prune' (or after `patience` epochs without a better one). The value
 * is the best epoch's metric (`select: "last"`: the last's), and the model keeps that epoch's weights (spec 09:
 * best-BAC checkpointing). `sampler: "balanced"` draws rows ∝ 1 / class count (balancedWeights).
 */
export async function runObjective(
  objective: ObjectiveDef,
  params: Params,
  o: { seed?: number; dataDir?: string; report?: (epoch: number, value: number) => Promise<'continue' | 'prune'> } = {},
): Promise<ObjectiveResult> {
  const s = trialSettings(objective, params);
  if (o.seed !== undefined) s.seed = o.seed;
  const { train, validation } = trialData(s, o.dataDir);
  const model = buildModel(s.spec, s.seed);
  const groups = paramGroups(model, s.optimizer, s.lr);
  const optimizer: Optimizer =
    s.optimizer === 'sgd'
      ? new SGD(groups, { lr: s.lr, momentum: s.momentum, weightDecay: s.weightDecay })
      : s.optimizer === 'adamw'
        ? new AdamW(groups, { lr: s.lr, weightDecay: s.weightDecay || 0.01 })
        : new Adam(groups, { lr: s.lr, weightDecay: s.weightDecay });
  try {
    return await trainTrial(s, train, validation, model, optimizer, o.report);
  } catch (e) {
    model.dispose();
    throw e;
  } finally {
    // A search trains model after model in one process: memory goes back now, not when collected.
    optimizer.dispose();
  }
}

async function trainTrial(
  s: TrialSettings,
  train: ImageDataset,
  validation: ImageDataset,
  model: Sequential,
  optimizer: Optimizer,
  report?: (epoch: number, value: number) => Promise<'continue' | 'prune'>,
): Promise<ObjectiveResult> {
  let bytes: Uint8Array | null = null;
  const checkpoint = { save: (b: Uint8Array) => void (bytes = b), load: () => bytes };
  const values: number[] = [];
  const sign = s.direction === 'maximize' ? 1 : -1;
  let bestEpoch = 0,
    bestState: Record<string, Tensor> | null = null,
    pruned = false;
  // Made once: the adaptive samplers learn from epoch to epoch (each epoch's fit resumes the previous).
  const sampler =
    s.sampler === 'balanced'
      ? weightedSampler(balancedWeights(train), { seed: s.seed })
      : samplerByName(s.sampler, {
          seed: s.seed,
          strata: train.labels,
          lambda: s.samplerLambda,
          // Only the samplers that score rows get a scorer.
          score: s.sampler === 'kf' ? kfScorer(model, train, { shape: s.spec.input }) : undefined,
          lossScore: s.sampler === 'obs' ? lossScorer(model, train, { shape: s.spec.input }) : undefined,
        });
  const schedule = scheduleByName(s.schedule, s.lr, s.epochs);
  const callbacks = s.l1 > 0 ? [proximalL1(model, { lambda: s.l1, optimizer })] : [];
  for (let e = 1; e <= s.epochs; e++) {
    const r = fit(model, {
      train,
      validation,
      epochs: e,
      batchSize: s.batchSize,
      optimizer,
      seed: s.seed,
      inputShape: s.spec.input,
      // Per-epoch draws depend only on (seed, epoch) and the sampler's state: epoch-by-epoch fits draw what one
      // fit would.
      sampler,
      schedule,
      callbacks,
      checkpoint,
      resume: true,
    });
    const v = metricOf(r.history[r.history.length - 1], s.metric);
    values.push(v);
    if (s.select === 'last' || bestEpoch === 0 || sign * (v - values[bestEpoch - 1]) > 0) {
      bestEpoch = e;
      bestState = s.select === 'best' && e < s.epochs ? cloneState(model.stateDict()) : null;
    }
    if (report && (await report(e, v)) === 'prune') {
      pruned = true;
      break;
    }
    if (s.patience > 0 && e - bestEpoch >= s.patience) break;
  }
  if (bestState && bestEpoch !== values.length) model.loadStateDict(bestState);
  return {
    value: values[bestEpoch - 1],
    epoch: bestEpoch,
    epochsRun: values.length,
    pruned,
    values,
    spec: s.spec,
    model,
    settings: s,
  };
}

function cloneState(sd: Record<string, Tensor>): Record<string, Tensor> {
  return Object.fromEntries(Object.entries(sd).map(([k, t]) => [k, t.clone()]));
}
