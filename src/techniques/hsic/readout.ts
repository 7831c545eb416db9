// The two readouts of an HSIC-trained network (spec 03): the unformatted one (a fixed class permutation of
// the raw outputs, fitted on TRAINING outputs) and format training (one appended linear layer trained with
// cross-entropy while the HSIC layers stay frozen in eval mode).
import { noGrad, type Tensor } from '../../core/tensor.js';
import { withScope } from '../../core/arena.js';
import { Rng } from '../../core/rng.js';
import { crossEntropy } from '../../ops/index.js';
import { Linear, Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { SGD } from '../../optim/sgd.js';
import { DataLoader, type ImageDataset } from '../../data/dataset.js';
import { confusionMatrix, balancedAccuracy } from '../../train/metrics.js';
import { fit, type CheckpointStore, type EpochLog, type FitResult } from '../../train/fit.js';
import type { ProgressSink } from '../../train/progress.js';
import type { TrainStep } from '../../train/step.js';

/** Run the model in eval mode over a dataset; calls `each(outputs, labels)` per batch (no tape). */
function forEachOutput(
  model: Module,
  ds: ImageDataset,
  shape: number[] | undefined,
  each: (out: Tensor, y: Int32Array) => void,
): void {
  const was = model.training;
  model.eval();
  try {
    const loader = new DataLoader(ds, { batchSize: 256, shape });
    noGrad(() => {
      for (const { x, y } of loader.batches()) withScope(() => each(model.forward(x), y));
    });
  } finally {
    if (was) model.train();
  }
}

/**
 * The maximum-weight assignment of C rows to distinct columns of a C × W matrix (C ≤ W): the column of each
 * row, maximising Σ_c w[c][col[c]] (the Hungarian method with potentials, O(C²W)).
 */
export function maxAssignment(w: number[][]): number[] {
  const C = w.length,
    W = C ? w[0].length : 0;
  if (C > W) throw new Error(`assignment: ${C} rows cannot go to ${W} distinct columns`);
  if (!w.every((row) => row.length === W && row.every(Number.isFinite)))
    throw new Error(`assignment: every row needs ${W} finite weights (a NaN or infinite class mean cannot be matched)`);
  // Rows and columns 1-based; column 0 is the virtual start of each augmenting path. Minimises −w.
  const u = new Float64Array(C + 1),
    v = new Float64Array(W + 1),
    owner = new Int32Array(W + 1),
    way = new Int32Array(W + 1);
  for (let r = 1; r <= C; r++) {
    owner[0] = r;
    let j0 = 0;
    const minv = new Float64Array(W + 1).fill(Infinity),
      used = new Uint8Array(W + 1);
    do {
      used[j0] = 1;
      const i0 = owner[j0];
      let delta = Infinity,
        j1 = 0;
      for (let j = 1; j <= W; j++) {
        if (used[j]) continue;
        const cur = -w[i0 - 1][j - 1] - u[i0] - v[j];
        if (cur < minv[j]) [minv[j], way[j]] = [cur, j0];
        if (minv[j] < delta) [delta, j1] = [minv[j], j];
      }
      for (let j = 0; j <= W; j++)
        if (used[j]) {
          u[owner[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      j0 = j1;
    } while (owner[j0] !== 0);
    do {
      const j1 = way[j0];
      owner[j0] = owner[j1];
      j0 = j1;
    } while (j0);
  }
  const col = new Array<number>(C).fill(-1);
  for (let j = 1; j <= W; j++) if (owner[j]) col[owner[j] - 1] = j - 1;
  return col;
}

/**
 * How the unformatted readout's permutation is fitted from μ_c, the mean output of class c on the training set:
 * 'assignment' (default) the distinct output units maximising Σ_c μ_c[perm[c]] (the exact optimum);
 * 'greedy' the authors' `get_accuracy_hsic`: for c = 0, 1, … in order, the unit not yet taken with the largest
 * μ_c, which lets an early class take a unit a later class needs more (F1's net, seed 3, after one epoch: coat
 * took shirt's unit, 76.1% training accuracy against 82.5% with the assignment).
 */
export type PermutationFit = 'assignment' | 'greedy';

/**
 * The class permutation of the unformatted readout, fitted on the given (TRAINING) set from the mean output
 * of each class (PermutationFit). The model must have at least as many outputs as classes.
 */
export function fitPermutation(
  model: Module,
  train: ImageDataset,
  shape?: number[],
  how: PermutationFit = 'assignment',
): number[] {
  const C = train.classes;
  let width = 0;
  const sums: number[][] = [],
    counts = new Array<number>(C).fill(0);
  forEachOutput(model, train, shape, (out, y) => {
    if (!width) {
      width = out.size / out.shape[0];
      if (width < C)
        throw new Error(`unformatted readout: the model has ${width} outputs for ${C} classes; use format training`);
      for (let c = 0; c < C; c++) sums.push(new Array<number>(width).fill(0));
    }
    for (let i = 0; i < y.length; i++) {
      counts[y[i]]++;
      for (let j = 0; j < width; j++) sums[y[i]][j] += out.data[i * width + j];
    }
  });
  const mean = sums.map((row, c) => row.map((v) => v / Math.max(1, counts[c])));
  return how === 'assignment' ? maxAssignment(mean) : greedyPermutation(mean);
}

/** The authors' greedy fit (PermutationFit 'greedy'). */
function greedyPermutation(mean: number[][]): number[] {
  const taken = new Set<number>(),
    perm: number[] = [];
  for (const row of mean) {
    let best = -1;
    for (let j = 0; j < row.length; j++) if (!taken.has(j) && (best < 0 || row[j] > row[best])) best = j;
    taken.add(best);
    perm.push(best);
  }
  return perm;
}

/** Accuracy of the unformatted readout: class = argmax_c output[perm[c]]. */
export function permutedAccuracy(
  model: Module,
  ds: ImageDataset,
  perm: number[],
  shape?: number[],
): { accuracy: number; balancedAccuracy: number } {
  const pred = new Int32Array(ds.count),
    labels = new Int32Array(ds.count);
  let off = 0;
  forEachOutput(model, ds, shape, (out, y) => {
    const w = out.size / out.shape[0];
    for (let i = 0; i < y.length; i++) {
      let best = 0;
      for (let c = 1; c < perm.length; c++) if (out.data[i * w + perm[c]] > out.data[i * w + perm[best]]) best = c;
      pred[off + i] = best;
      labels[off + i] = y[i];
    }
    off += y.length;
  });
  let ok = 0;
  for (let i = 0; i < ds.count; i++) if (pred[i] === labels[i]) ok++;
  return {
    accuracy: ds.count ? ok / ds.count : NaN,
    balancedAccuracy: balancedAccuracy(confusionMatrix(pred, labels, ds.classes)),
  };
}

export interface FormatOptions {
  epochs: number;
  lr: number;
  batchSize: number;
  seed?: number;
  /** Weight decay of the head's SGD (the reference's 1e-3). */
  weightDecay?: number;
  inputShape?: number[];
  checkpoint?: CheckpointStore;
  resume?: boolean;
  progress?: ProgressSink;
  /** Called after every format epoch with the combined model (e.g. to record a test accuracy in log.metrics). */
  onEpochEnd?: (model: Sequential, log: EpochLog) => void;
}

/**
 * Format training (`engine.training_format`): append Linear(width, classes) to the frozen HSIC network and
 * train only it with cross-entropy by SGD (no momentum). The HSIC layers run in eval mode (batch-norm
 * running statistics) without the tape. The reference's extra log_softmax before CrossEntropyLoss is left
 * out: log_softmax is idempotent under another log_softmax, so the loss is the same.
 * Returns the combined model (HSIC layers + head) and the fit result.
 */
export function formatTrain(
  hsicNet: Sequential,
  train: ImageDataset,
  width: number,
  o: FormatOptions,
): { model: Sequential; head: Linear; result: FitResult } {
  const head = new Linear(width, train.classes, { rng: new Rng((o.seed ?? 1) * 31 + 7) });
  const model = new Sequential(...hsicNet.layers, head);
  const optimizer = new SGD(head.parameters(), { lr: o.lr, weightDecay: o.weightDecay ?? 1e-3 });
  const step: TrainStep = (_m, batch, ctx) => {
    hsicNet.eval();
    const feats = noGrad(() => hsicNet.forward(batch.x)).detach();
    const out = head.forward(feats);
    const loss = crossEntropy(out, batch.y);
    const v = loss.item();
    ctx.checkLoss(v, batch.x);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return { loss: v, output: out };
  };
  const result = fit(model, {
    train,
    epochs: o.epochs,
    batchSize: o.batchSize,
    optimizer,
    step,
    seed: o.seed,
    inputShape: o.inputShape,
    checkpoint: o.checkpoint,
    resume: o.resume,
    progress: o.progress,
    callbacks: o.onEpochEnd ? [{ onEpochEnd: (log) => o.onEpochEnd!(model, log) }] : [],
  });
  return { model, head, result };
}
