// Accuracy against T from one simulation per batch (SpikingNetwork.forwardAt).
import { noGrad } from '../../core/tensor.js';
import { withScope } from '../../core/arena.js';
import { DataLoader, type ImageDataset } from '../../data/dataset.js';
import { argmax } from '../../train/metrics.js';
import type { SpikingNetwork } from './network.js';

/**
 * Test accuracy of a spiking network after each step count of `at` (ascending, ≤ T), from one simulation
 * per batch; argmax ties go to the lowest class, as in Diehl et al.'s code.
 */
export function accuracyByTimesteps(
  net: SpikingNetwork,
  ds: ImageDataset,
  at: number[],
  opts: { batchSize?: number } = {},
): { timesteps: number; accuracy: number }[] {
  const correct = at.map(() => 0);
  const loader = new DataLoader(ds, { batchSize: opts.batchSize ?? 256, shape: net.input });
  noGrad(() => {
    for (const { x, y } of loader.batches()) {
      withScope(() => {
        net.forwardAt(x, at).forEach((o, k) => {
          const p = argmax(o);
          for (let i = 0; i < y.length; i++) if (p[i] === y[i]) correct[k]++;
        });
      });
    }
  });
  return at.map((t, k) => ({ timesteps: t, accuracy: correct[k] / Math.max(1, ds.count) }));
}
