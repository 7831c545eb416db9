import { withScope } from '../core/arena.js';
import { noGrad } from '../core/tensor.js';
import { BatchNorm } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import { DataLoader, type ImageDataset } from '../data/dataset.js';

/**
 * Re-estimate batch-norm running statistics for the current weights: reset them, then run
 * `batches` training batches forward (no gradients) with a cumulative average (momentum
 * 1/(k+1) at batch k). Weights that changed a lot late in training (pruning, a hard channel
 * cut) otherwise leave running statistics of the old network. Returns the batches used.
 */
export function recalibrateBatchNorm(
  model: Module,
  data: ImageDataset,
  opts: { batches?: number; batchSize?: number; shape?: number[]; seed?: number } = {},
): number {
  const bns = model
    .namedModules()
    .map(([, m]) => m)
    .filter((m): m is BatchNorm => m instanceof BatchNorm);
  if (bns.length === 0) return 0;
  const want = opts.batches ?? 50;
  const loader = new DataLoader(data, {
    batchSize: opts.batchSize ?? 64,
    shuffle: true,
    seed: opts.seed ?? 0,
    shape: opts.shape,
  });
  const was = model.training;
  const saved = bns.map((b) => b.momentum);
  for (const b of bns) {
    b.runningMean.data.fill(0);
    b.runningVar.data.fill(1);
  }
  model.train();
  let k = 0;
  noGrad(() => {
    for (const { x } of loader.batches(0)) {
      if (k >= want) break;
      for (const b of bns) (b as { momentum: number }).momentum = 1 / (k + 1);
      withScope(() => {
        model.forward(x);
      });
      k++;
    }
  });
  bns.forEach((b, i) => {
    (b as { momentum: number }).momentum = saved[i];
  });
  model.train(was);
  return k;
}
