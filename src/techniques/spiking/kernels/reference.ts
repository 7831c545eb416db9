// Reference spiking kernels (the test oracle): IF updates one ifStep per time step, the event-driven linear layer.
import type { IFOptions } from '../neuron.js';
import type { SpikingKernels } from './index.js';

/**
 * One IF update of n neurons at one time step, in float32 (V is a Float32Array; θ and 1 − leak are rounded to
 * float32, so this and the WebAssembly kernel, assembly/spiking.ts, round alike): V ← (1 − leak)·V + I; spike
 * s = [V ≥ θ]; after a spike V ← V − θ or 0. Writes spikes (0/1) to `out` and returns how many fired.
 */
export function ifStep(
  v: Float32Array,
  current: ArrayLike<number>,
  cOff: number,
  out: Float32Array,
  oOff: number,
  o: Required<IFOptions>,
): number {
  const n = v.length,
    keep = Math.fround(1 - o.leak),
    th = Math.fround(o.threshold),
    subtract = o.reset === 'subtract';
  let fired = 0;
  for (let i = 0; i < n; i++) {
    // Each float32 operation rounds once: a product, then a sum (no fused multiply-add).
    v[i] = o.leak === 0 ? v[i] + current[cOff + i] : Math.fround(keep * v[i]) + current[cOff + i];
    const x = v[i];
    if (x >= th) {
      out[oOff + i] = 1;
      v[i] = subtract ? x - th : 0;
      fired++;
    } else out[oOff + i] = 0;
  }
  return fired;
}

export const spikingReference: SpikingKernels = {
  ifSteps(v, cur, constant, out, counts, T, B, o) {
    const n = v.length,
      feat = counts.length;
    for (let t = 0; t < T; t++) {
      ifStep(v, cur, constant ? 0 : t * n, out, t * n, o);
      for (let b = 0, i = t * n; b < B; b++) for (let f = 0; f < feat; f++, i++) counts[f] += out[i];
    }
  },
  spikeLinear(s, R, weight, N, bias, out) {
    const K = weight.length / N;
    for (let r = 0; r < R; r++) {
      const o = r * N;
      for (let c = 0; c < N; c++) out[o + c] = bias ? bias[c] : 0;
      for (let j = 0; j < K; j++) {
        if (s[r * K + j] === 0) continue;
        // Float32 sums, one weight at a time, as the kernel adds them.
        for (let c = 0; c < N; c++) out[o + c] = out[o + c] + weight[c * K + j];
      }
    }
  },
};
