// Option groups shared by the commands: the data flags and the training flags are declared here
// once, with their parsing, so `train`, `prune`, `circulant` (and `pack`, for the data) read the
// same flag the same way. A command picks the flags of a group it takes by name.
import {
  Adam,
  LIMITS,
  AdamW,
  SGD,
  SAMPLERS,
  datasetKinds,
  type DatasetOptions,
  paramGroups,
  scheduleByName,
  type Module,
  type Optimizer,
  type SamplerName,
  type Schedule,
  type Tensor,
} from '../node.js';
import { choice, note, num, UsageError, type Options } from './args.js';

interface Flag {
  option: Options[string];
  usage: string;
}

/** Where the images come from. */
export const DATA = {
  dataset: {
    option: { type: 'string' },
    usage: '--dataset fashion-mnist|ecg-synthetic|idx:DIR|csv:FILE|folder:DIR|digits',
  },
  'data-dir': { option: { type: 'string' }, usage: '--data-dir DIR' },
  'csv-header': { option: { type: 'string' }, usage: '--csv-header auto|yes|no' },
  'label-column': { option: { type: 'string' }, usage: '--label-column K' },
  limit: { option: { type: 'string' }, usage: '--limit N' },
} satisfies Record<string, Flag>;

/** How a model is trained (or fine-tuned). */
export const TRAINING = {
  epochs: { option: { type: 'string' }, usage: '--epochs N' },
  'batch-size': { option: { type: 'string' }, usage: '--batch-size B' },
  optimizer: { option: { type: 'string' }, usage: '--optimizer OPT' },
  lr: { option: { type: 'string' }, usage: '--lr X' },
  momentum: { option: { type: 'string' }, usage: '--momentum M' },
  'weight-decay': { option: { type: 'string' }, usage: '--weight-decay W' },
  schedule: { option: { type: 'string' }, usage: '--schedule none|cosine|step' },
  'val-split': { option: { type: 'string' }, usage: '--val-split F' },
  'early-stopping': { option: { type: 'string' }, usage: '--early-stopping PATIENCE' },
  seed: { option: { type: 'string' }, usage: '--seed S' },
  resume: { option: { type: 'boolean', default: false }, usage: '--resume' },
} satisfies Record<string, Flag>;

/** Which rows form each mini-batch (spec 10): the sampler and RAS's λ. */
export const SAMPLING = {
  sampler: { option: { type: 'string' }, usage: `--sampler ${SAMPLERS.join('|')}` },
  'sampler-lambda': { option: { type: 'string' }, usage: '--sampler-lambda X' },
} satisfies Record<string, Flag>;

export type DataFlag = keyof typeof DATA;
export type TrainingFlag = keyof typeof TRAINING;
export type SamplingFlag = keyof typeof SAMPLING;
type AnyFlag = DataFlag | TrainingFlag | SamplingFlag;
const ALL: Record<string, Flag> = { ...DATA, ...TRAINING, ...SAMPLING };

/** The parseArgs options of the named flags. */
export function groupOptions(names: readonly AnyFlag[]): Options {
  return Object.fromEntries(names.map((n) => [n, ALL[n].option]));
}

/**
 * The usage of a command: `head`, then the named flags (`[--epochs N] [--lr X] …`, OPT standing
 * for `optimizers`) and the command's own `more`, wrapped at 100 columns under the head.
 */
export function groupUsage(
  head: string,
  names: readonly AnyFlag[],
  optimizers: readonly string[],
  more: string[] = [],
): string {
  const parts = [...names.map((n) => `[${ALL[n].usage.replace('OPT', optimizers.join('|'))}]`), ...more];
  const lines = [head];
  for (const p of parts) {
    if (lines[lines.length - 1].length + p.length + 1 > 100) lines.push(`${' '.repeat(13)}${p}`);
    else lines[lines.length - 1] += ` ${p}`;
  }
  return lines.join('\n');
}

export type OptimizerName = 'sgd' | 'adam' | 'adamw';

/** A command's defaults for the training flags it takes (and the values of those it does not). */
export interface TrainingDefaults {
  epochs: number;
  /** 0 lets --epochs 0 skip training (circulant); 1 otherwise. */
  minEpochs?: number;
  batchSize: number;
  optimizers: readonly OptimizerName[];
  optimizer: OptimizerName;
  schedule: 'none' | 'cosine' | 'step';
}

/** Flag limits from core/limits.ts, as num() names them in a refusal. */
export const EPOCHS: [number, string] = [LIMITS.maxEpochs, 'maxEpochs in core/limits.ts'];
export const BATCH: [number, string] = [LIMITS.maxBatchSize, 'maxBatchSize in core/limits.ts'];

/** The training flags, parsed and checked. */
export interface Training {
  epochs: number;
  batchSize: number;
  optimizer: OptimizerName;
  lr: number;
  momentum: number;
  weightDecay: number;
  seed: number;
  schedule: 'none' | 'cosine' | 'step';
  valSplit: number;
  patience: number;
  resume: boolean;
}

/**
 * Read the training flags from parsed values. A flag the command does not take is absent and
 * gets its default: lr 0.01 for SGD, else 1e-3; momentum 0.9 for SGD, else 0; no weight decay.
 */
export function readTraining(values: Record<string, unknown>, d: TrainingDefaults): Training {
  const epochs = num(values, 'epochs', d.epochs, { int: true, min: d.minEpochs ?? 1, limit: EPOCHS });
  const batchSize = num(values, 'batch-size', d.batchSize, { int: true, min: 1, limit: BATCH });
  const optimizer = choice(values, 'optimizer', d.optimizers, d.optimizer);
  const lr = num(values, 'lr', optimizer === 'sgd' ? 0.01 : 1e-3, { min: 0, exclusiveMin: true });
  const momentum = num(values, 'momentum', optimizer === 'sgd' ? 0.9 : 0, { min: 0, max: 0.999 });
  if (values.momentum !== undefined && optimizer !== 'sgd')
    note(`frugal: warning: --momentum applies to --optimizer sgd; ${optimizer} ignores it (its β₁ is fixed at 0.9)`);
  const weightDecay = num(values, 'weight-decay', 0, { min: 0 });
  // Rng takes seeds modulo 2³² (seed >>> 0): larger ones would only repeat smaller ones.
  const seed = num(values, 'seed', 1, { int: true, min: 0, limit: [2 ** 32 - 1, 'of 32-bit seeds'] });
  const schedule = choice(values, 'schedule', ['none', 'cosine', 'step'] as const, d.schedule);
  const valSplit = num(values, 'val-split', 0, { min: 0, max: 0.9 });
  const patience =
    values['early-stopping'] === undefined ? 0 : num(values, 'early-stopping', 0, { int: true, min: 1, limit: EPOCHS });
  if (patience && !valSplit) throw new UsageError('--early-stopping needs --val-split (a validation set to watch)');
  const resume = !!values.resume;
  return { epochs, batchSize, optimizer, lr, momentum, weightDecay, seed, schedule, valSplit, patience, resume };
}

/** The optimizer the flags name, over a list of tensors or a model's parameter groups. */
export function makeOptimizer(
  kind: string,
  what: Tensor[] | Module,
  lr: number,
  momentum: number,
  wd: number,
): Optimizer {
  // A model gives its parameter groups for this optimizer (circulant layers ask for lr/N under SGD).
  const params = Array.isArray(what) ? what : paramGroups(what, kind, lr);
  if (kind === 'sgd') return new SGD(params, { lr, momentum, weightDecay: wd });
  if (kind === 'adamw') return new AdamW(params, { lr, weightDecay: wd || 0.01 });
  return new Adam(params, { lr, weightDecay: wd });
}

/** The learning-rate schedule the flags name (step: ×0.1 every third of the epochs). */
export function makeSchedule(t: Pick<Training, 'schedule' | 'lr' | 'epochs'>): Schedule | undefined {
  return scheduleByName(t.schedule, t.lr, t.epochs);
}

/** --limit N: train on the first N training images (0: all of them). */
export function readLimit(values: Record<string, unknown>): number {
  return values.limit === undefined ? 0 : num(values, 'limit', 0, { int: true, min: 1 });
}

/** --dataset: fashion-mnist (default) or another kind src/data/sources.ts resolves. */
export function readDataset(values: Record<string, unknown>): string {
  const dataset = (values.dataset as string | undefined) ?? 'fashion-mnist';
  const kind = dataset.split(':')[0];
  if (!datasetKinds().some((k) => k.split(':')[0] === kind))
    throw new UsageError(`--dataset must be one of ${datasetKinds().join(', ')}, got ${JSON.stringify(dataset)}`);
  if (values['data-dir'] !== undefined && kind !== 'fashion-mnist')
    throw new UsageError(`--data-dir is Fashion-MNIST's; --dataset ${kind}:PATH names its own place`);
  if ((values['csv-header'] !== undefined || values['label-column'] !== undefined) && kind !== 'csv')
    throw new UsageError('--csv-header and --label-column go with --dataset csv:FILE');
  return dataset;
}

/** The csv flags: header auto|yes|no (auto: a non-numeric feature cell in row 1), label column (−1: last). */
export function readDatasetOptions(values: Record<string, unknown>): DatasetOptions {
  return {
    dataDir: values['data-dir'] as string | undefined,
    csvHeader: choice(values, 'csv-header', ['auto', 'yes', 'no'] as const, 'auto'),
    labelColumn: num(values, 'label-column', 0, { int: true, min: -1 }),
  };
}

/** The Defaults lines of the data flags (a command that takes them lists these). */
export const DATA_DEFAULTS = ['--dataset fashion-mnist', '--csv-header auto', '--label-column 0 (first; −1 last)'];

/** The sampling flags, parsed: the sampler's name (default uniform, today's shuffle) and λ of RAS. */
export function readSampling(values: Record<string, unknown>): { sampler: SamplerName; lambda?: number } {
  const sampler = choice(values, 'sampler', SAMPLERS, 'uniform');
  if (values['sampler-lambda'] === undefined) return { sampler };
  if (sampler !== 'ras' && sampler !== 'ras-kl' && sampler !== 'ras-floor') {
    throw new UsageError(`--sampler-lambda applies to --sampler ras, ras-kl or ras-floor, not ${sampler}`);
  }
  return { sampler, lambda: num(values, 'sampler-lambda', 0.2, { min: 0, max: 1 }) };
}
