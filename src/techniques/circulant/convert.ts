// toCirculant: replace dense layers by block-circulant ones with the nearest weights.
// [OURS] The paper's conversion algorithm is not public to us; we use the Frobenius-optimal
// projection onto circulant blocks: each defining entry is the mean of its wrapped diagonal.
import { Rng } from '../../core/rng.js';
import { Conv2d, Linear, Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { buildLayer } from '../../nn/spec.js';
import { CircConv2d, CircLinear } from './layers.js';

/**
 * Project a dense weight [out, in, taps] (taps = k·k, or 1) onto block-circulant form with
 * N×N blocks: w[s, r, t, tap] = (1/N)·Σ_a W[sN + a, rN + ((a − t) mod N), tap] (spec 02).
 */
export function projectCirculant(W: ArrayLike<number>, out: number, inC: number, taps: number, N: number): Float32Array {
  if (out % N || inC % N) throw new Error(`projectCirculant: block size ${N} must divide ${out} and ${inC}`);
  const S = out / N, R = inC / N, w = new Float32Array(S * R * N * taps);
  for (let s = 0; s < S; s++) for (let r = 0; r < R; r++) for (let t = 0; t < N; t++) for (let q = 0; q < taps; q++) {
    let sum = 0;
    for (let a = 0; a < N; a++) sum += W[((s * N + a) * inC + r * N + (((a - t) % N) + N) % N) * taps + q];
    w[((s * R + r) * N + t) * taps + q] = sum / N;
  }
  return w;
}

export interface ToCirculantOptions {
  blockSize: number;
  /** Layer types to convert (default both). */
  include?: ('conv2d' | 'linear')[];
}

export interface ToCirculantReport {
  converted: { layer: number; type: string; paramsBefore: number; paramsAfter: number }[];
  skipped: { layer: number; type: string; reason: string }[];
}

/**
 * A copy of `model` in which every conv2d and linear layer whose channel counts the block
 * size divides is block-circulant, with the projected weights (biases kept). Layers it cannot
 * convert are listed with the reason. The original model is not changed.
 */
export function toCirculant(model: Module, opts: ToCirculantOptions): { model: Sequential; report: ToCirculantReport } {
  if (!(model instanceof Sequential)) throw new Error('toCirculant works on a Sequential model (as built from a model spec)');
  const N = opts.blockSize, include = opts.include ?? ['conv2d', 'linear'];
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0) throw new Error(`toCirculant: block size must be a power of two ≥ 2, got ${N}`);
  const report: ToCirculantReport = { converted: [], skipped: [] };
  const layers = model.layers.map((l, i): Module => {
    const type = l.toSpec().type;
    if ((l instanceof Conv2d && include.includes('conv2d')) || (l instanceof Linear && include.includes('linear'))) {
      const [o, c] = l instanceof Linear ? [l.outFeatures, l.inFeatures] : [l.outChannels, l.inChannels];
      if (o % N || c % N) { report.skipped.push({ layer: i, type, reason: `block size ${N} does not divide its channels (in ${c}, out ${o})` }); return copyOf(l); }
      let n: CircLinear | CircConv2d;
      if (l instanceof Linear) {
        n = new CircLinear(c, o, N, { bias: !!l.bias });
        n.weight.data.set(projectCirculant(l.weight.data, o, c, 1, N));
      } else {
        n = new CircConv2d(c, o, l.kernelSize, N, { stride: l.stride, padding: l.padding, dilation: l.dilation, bias: !!l.bias });
        n.weight.data.set(projectCirculant(l.weight.data, o, c, l.kernelSize * l.kernelSize, N));
      }
      if (l.bias && n.bias) n.bias.data.set(l.bias.data);
      report.converted.push({ layer: i, type, paramsBefore: l.paramCount(), paramsAfter: n.paramCount() });
      return n;
    }
    return copyOf(l);
  });
  return { model: new Sequential(...layers), report };
}

function copyOf(l: Module): Module {
  const c = buildLayer(l.toSpec(), new Rng(0));
  c.loadStateDict(l.stateDict());
  return c;
}
