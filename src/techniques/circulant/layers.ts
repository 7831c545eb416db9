// Block-circulant layers (CirCNN, Ding et al. 2017; CircConv, Liao & Yuan 2019; spec
// shared/papers/02-circulant-conv.md). Each N×N block of the channel-mixing matrix is circulant,
// C[a, b] = w[(a − b) mod N] (a: output index in the block, b: input index) [D, our convention],
// so a block is one length-N vector and C·x = irfft(rfft(w) ⊙ rfft(x)).
import { Rng } from '../../core/rng.js';
import { isGradEnabled, Tensor } from '../../core/tensor.js';
import { persistentCopy } from '../../core/arena.js';
import * as F from '../../ops/index.js';
import { uniform_ } from '../../nn/init.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import type { CostReport } from '../../report/profile.js';
import { registerLayer, specInt } from '../../nn/spec.js';

/** 'auto' picks the FFT form from the block size up that a benchmark found faster (FFT_MIN_BLOCK). */
export type CircPath = 'auto' | 'fft' | 'dense';

/**
 * Smallest block size from which the FFT form is faster, per layer kind, measured by
 * `npm run bench:circulant` on this machine (runs/bench-circulant.json): CircLinear 1024² and
 * 4096² from N = 32, 256² from N = 128 (batch 1 and 64 alike); CircConv2d never (its FFT path
 * convolves each frequency bin separately; up to N = 16 it was 2–9× slower than the dense form).
 */
export const FFT_MIN_BLOCK = { linear: 32, linearSmall: 128, smallBelow: 1 << 20, conv: 1 << 30 };

/**
 * Outside training (no gradients), weight-derived tensors (spectra, the expanded kernel) are
 * computed once and kept while the weights stay the same; the check compares the weight values.
 */
function sameValues(a: Float32Array, b: Float32Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

class InferenceCache {
  private key: Float32Array | null = null;
  private readonly items = new Map<string, Tensor>();
  get(weight: Tensor, name: string, make: () => Tensor): Tensor {
    if (isGradEnabled()) return make();
    const w = weight.data as Float32Array;
    if (!this.key || !sameValues(this.key, w)) { this.key = w.slice(); this.items.clear(); }
    let t = this.items.get(name);
    if (!t) { const m = make(); t = new Tensor(persistentCopy(Float32Array.from(m.data)), m.shape); this.items.set(name, t); }
    return t;
  }
}

function checkBlock(layer: string, inC: number, outC: number, N: number): void {
  for (const [name, v] of [['in', inC], ['out', outC], ['block size', N]] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
  if ((N & (N - 1)) !== 0) throw new Error(`${layer}: block size ${N} must be a power of two (the FFT's length)`);
  if (inC % N !== 0 || outC % N !== 0) {
    throw new Error(`${layer}: block size ${N} must divide both channel counts (in ${inC}, out ${outC}); choose a divisor of both, or pad the channels with toCirculant(…, { pad: true })`);
  }
}

/** Largest block size whose expanded path is built (its basis holds N³ floats). */
export const MAX_EXPANDED_BLOCK = 512;

/** P[t, a·N + b] = 1 where (a − b) mod N = t: w·P lays each vector out as its N×N circulant block. */
function circulantBasis(N: number): Tensor {
  if (N > MAX_EXPANDED_BLOCK) throw new Error(`the expanded (dense) path of a circulant layer is built for block sizes up to ${MAX_EXPANDED_BLOCK}, got ${N}; use path 'fft'`);
  const p = new Float32Array(N * N * N);
  for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) p[(((a - b) % N + N) % N) * N * N + a * N + b] = 1;
  return new Tensor(p, [N, N * N]);
}

/** Real multiplications counted for one real FFT (or inverse) of length N: N·log2 N (spec 02's estimate). */
function fftCost(N: number): number {
  return N > 1 ? N * Math.log2(N) : 0;
}

/**
 * Block-circulant fully connected layer: y = x·Wᵀ + b where W [out, in] is made of N×N
 * circulant blocks; `weight` [out/N, in/N, N] holds one defining vector per block (N× fewer
 * parameters). The 'fft' path computes through real FFTs (forward and backward); 'dense'
 * expands W and multiplies (the test oracle, and faster for small N).
 */
export class CircLinear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  path: CircPath = 'auto';
  private basisT: Tensor | null = null;
  private readonly cache = new InferenceCache();
  constructor(readonly inFeatures: number, readonly outFeatures: number, readonly blockSize: number, opts: { bias?: boolean; rng?: Rng } = {}) {
    super();
    checkBlock('CircLinear', inFeatures, outFeatures, blockSize);
    const N = blockSize;
    this.weight = this.registerParameter('weight', Tensor.zeros([outFeatures / N, inFeatures / N, N]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outFeatures]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  private get basis(): Tensor { return (this.basisT ??= circulantBasis(this.blockSize)); }
  /** PyTorch Linear's default, with the dense fan-in: U(±1/√in) for every entry. */
  resetParameters(rng: Rng): void {
    const b = 1 / Math.sqrt(this.inFeatures);
    uniform_(this.weight, rng, -b, b);
    if (this.bias) uniform_(this.bias, rng, -b, b);
  }
  /** The dense weight [out, in] this layer stands for (on the tape). */
  expand(): Tensor {
    const N = this.blockSize, S = this.outFeatures / N, R = this.inFeatures / N;
    const blocks = F.reshape(F.matmul(F.reshape(this.weight, [S * R, N]), this.basis), [S, R, N, N]);
    return F.reshape(F.transpose(blocks, [0, 2, 1, 3]), [this.outFeatures, this.inFeatures]);
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures) throw new Error(`CircLinear(${this.inFeatures}→${this.outFeatures}) expects [N, ${this.inFeatures}], got [${x.shape}]`);
    const y = this.usesFft() ? this.fftForward(x) : F.matmul(x, this.cache.get(this.weight, 'dense', () => this.expand()), { transB: true });
    return this.bias ? F.add(y, this.bias) : y;
  }
  /** Whether forward runs the FFT form (path, or for 'auto' the measured crossover). */
  usesFft(): boolean {
    const min = this.inFeatures * this.outFeatures < FFT_MIN_BLOCK.smallBelow ? FFT_MIN_BLOCK.linearSmall : FFT_MIN_BLOCK.linear;
    return this.path === 'fft' || (this.path === 'auto' && (this.blockSize >= min || this.blockSize > MAX_EXPANDED_BLOCK));
  }
  private fftForward(x: Tensor): Tensor {
    const N = this.blockSize, B = x.shape[0], S = this.outFeatures / N, R = this.inFeatures / N;
    // Spectra of each input block [2, B, R, F] and weight vector [2, S, R, F]; one complex
    // product per bin sums over the input blocks; the inverse gives each output block.
    const X = F.rfft(F.reshape(x, [B, R, N]));
    const W = this.cache.get(this.weight, 'spectra', () => F.rfft(this.weight));
    return F.reshape(F.irfft(F.binProduct(X, W)), [B, this.outFeatures]);
  }
  /** Parameters as stored; MACs of the dense-equivalent form; real multiplications of the FFT form. */
  costReport(out: readonly number[]): CostReport {
    const N = this.blockSize, S = this.outFeatures / N, R = this.inFeatures / N;
    const params = this.weight.size + (this.bias?.size ?? 0);
    const spatial = out.slice(0, -1).reduce((a, b) => a * b, 1);
    return { params, nonzeroParams: params, macs: this.outFeatures * this.inFeatures * spatial, effectiveMacs: this.outFeatures * this.inFeatures * spatial,
      fftMults: circMults(N, R, S, 1) * spatial };
  }
  toSpec(): LayerSpec { return { type: 'circlinear', in: this.inFeatures, out: this.outFeatures, block: this.blockSize, bias: !!this.bias }; }
}

/**
 * Real multiplications per output position of a block-circulant channel mix with k² taps
 * (spec 02): the frequency-domain products k²·R·S·(2N − 2) (bins 0 and N/2 are real, the
 * others complex at 4 real mults), plus the FFTs of the R input and S output vectors
 * (counted as N·log2 N each). Weight spectra are computed once per call and not counted.
 */
export function circMults(N: number, R: number, S: number, taps: number): number {
  if (N === 1) return taps * R * S;
  return taps * R * S * (2 * N - 2) + (R + S) * fftCost(N);
}

export interface CircConvOptions { stride?: number; padding?: number; dilation?: number; bias?: boolean; rng?: Rng }

/**
 * 2-D convolution whose kernel is block-circulant over the channels (CircConv): W[sN+a, rN+b, :, :]
 * = w[s, r, (a − b) mod N, :, :]; `weight` [out/N, in/N, N, k, k]. The 'fft' path transforms the
 * channels of each block per pixel, convolves each frequency bin (a complex convolution), and
 * transforms back; 'dense' expands the kernel and runs one convolution.
 */
export class CircConv2d extends Module {
  weight: Tensor;
  bias: Tensor | null;
  path: CircPath = 'auto';
  private readonly cache = new InferenceCache();
  readonly stride: number; readonly padding: number; readonly dilation: number;
  private basisT: Tensor | null = null;
  constructor(readonly inChannels: number, readonly outChannels: number, readonly kernelSize: number, readonly blockSize: number, opts: CircConvOptions = {}) {
    super();
    checkBlock('CircConv2d', inChannels, outChannels, blockSize);
    if (!Number.isInteger(kernelSize) || kernelSize < 1) throw new Error(`CircConv2d: kernel must be a positive integer, got ${kernelSize}`);
    this.stride = opts.stride ?? 1; this.padding = opts.padding ?? 0; this.dilation = opts.dilation ?? 1;
    const N = blockSize, k = kernelSize;
    this.weight = this.registerParameter('weight', Tensor.zeros([outChannels / N, inChannels / N, N, k, k]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outChannels]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  private get basis(): Tensor { return (this.basisT ??= circulantBasis(this.blockSize)); }
  /** PyTorch Conv2d's default with the dense fan-in k²·in: U(±1/√(k²·in)). */
  resetParameters(rng: Rng): void {
    const b = 1 / Math.sqrt(this.kernelSize * this.kernelSize * this.inChannels);
    uniform_(this.weight, rng, -b, b);
    if (this.bias) uniform_(this.bias, rng, -b, b);
  }
  /** The dense kernel [out, in, k, k] (on the tape). */
  expand(): Tensor {
    const N = this.blockSize, S = this.outChannels / N, R = this.inChannels / N, kk = this.kernelSize * this.kernelSize;
    const v = F.reshape(F.transpose(F.reshape(this.weight, [S * R, N, kk]), [0, 2, 1]), [S * R * kk, N]);
    const blocks = F.reshape(F.matmul(v, this.basis), [S, R, kk, N, N]); // [s, r, tap, a, b]
    return F.reshape(F.transpose(blocks, [0, 3, 1, 4, 2]), [this.outChannels, this.inChannels, this.kernelSize, this.kernelSize]);
  }
  private opts() { return { stride: this.stride, padding: this.padding, dilation: this.dilation }; }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels) throw new Error(`CircConv2d expects [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    if (!this.usesFft()) return F.conv2d(x, this.cache.get(this.weight, 'dense', () => this.expand()), this.bias, this.opts());
    return this.fftForward(x);
  }
  usesFft(): boolean {
    return this.path === 'fft' || (this.path === 'auto' && (this.blockSize >= FFT_MIN_BLOCK.conv || this.blockSize > MAX_EXPANDED_BLOCK));
  }
  private fftForward(x: Tensor): Tensor {
    const N = this.blockSize, [B, , H, W] = x.shape, S = this.outChannels / N, R = this.inChannels / N, k = this.kernelSize;
    const Fb = (N >> 1) + 1;
    // Input spectra over each block's channels, per pixel: [2, F, B, R, H, W].
    const X = F.transpose(F.rfft(F.transpose(F.reshape(x, [B, R, N, H, W]), [0, 1, 3, 4, 2])), [0, 5, 1, 2, 3, 4]);
    // Kernel spectra: [2, F, S, R, k, k].
    const Wf = this.cache.get(this.weight, 'spectra', () => F.transpose(F.rfft(F.transpose(this.weight, [0, 1, 3, 4, 2])), [0, 5, 1, 2, 3, 4]));
    const part = (t: Tensor, p: number, f: number, shape: number[]) => F.reshape(F.slice(t, [p, f], [p + 1, f + 1]), shape);
    const re: Tensor[] = [], im: Tensor[] = [];
    for (let f = 0; f < Fb; f++) {
      const xr = part(X, 0, f, [B, R, H, W]), xi = part(X, 1, f, [B, R, H, W]);
      const wr = part(Wf, 0, f, [S, R, k, k]), wi = part(Wf, 1, f, [S, R, k, k]);
      const conv = (a: Tensor, b: Tensor) => F.conv2d(a, b, null, this.opts());
      re.push(F.sub(conv(xr, wr), conv(xi, wi)));
      // Bins 0 and N/2 are real: their imaginary part is not needed.
      im.push(f === 0 || f === Fb - 1 ? F.mul(re[f], 0) : F.add(conv(xr, wi), conv(xi, wr)));
    }
    const [, , OH, OW] = re[0].shape;
    const stack = (ts: Tensor[]) => F.concat(ts.map((t) => F.reshape(t, [1, B, S, OH, OW])), 0); // [F, B, S, OH, OW]
    const Y = F.concat([F.reshape(stack(re), [1, Fb, B, S, OH, OW]), F.reshape(stack(im), [1, Fb, B, S, OH, OW])], 0);
    const y = F.irfft(F.transpose(Y, [0, 2, 3, 4, 5, 1])); // [B, S, OH, OW, N]
    const out = F.reshape(F.transpose(y, [0, 1, 4, 2, 3]), [B, this.outChannels, OH, OW]);
    return this.bias ? F.add(out, F.reshape(this.bias, [1, this.outChannels, 1, 1])) : out;
  }
  costReport(out: readonly number[]): CostReport {
    const N = this.blockSize, S = this.outChannels / N, R = this.inChannels / N, kk = this.kernelSize * this.kernelSize;
    const params = this.weight.size + (this.bias?.size ?? 0), spatial = out[1] * out[2];
    const macs = this.outChannels * this.inChannels * kk * spatial;
    return { params, nonzeroParams: params, macs, effectiveMacs: macs, fftMults: circMults(N, R, S, kk) * spatial };
  }
  toSpec(): LayerSpec {
    return { type: 'circconv2d', in: this.inChannels, out: this.outChannels, kernel: this.kernelSize, block: this.blockSize,
      stride: this.stride, padding: this.padding, dilation: this.dilation, bias: !!this.bias };
  }
}

registerLayer('circlinear', (s, rng) => new CircLinear(specInt(s, 'in'), specInt(s, 'out'), specInt(s, 'block'), { bias: s.bias !== false, rng }));
registerLayer('circconv2d', (s, rng) => new CircConv2d(specInt(s, 'in'), specInt(s, 'out'), specInt(s, 'kernel'), specInt(s, 'block'),
  { stride: specInt(s, 'stride', 1), padding: specInt(s, 'padding', 0), dilation: specInt(s, 'dilation', 1), bias: s.bias !== false, rng }));
