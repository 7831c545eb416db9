import { withScope } from '../core/arena.js';
import { noGrad, Tensor } from '../core/tensor.js';
import { Rng } from '../core/rng.js';
import type { Module } from '../nn/module.js';

/**
 * Inference latency of several models on the same random batch, in milliseconds per call:
 * rounds interleave the models (so machine load hits them alike) and the median per model is
 * kept. Each round times `reps` calls after one warm-up call.
 */
export function compareLatency(
  models: Module[],
  input: number[],
  batch: number,
  opts: { rounds?: number; reps?: number; seed?: number } = {},
): number[] {
  const rounds = opts.rounds ?? 5,
    reps = opts.reps ?? (batch === 1 ? 50 : 5);
  const x = Tensor.rand([batch, ...input], new Rng(opts.seed ?? 0));
  const times: number[][] = models.map(() => []);
  for (const m of models) m.eval();
  noGrad(() => {
    for (const m of models)
      withScope(() => {
        m.forward(x);
      });
    for (let r = 0; r < rounds; r++) {
      models.forEach((m, i) => {
        const t0 = performance.now();
        for (let k = 0; k < reps; k++)
          withScope(() => {
            m.forward(x);
          });
        times[i].push((performance.now() - t0) / reps);
      });
    }
  });
  return times.map((t) => t.sort((a, b) => a - b)[Math.floor(t.length / 2)]);
}
