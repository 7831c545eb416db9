import { noGrad, Tensor } from '../core/tensor.js';
import { withScope } from '../core/arena.js';
import { crossEntropy } from '../ops/index.js';
import type { Module } from '../nn/module.js';
import { DataLoader, type ImageDataset } from '../data/dataset.js';

/** Row-wise argmax of logits [N, C]. */
export function argmax(logits: Tensor): Int32Array {
  const [N, C] = logits.shape;
  const out = new Int32Array(N);
  for (let i = 0; i < N; i++) {
    let best = 0;
    for (let c = 1; c < C; c++) if (logits.data[i * C + c] > logits.data[i * C + best]) best = c;
    out[i] = best;
  }
  return out;
}

/** confusion[t][p] counts samples of true class t predicted as p. */
export function confusionMatrix(pred: ArrayLike<number>, labels: ArrayLike<number>, classes: number): number[][] {
  const m = Array.from({ length: classes }, () => new Array<number>(classes).fill(0));
  for (let i = 0; i < labels.length; i++) m[labels[i]][pred[i]]++;
  return m;
}

export function accuracy(pred: ArrayLike<number>, labels: ArrayLike<number>): number {
  let ok = 0;
  for (let i = 0; i < labels.length; i++) if (pred[i] === labels[i]) ok++;
  return labels.length ? ok / labels.length : 0;
}

/** Mean per-class recall over the classes present (robust to class imbalance). */
export function balancedAccuracy(confusion: number[][]): number {
  let s = 0,
    k = 0;
  confusion.forEach((row, t) => {
    const n = row.reduce((a, b) => a + b, 0);
    if (n > 0) {
      s += row[t] / n;
      k++;
    }
  });
  return k ? s / k : 0;
}

export interface EvalResult {
  loss: number;
  accuracy: number;
  balancedAccuracy: number;
  confusion: number[][];
  count: number;
  seconds: number;
  samplesPerSecond: number;
  /** The predicted class of every sample, in dataset order. */
  predictions: Int32Array;
}

/** Evaluate a classifier in eval mode without the tape. */
export function evaluate(
  model: Module,
  ds: ImageDataset,
  opts: { batchSize?: number; shape?: number[] } = {},
): EvalResult {
  const wasTraining = model.training;
  model.eval();
  const t0 = performance.now();
  const loader = new DataLoader(ds, { batchSize: opts.batchSize ?? 256, shape: opts.shape });
  const pred = new Int32Array(ds.count);
  let lossSum = 0,
    off = 0;
  noGrad(() => {
    for (const { x, y } of loader.batches()) {
      withScope(() => {
        const logits = model.forward(x);
        lossSum += crossEntropy(logits, y, { reduction: 'sum' }).item();
        pred.set(argmax(logits), off);
      });
      off += y.length;
    }
  });
  model.train(wasTraining);
  const seconds = (performance.now() - t0) / 1000;
  const confusion = confusionMatrix(pred, ds.labels, ds.classes);
  return {
    loss: lossSum / Math.max(1, ds.count),
    accuracy: accuracy(pred, ds.labels),
    balancedAccuracy: balancedAccuracy(confusion),
    confusion,
    count: ds.count,
    seconds,
    samplesPerSecond: ds.count / seconds,
    predictions: pred,
  };
}
