// The whole HSIC-bottleneck recipe on fit(): HSIC epochs (checkpointed, resumable), a probe of the per-layer
// diagnostics before training and after every epoch, the unformatted readout and format training.
import { Rng } from '../../core/rng.js';
import { withScope } from '../../core/arena.js';
import { Sequential } from '../../nn/layers.js';
import { DataLoader, subset, type ImageDataset } from '../../data/dataset.js';
import { fit, type Callback, type CheckpointStore, type EpochLog, type FitResult } from '../../train/fit.js';
import type { ProgressSink } from '../../train/progress.js';
import { noGrad, type Tensor } from '../../core/tensor.js';
import { flatten } from '../../ops/index.js';
import { fitPermutation, formatTrain, permutedAccuracy } from './readout.js';
import { HSIC_EPS, hsicFactor, nhsicOf, oneHot } from './nhsic.js';
import {
  checkHsicOptions,
  hsicBlocks,
  hsicDiagnostics,
  hsicOptimizers,
  hsicStep,
  HsicModelError,
  type HsicDiagnostics,
  type HsicOptions,
} from './trainer.js';

export interface HsicTrainOptions extends HsicOptions {
  train: ImageDataset;
  epochs: number;
  batchSize: number;
  /** SGD learning rate of every block (the reference's 1e-3 for F1). */
  lr: number;
  weightDecay?: number;
  momentum?: number;
  seed?: number;
  inputShape?: number[];
  /** Epochs of format training after the HSIC epochs (0: none). */
  formatEpochs?: number;
  formatLr?: number;
  formatBatchSize?: number;
  /** Rows of the training set (seeded draw) on which the diagnostics are probed (default 256). */
  probeRows?: number;
  checkpoint?: CheckpointStore;
  formatCheckpoint?: CheckpointStore;
  resume?: boolean;
  progress?: ProgressSink;
  /** More callbacks of the HSIC epochs (run after the probe, which writes log.metrics first). */
  callbacks?: Callback[];
  /** Called after every format epoch with the combined model. */
  onFormatEpochEnd?: (model: Sequential, log: EpochLog) => void;
}

export interface HsicTrainResult {
  hsic: FitResult;
  /** Probe diagnostics: index 0 before training, index e after epoch e. */
  probe: HsicDiagnostics[];
  /** Class permutation fitted on the training outputs; null when the net has fewer outputs than classes. */
  permutation: number[] | null;
  /** The network with its format head, when format epochs were run. */
  formatted?: { model: Sequential; result: FitResult };
}

/** Output width of the network on one sample (what the format head reads). */
export function outputWidth(model: Sequential, inputShape: number[], sample: ImageDataset): number {
  const loader = new DataLoader(subset(sample, [0]), { batchSize: 1, shape: inputShape });
  const was = model.training;
  model.eval();
  try {
    for (const { x } of loader.batches()) return withScope(() => model.forward(x).size);
  } finally {
    if (was) model.train();
  }
  return 0;
}

/** Where a fixed probe reads: `probeRows` training rows (default 256) drawn by `seed` (default 1). */
export interface HsicProbeOptions extends HsicOptions {
  train: ImageDataset;
  seed?: number;
  probeRows?: number;
  inputShape?: number[];
}

/** A fixed probe of a model's blocks (hsicProbe). */
export interface HsicProbe {
  /** nHSIC(Z_i, X), nHSIC(Z_i, Y) per block on the probe rows (hsicDiagnostics). */
  probe: () => HsicDiagnostics;
  /** nHSIC(onehot(Y), X) on the rows: what a block whose output were the one-hot labels themselves would score. */
  labelDependence: () => number;
  /** A fit() callback writing the probe after every epoch into its metrics (`probeZX.i`, `probeZY.i`). */
  callback: Callback;
  /** The series `before`, then each epoch's probe read back from the history (so a resumed run has them all). */
  series: (before: HsicDiagnostics, history: EpochLog[]) => HsicDiagnostics[];
}

/**
 * A fixed probe of any Sequential model the HSIC trainer can split into blocks (HSIC-trained or not): the same
 * seeded rows every call.
 */
export function hsicProbe(model: Sequential, o: HsicProbeOptions): HsicProbe {
  const blocks = hsicBlocks(model);
  const n = Math.min(o.probeRows ?? 256, o.train.count);
  const rows = new Rng((o.seed ?? 1) * 13 + 5)
    .shuffle(Array.from({ length: o.train.count }, (_, i) => i))
    .slice(0, n)
    .sort((a, b) => a - b);
  const probeSet = subset(o.train, rows);
  const read = <T>(f: (x: Tensor, y: Int32Array) => T): T =>
    withScope(() => {
      for (const { x, y } of new DataLoader(probeSet, { batchSize: n, shape: o.inputShape }).batches()) return f(x, y);
      throw new Error('unreachable: the probe set is empty');
    });
  const eps = o.eps ?? HSIC_EPS;
  const probe = () => read((x, y) => hsicDiagnostics(model, blocks, x, y, o));
  return {
    probe,
    callback: {
      onEpochEnd: (log) => {
        const d = probe();
        log.metrics = {
          ...log.metrics,
          ...Object.fromEntries(d.zx.map((v, i) => [`probeZX.${i}`, v])),
          ...Object.fromEntries(d.zy.map((v, i) => [`probeZY.${i}`, v])),
        };
      },
    },
    series: (before, history) => [
      before,
      ...history.map((h) => ({
        zx: blocks.map((_, i) => h.metrics?.[`probeZX.${i}`] ?? NaN),
        zy: blocks.map((_, i) => h.metrics?.[`probeZY.${i}`] ?? NaN),
      })),
    ],
    labelDependence: () =>
      read((x, y) =>
        noGrad(() =>
          nhsicOf(
            hsicFactor(oneHot(y, o.classes ?? 10, x.dtype), o.sigma, eps),
            hsicFactor(flatten(x), o.sigma, eps),
          ).item(),
        ),
      ),
  };
}

/**
 * Train `model` by the HSIC bottleneck (hsicStep on fit(), so progress, checkpoints and --resume are fit's),
 * recording nHSIC(Z_i, X), nHSIC(Z_i, Y) of every block on a fixed probe batch before training and after
 * every epoch (also written into each epoch's history metrics as `probeZX.i`, `probeZY.i`), then fit the
 * unformatted permutation on the training outputs and, when asked, format-train an appended linear layer.
 */
export function trainHsic(model: Sequential, o: HsicTrainOptions): HsicTrainResult {
  checkHsicOptions(o);
  if (!Number.isInteger(o.batchSize) || o.batchSize < 2)
    throw new RangeError(
      'batch size must be at least 2 for the HSIC trainer ' + `(nHSIC needs m ≥ 2), got ${o.batchSize}`,
    );
  if (o.train.count < 2)
    throw new HsicModelError(`the HSIC trainer needs at least 2 training samples, got ${o.train.count}`);
  const blocks = hsicBlocks(model);
  const optimizers = hsicOptimizers(blocks, o.lr, o.weightDecay ?? 1e-3, o.momentum ?? 0);
  const probe = hsicProbe(model, o);
  const before = probe.probe();
  const hsic = fit(model, {
    train: o.train,
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizers,
    step: hsicStep(blocks, o),
    seed: o.seed,
    inputShape: o.inputShape,
    checkpoint: o.checkpoint,
    resume: o.resume,
    progress: o.progress,
    callbacks: [probe.callback, ...(o.callbacks ?? [])],
  });
  const width = outputWidth(model, o.inputShape ?? o.train.sampleShape, o.train);
  const permutation = width >= o.train.classes ? fitPermutation(model, o.train, o.inputShape) : null;
  const res: HsicTrainResult = { hsic, probe: probe.series(before, hsic.history), permutation };
  if ((o.formatEpochs ?? 0) > 0) {
    const f = formatTrain(model, o.train, width, {
      epochs: o.formatEpochs!,
      lr: o.formatLr ?? 0.01,
      batchSize: o.formatBatchSize ?? o.batchSize,
      seed: o.seed,
      inputShape: o.inputShape,
      checkpoint: o.formatCheckpoint,
      resume: o.resume,
      progress: o.progress,
      onEpochEnd: o.onFormatEpochEnd,
    });
    res.formatted = { model: f.model, result: f.result };
  }
  return res;
}

export { permutedAccuracy };
