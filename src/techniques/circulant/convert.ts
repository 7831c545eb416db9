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
 * When N does not divide the channels (padded layers: ⌈out/N⌉ × ⌈in/N⌉ blocks) the mean runs
 * over the entries of each wrapped diagonal that exist, which is still the Frobenius-nearest
 * circulant on the real weights; a diagonal lying wholly in the padding gets 0.
 */
export function projectCirculant(
  W: ArrayLike<number>,
  out: number,
  inC: number,
  taps: number,
  N: number,
): Float32Array {
  const S = Math.ceil(out / N),
    R = Math.ceil(inC / N),
    w = new Float32Array(S * R * N * taps);
  for (let s = 0; s < S; s++)
    for (let r = 0; r < R; r++)
      for (let t = 0; t < N; t++)
        for (let q = 0; q < taps; q++) {
          let sum = 0,
            count = 0;
          for (let a = 0; a < N; a++) {
            const row = s * N + a,
              col = r * N + ((((a - t) % N) + N) % N);
            if (row < out && col < inC) {
              sum += W[(row * inC + col) * taps + q];
              count++;
            }
          }
          w[((s * R + r) * N + t) * taps + q] = count ? sum / count : 0;
        }
  return w;
}

export interface ToCirculantOptions {
  blockSize: number;
  /** Layer types to convert (default both). */
  include?: ('conv2d' | 'linear')[];
  /**
   * Also convert layers whose channels the block size does not divide, zero-padding them to
   * whole blocks (the padded blocks' parameters and multiplications are paid and reported).
   */
  pad?: boolean;
}

export interface ToCirculantReport {
  /** paddedTo: channel counts (in, out) after zero-padding to whole blocks, when padded. */
  converted: { layer: number; type: string; paramsBefore: number; paramsAfter: number; paddedTo?: [number, number] }[];
  skipped: { layer: number; type: string; reason: string }[];
}

/**
 * A copy of `model` in which every conv2d and linear layer whose channel counts the block
 * size divides is block-circulant, with the projected weights (biases kept). Layers it cannot
 * convert are listed with the reason. The original model is not changed.
 */
export function toCirculant(model: Module, opts: ToCirculantOptions): { model: Sequential; report: ToCirculantReport } {
  if (!(model instanceof Sequential))
    throw new Error('toCirculant works on a Sequential model (as built from a model spec)');
  const N = opts.blockSize,
    include = opts.include ?? ['conv2d', 'linear'];
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0)
    throw new Error(`toCirculant: block size must be a power of two ≥ 2, got ${N}`);
  const report: ToCirculantReport = { converted: [], skipped: [] };
  const layers = model.layers.map((l, i): Module => {
    const type = l.toSpec().type;
    if ((l instanceof Conv2d && include.includes('conv2d')) || (l instanceof Linear && include.includes('linear'))) {
      const [o, c] = l instanceof Linear ? [l.outFeatures, l.inFeatures] : [l.outChannels, l.inChannels];
      const pad = o % N !== 0 || c % N !== 0;
      if (pad && !opts.pad) {
        report.skipped.push({
          layer: i,
          type,
          reason:
            `block size ${N} does not divide its channels (in ${c}, out ${o}); pad: true (--pad) zero-pads ` +
            `them to whole blocks`,
        });
        return copyOf(l);
      }
      let n: CircLinear | CircConv2d;
      if (l instanceof Linear) {
        n = new CircLinear(c, o, N, { bias: !!l.bias, pad });
        n.weight.data.set(projectCirculant(l.weight.data, o, c, 1, N));
        n.weight.markChanged();
      } else {
        n = new CircConv2d(c, o, l.kernelSize, N, {
          stride: l.stride,
          padding: l.padding,
          dilation: l.dilation,
          bias: !!l.bias,
          pad,
        });
        n.weight.data.set(projectCirculant(l.weight.data, o, c, l.kernelSize * l.kernelSize, N));
        n.weight.markChanged();
      }
      if (l.bias && n.bias) n.bias.data.set(l.bias.data);
      report.converted.push({
        layer: i,
        type,
        paramsBefore: l.paramCount(),
        paramsAfter: n.paramCount(),
        ...(pad ? { paddedTo: [n.inBlocks * N, n.outBlocks * N] as [number, number] } : {}),
      });
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
