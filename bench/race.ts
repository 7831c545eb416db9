// Shared timing for the benchmarks: interleaved rounds, medians (this machine is a noisy shared VM).
import { withScope } from '../src/index.js';

export const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

/**
 * ms per call of each function: a calibration finds how many calls take about budget/4 ms, then
 * `rounds` rounds run every function in turn (4× that many calls each); the median per function.
 */
export function race(fns: (() => void)[], rounds: number, budget: number): number[] {
  const reps = fns.map((f) => {
    const t0 = performance.now();
    let n = 0;
    do {
      withScope(f);
      n++;
    } while (performance.now() - t0 < budget / 4);
    return Math.max(1, n);
  });
  const out: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++)
    fns.forEach((f, i) => {
      const t0 = performance.now();
      for (let k = 0; k < reps[i] * 4; k++) withScope(f);
      out[i].push((performance.now() - t0) / (reps[i] * 4));
    });
  return out.map(median);
}
