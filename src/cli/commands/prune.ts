import { evaluate, fileCheckpoint, loadModel, locateFashionMnist, pruneToRate, saveModel } from '../../node.js';
import { retrainingData } from '../data.js';
import { DATA_DIR_DEFAULT, defaultsText, emit, num, parse, UsageError, type Options } from '../args.js';
import {
  groupOptions,
  groupUsage,
  makeOptimizer,
  makeSchedule,
  readTraining,
  type DataFlag,
  type TrainingFlag,
} from '../option-groups.js';
import { checkOutputFile } from '../output.js';
import { checkResume } from '../resume.js';

/** The shared data and training flags `prune` takes. */
const FLAGS: (DataFlag | TrainingFlag)[] = [
  'epochs',
  'optimizer',
  'lr',
  'batch-size',
  'seed',
  'data-dir',
  'limit',
  'resume',
];
const OPTIMIZERS = ['sgd', 'adam'] as const;

const HEAD = 'frugal prune MODEL (--target-params R | --target-flops R) [--structured [--round-to Q]] --out PATH';

export const usage = `${groupUsage(HEAD, FLAGS, OPTIMIZERS, ['[--json]'])}
  Train MODEL once more while pruning it, ending at the target: R is the share of conv and linear
  weights (or of their MACs) to remove, 0 < R < 1, reached within ±0.5 pt. Unstructured by default
  (gradual magnitude pruning, cubic schedule); --structured removes whole channels (channel gates),
  keeping multiples of Q channels per layer where the target allows (default 4, the SIMD width; 1 = any).
  The output has the pruning made permanent; frugal compact shrinks it. SGD has momentum 0.9; the learning
  rate decays by a cosine. Checkpoints go to PATH.ckpt (every epoch, and on Ctrl-C); --resume continues.
${defaultsText([
  '--epochs 3',
  '--optimizer sgd',
  '--lr 0.01 (1e-3 with adam)',
  '--batch-size 64',
  '--seed 1',
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--limit all',
  '--round-to 4',
])}`;

const options: Options = {
  ...groupOptions(FLAGS),
  'target-params': { type: 'string' },
  'target-flops': { type: 'string' },
  structured: { type: 'boolean', default: false },
  out: { type: 'string' },
  'round-to': { type: 'string' },
};

/** Ctrl-C stops the run at a checkpoint (main.ts runs it on a worker thread). */
export const interruptible = true;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const tp = values['target-params'],
    tf = values['target-flops'];
  if ((tp === undefined) === (tf === undefined))
    throw new UsageError('give exactly one of --target-params R and --target-flops R');
  const metric = tp !== undefined ? 'params' : 'flops';
  const raw = (tp ?? tf) as string,
    target = Number(raw);
  if (!(target > 0 && target < 1))
    throw new UsageError(
      `--target-${metric} must be a fraction strictly between 0 and 1 (0.9 removes 90%), got ${JSON.stringify(raw)}`,
    );
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required');
  const t = readTraining(values, {
    epochs: 3,
    batchSize: 64,
    optimizers: OPTIMIZERS,
    optimizer: 'sgd',
    schedule: 'cosine',
  });
  const { epochs, batchSize, optimizer: optName, lr, seed } = t;
  const roundTo = num(values, 'round-to', 4, { int: true, min: 1 });
  if (values['round-to'] !== undefined && !values.structured)
    throw new UsageError('--round-to applies to --structured pruning only');
  const ckpt = `${out}.ckpt`;
  const config = {
    model: positionals[0],
    [`target-${metric}`]: target,
    structured: !!values.structured,
    'round-to': roundTo,
    'data-dir': locateFashionMnist(values['data-dir'] as string | undefined).dir,
    limit: values.limit ?? null,
    'batch-size': batchSize,
    optimizer: optName,
    lr,
    seed,
  };

  checkOutputFile('--out', out);
  if (values.resume) checkResume(ckpt, config);
  const { model, spec, training } = loadModel(positionals[0]);
  const data = retrainingData(values, { training, spec });
  const train = data.train;
  const before = evaluate(model, data.test, { shape: spec.input }).accuracy;
  const r = pruneToRate(model, {
    target,
    metric,
    structured: !!values.structured,
    roundTo,
    input: spec.input,
    train,
    epochs,
    batchSize,
    seed,
    optimizer: (_params, model) => makeOptimizer(optName, model, lr, t.momentum, t.weightDecay),
    schedule: makeSchedule(t),
    checkpoint: fileCheckpoint(ckpt),
    config,
    resume: !!values.resume,
    progress: process.stderr,
  });
  const after = evaluate(model, data.test, { shape: spec.input }).accuracy;
  const pruning = {
    metric,
    target,
    structured: r.structured,
    achievedParams: r.achieved.params,
    achievedFlops: r.achieved.flops,
    epochs,
    lr,
    optimizer: optName,
    seed,
  };
  saveModel(out, model, spec, { ...training, pruning, testAccuracy: after });
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  emit(
    !!values.json,
    {
      command: 'prune',
      model: positionals[0],
      out,
      ...pruning,
      testAccuracyBefore: before,
      testAccuracy: after,
      params: r.dense.params,
      nonzeroParams: r.final.nonzero,
      macs: r.dense.macs,
      effectiveMacs: r.final.effectiveMacs,
      channels: r.channels,
      trainSeconds: r.fit.trainSeconds,
    },
    [
      `pruned ${r.structured ? 'structured' : 'unstructured'} to ${metric} ` +
        `−${pct(metric === 'params' ? r.achieved.params : r.achieved.flops)} (target −${pct(target)})`,
      `params −${pct(r.achieved.params)} (${r.final.nonzero.toLocaleString('en-US')} of ` +
        `${r.dense.params.toLocaleString('en-US')} weights left), MACs −${pct(r.achieved.flops)}`,
      `test accuracy ${pct(before)} → ${pct(after)}`,
      `saved ${out}${r.structured ? ' (frugal compact deletes the removed channels)' : ''}`,
    ].join('\n'),
  );
  return 0;
}
