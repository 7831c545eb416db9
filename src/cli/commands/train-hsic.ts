// `frugal train --trainer hsic`: the HSIC bottleneck (spec 03) instead of backpropagation. Each block is
// trained by its own nHSIC loss; then the unformatted readout (class permutation fitted on the training
// outputs) and, with --format-epochs E > 0, an appended linear layer trained by cross-entropy.
import { existsSync } from 'node:fs';
import {
  backendName,
  buildModel,
  evaluate,
  fileCheckpoint,
  hsicMlp,
  permutedAccuracy,
  saveModel,
  trainHsic,
  type ModelSpec,
  type Sequential,
} from '../../node.js';
import { emit, note, num, UsageError, type Options } from '../args.js';
import { checkDataFitsModel, classCount, dataMetadata, fitBuiltinOutputs, trainingData } from '../data.js';
import { readDataset, readLimit, readSampling, readTraining } from '../option-groups.js';
import { modelName, runOutput } from '../output.js';

/** The flags only --trainer hsic takes. */
export const HSIC_OPTIONS: Options = {
  trainer: { type: 'string' },
  sigma: { type: 'string' },
  beta: { type: 'string' },
  'format-epochs': { type: 'string' },
  'format-lr': { type: 'string' },
};

export const HSIC_USAGE = `  --trainer hsic trains each block by the HSIC bottleneck (Ma, Lewis & Kleijn; spec 03)
  instead of backpropagation: loss nHSIC(Z, X) − β·nHSIC(Z, Y) per block, one plain-SGD step
  per block per batch, nothing passed between blocks. With --model mlp the net is 784→256→128→10
  with every block linear → batch norm → ReLU (the authors' block). --sigma S (kernel width,
  scaled by √d; default 6), --beta B (default 1000), --format-epochs E (epochs of an appended
  linear layer trained by cross-entropy with the HSIC layers frozen; default 1, 0 for none),
  --format-lr X (default 0.01). Defaults for hsic: --batch-size 256, --lr 1e-3, --weight-decay
  1e-3, plain SGD. Prints the unformatted accuracy (class permutation fitted on the training
  outputs) and the format-trained accuracy; --json adds the per-layer nHSIC(Z, X) and
  nHSIC(Z, Y) history. Models may hold linear, conv and residual blocks.`;

/** Refuse the hsic-only flags under --trainer backprop. */
export function refuseHsicFlags(values: Record<string, unknown>): void {
  for (const k of ['sigma', 'beta', 'format-epochs', 'format-lr'])
    if (values[k] !== undefined) throw new UsageError(`--${k} applies to --trainer hsic only`);
}

export async function runHsic(values: Record<string, unknown>, given: ModelSpec, label: string): Promise<number> {
  // The authors' blocks end in batch norm + ReLU, which the unformatted readout relies on (a raw linear output
  // grows without bound under the nHSIC loss): mlp is the reference MLP's widths in that form.
  let spec = label === 'mlp' ? hsicMlp([784, 256, 128, 10]) : given;
  const json = !!values.json;
  const dataset = readDataset(values);
  if (values.optimizer !== undefined && values.optimizer !== 'sgd')
    throw new UsageError('--trainer hsic steps every block by plain SGD (as the reference); drop --optimizer');
  for (const k of ['schedule', 'early-stopping', 'l1', 'profile']) {
    if (values[k] !== undefined && values[k] !== false) throw new UsageError(`--${k} does not apply to --trainer hsic`);
  }
  if (readSampling(values).sampler !== 'uniform')
    throw new UsageError('--trainer hsic draws uniform batches; drop --sampler');
  const t = readTraining(
    { ...values, optimizer: 'sgd' },
    { epochs: 5, batchSize: 256, optimizers: ['sgd'], optimizer: 'sgd', schedule: 'none' },
  );
  if (t.batchSize < 2) throw new UsageError('--batch-size must be at least 2 for --trainer hsic (nHSIC needs m ≥ 2)');
  const lr = num(values, 'lr', 1e-3, { min: 0, exclusiveMin: true });
  const momentum = num(values, 'momentum', 0, { min: 0, max: 0.999 });
  const weightDecay = num(values, 'weight-decay', 1e-3, { min: 0 });
  const sigma = num(values, 'sigma', 6, { min: 0, exclusiveMin: true });
  const beta = num(values, 'beta', 1000, { min: 0 });
  const formatEpochs = num(values, 'format-epochs', 1, { int: true, min: 0, limit: [10000, 'of format epochs'] });
  const formatLr = num(values, 'format-lr', 0.01, { min: 0, exclusiveMin: true });
  const { epochs, batchSize, seed, valSplit } = t;
  const limit = readLimit(values);
  const out = runOutput(values, `${modelName(label)}-hsic`);
  const ckpt = `${out}.ckpt`,
    formatCkpt = `${out}.format.ckpt`;
  if (values.resume && !existsSync(ckpt))
    throw new Error(`--resume: no checkpoint at ${ckpt}; run without --resume to start`);

  const t0 = performance.now();
  const { data, train, validation, samples } = trainingData(values, { limit, valSplit, seed, extra: '; trainer hsic' });
  // One output unit per class for the built-in models, as `frugal train` gives them.
  const classes = classCount(data);
  if (label === 'mlp' && classes >= 2 && classes !== 10) {
    note(`frugal: --model mlp: ${classes} output units for the ${classes} classes of ${data.name} (built in with 10)`);
    spec = hsicMlp([784, 256, 128, classes]);
  } else spec = fitBuiltinOutputs(spec, label, data);
  checkDataFitsModel(spec, data);
  const model = buildModel(spec, seed) as Sequential;
  const inputShape = spec.input;
  const r = trainHsic(model, {
    train,
    epochs,
    batchSize,
    lr,
    momentum,
    weightDecay,
    sigma,
    beta,
    classes: train.classes,
    seed,
    inputShape,
    formatEpochs,
    formatLr,
    checkpoint: fileCheckpoint(ckpt),
    formatCheckpoint: fileCheckpoint(formatCkpt),
    resume: !!values.resume,
    progress: process.stderr,
  });
  const unformatted = r.permutation ? permutedAccuracy(model, data.test, r.permutation, inputShape) : null;
  const valUnformatted =
    r.permutation && validation ? permutedAccuracy(model, validation, r.permutation, inputShape) : null;
  const formatted = r.formatted ? evaluate(r.formatted.model, data.test, { shape: inputShape }) : null;
  const saved = r.formatted?.model ?? model;
  const savedSpec: ModelSpec = { ...spec, layers: saved.layers.map((l) => l.toSpec()) };
  const seconds = (performance.now() - t0) / 1000;
  saveModel(out, saved, savedSpec, {
    model: label,
    trainer: 'hsic',
    ...dataMetadata(data),
    epochs: r.hsic.epochsRun,
    batchSize,
    lr,
    sigma,
    beta,
    seed,
    formatEpochs,
    permutation: r.permutation,
    unformattedAccuracy: unformatted?.accuracy ?? null,
    formattedAccuracy: formatted?.accuracy ?? null,
  });
  const layers = r.probe[0].zx.length;
  const res = {
    command: 'train',
    trainer: 'hsic',
    model: label,
    dataset,
    dataSource: data.source,
    dataDir: data.dir,
    samples,
    backend: backendName(),
    epochs: r.hsic.epochsRun,
    batchSize,
    optimizer: 'sgd',
    lr,
    momentum,
    weightDecay,
    sigma,
    beta,
    formatEpochs,
    formatLr,
    seed,
    blocks: layers,
    permutation: r.permutation,
    unformattedAccuracy: unformatted?.accuracy ?? null,
    unformattedBalancedAccuracy: unformatted?.balancedAccuracy ?? null,
    valUnformattedAccuracy: valUnformatted?.accuracy ?? null,
    formattedAccuracy: formatted?.accuracy ?? null,
    testAccuracy: formatted?.accuracy ?? unformatted?.accuracy ?? null,
    finalLoss: r.hsic.finalLoss,
    hsicHistory: {
      zx: r.probe.map((p) => p.zx),
      zy: r.probe.map((p) => p.zy),
      note: 'probe batch of training rows: index 0 before training, index e after epoch e',
    },
    seconds,
    trainSeconds: r.hsic.trainSeconds,
    samplesPerSecond: r.hsic.samplesPerSecond,
    resumedFromEpoch: r.hsic.resumedFromEpoch,
    out,
    checkpoint: ckpt,
    history: r.hsic.history,
    formatHistory: r.formatted?.result.history ?? [],
  };
  const pct = (v: number | null | undefined) => (v === null || v === undefined ? 'n/a' : `${(100 * v).toFixed(2)}%`);
  const last = r.probe[r.probe.length - 1];
  emit(
    json,
    res,
    [
      `unformatted test accuracy ${pct(unformatted?.accuracy)}` +
        (r.permutation
          ? ` (class permutation fitted on the training outputs: ${r.permutation.join(' ')})`
          : ' (the net has fewer outputs than classes)'),
      `format-trained test accuracy ${pct(formatted?.accuracy)}` +
        (formatEpochs ? ` (${formatEpochs} epoch(s) of an appended linear layer)` : ' (--format-epochs 0)'),
      `per-layer nHSIC(Z, X): ${last.zx.map((v) => v.toFixed(2)).join(' ')}`,
      `per-layer nHSIC(Z, Y): ${last.zy.map((v) => v.toFixed(2)).join(' ')}`,
      `${Math.round(r.hsic.samplesPerSecond)} HSIC training samples/s; ${seconds.toFixed(1)} s in all`,
      `saved ${out}`,
    ].join('\n'),
  );
  return 0;
}
