// Block-circulant layers (CirCNN, Ding et al. 2017; CircConv, Liao & Yuan 2019; spec
// shared/papers/02-circulant-conv.md). Each N×N block of the channel-mixing matrix is circulant,
// C[a, b] = w[(a − b) mod N] (a: output index in the block, b: input index) [D, our convention],
// so a block is one length-N vector and C·x = irfft(rfft(w) ⊙ rfft(x)).
import { Rng } from '../../core/rng.js';
import { isGradEnabled, Tensor } from '../../core/tensor.js';
import { persistentCopy } from '../../core/arena.js';
import * as F from '../../ops/index.js';
import { binProduct, circGemv, irfft, irfftBins, rfft, rfftBins } from './fft-ops.js';
import { binConv2d } from './bin-conv.js';
import { uniform_ } from '../../nn/init.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import type { CostReport } from '../../report/profile.js';
import { registerLayer, specInt } from '../../nn/spec.js';
import { convPlan, linearPlan, registerLayerFields, type Fields } from '../../nn/spec-plan.js';
import { LimitError } from '../../core/limits.js';
import type { GroupHint } from '../../optim/groups.js';

/** 'auto' picks the FFT form from the block size up that a benchmark found faster (FFT_MIN_BLOCK). */
export type CircPath = 'auto' | 'fft' | 'dense';

/**
 * Where the 'auto' path takes the FFT form: the crossovers `npm run bench:circulant` found on this
 * machine (runs/bench-circulant.json; docs/measurements.md). CircLinear: from block size 8, except
 * small layers (in·out < 2²⁰) at batches above CIRC_GEMV.maxBatch, from 32. CircConv2d, at inference
 * only (training keeps the expanded kernel, as spec 02 advises): from N = 8 when both channel counts
 * are ≥ 32, from N = 4 when both are ≥ 64.
 */
export const FFT_MIN_BLOCK = {
  linear: 8,
  linearSmall: 32,
  smallBelow: 1 << 20,
  conv: 8,
  convMinChannels: 32,
  convWide: 4,
  convWideChannels: 64,
};

/**
 * Outside training (no gradients), weight-derived tensors (spectra, per-bin matrices, the
 * expanded kernel) are computed once and kept while the weight stays the same: the same array,
 * the same version (Tensor.version, bumped by optimizers, loadStateDict, initialisers, pruning),
 * and — a guard against writes to `data` that skipped markChanged() — the same values at 61
 * sampled positions. A full comparison would cost as much as the batch-1 product itself.
 */
const SAMPLES = 61;

/** The i-th of n sampled positions in an array of length len. */
const samplePos = (i: number, n: number, len: number): number => Math.floor((i * len) / n);

function sample(w: Float32Array): Float32Array {
  const out = new Float32Array(Math.min(SAMPLES, w.length));
  for (let i = 0; i < out.length; i++) out[i] = w[samplePos(i, out.length, w.length)];
  return out;
}

/** Whether w still holds `kept` at sample()'s positions (no allocation: this runs on every call). */
function sameSample(w: Float32Array, kept: Float32Array): boolean {
  const n = kept.length;
  if (n !== Math.min(SAMPLES, w.length)) return false;
  for (let i = 0; i < n; i++) if (!Object.is(w[samplePos(i, n, w.length)], kept[i])) return false;
  return true;
}

class InferenceCache {
  private key: { data: unknown; version: number; sample: Float32Array } | null = null;
  private readonly items = new Map<string, Tensor>();
  get(weight: Tensor, name: string, make: () => Tensor): Tensor {
    if (isGradEnabled()) return make();
    const w = weight.data as Float32Array,
      k = this.key;
    if (!k || k.data !== w || k.version !== weight.version || !sameSample(w, k.sample)) {
      this.key = { data: w, version: weight.version, sample: sample(w) };
      this.items.clear();
    }
    let t = this.items.get(name);
    if (!t) {
      const m = make();
      t = new Tensor(persistentCopy(Float32Array.from(m.data)), m.shape);
      this.items.set(name, t);
    }
    return t;
  }
}

function checkBlock(layer: string, inC: number, outC: number, N: number, pad: boolean): void {
  for (const [name, v] of [
    ['in', inC],
    ['out', outC],
    ['block size', N],
  ] as const) {
    if (!Number.isInteger(v) || v < 1) throw new Error(`${layer}: ${name} must be a positive integer, got ${v}`);
  }
  if ((N & (N - 1)) !== 0) throw new Error(`${layer}: block size ${N} must be a power of two (the FFT's length)`);
  // Padding to whole blocks is for a block a little above one channel count; a block above both is all
  // zeros, multiplies the layer's cost by up to N/channels and would let one spec field size the memory.
  if (N > Math.max(inC, outC))
    throw new Error(
      `${layer}: block size ${N} exceeds the layer's channels (in ${inC}, out ${outC}); it can be at most ` +
        `${Math.max(inC, outC)}`,
    );
  if (!pad && (inC % N !== 0 || outC % N !== 0)) {
    throw new Error(
      `${layer}: block size ${N} must divide both channel counts (in ${inC}, out ${outC}); choose a divisor of ` +
        `both, or zero-pad the channels to whole blocks with { pad: true } (toCirculant(…, { pad: true }), ` +
        `frugal circulant --pad), which costs the padded blocks' parameters and multiplications`,
    );
  }
}

/** Zero-pad axis 1 of x from its size to `to` (channels or features up to whole blocks). */
function padAxis1(x: Tensor, to: number): Tensor {
  const n = x.shape[1];
  if (n === to) return x;
  const shape = [...x.shape];
  shape[1] = to - n;
  return F.concat([x, Tensor.zeros(shape, x.dtype)], 1);
}

/** The first `n` entries of axis 1 of x (drops padded outputs). */
function cropAxis1(x: Tensor, n: number): Tensor {
  return x.shape[1] === n ? x : F.slice(x, [0, 0], [x.shape[0], n]);
}

/**
 * Each defining value of a circulant layer stands for N weights, so its gradient sums N copies:
 * SGD steps it at lr/N [OURS], the projection of the dense layer's step; Adam's step does not
 * grow with the gradient's scale and keeps lr. Used through paramGroups(model, 'sgd', lr).
 */
function tiedHints(optimizer: string, w: Tensor, N: number): GroupHint[] {
  return optimizer === 'sgd' ? [{ params: [w], lrScale: 1 / N }] : [];
}

/** Largest block size whose expanded path is built (its basis holds N³ floats). */
export const MAX_EXPANDED_BLOCK = 512;

/** P[t, a·N + b] = 1 where (a − b) mod N = t: w·P lays each vector out as its N×N circulant block. */
function circulantBasis(N: number): Tensor {
  if (N > MAX_EXPANDED_BLOCK)
    throw new Error(
      `the expanded (dense) path of a circulant layer is built for block sizes up to ${MAX_EXPANDED_BLOCK}, got ` +
        `${N}; use path 'fft'`,
    );
  const p = new Float32Array(N * N * N);
  for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) p[((((a - b) % N) + N) % N) * N * N + a * N + b] = 1;
  return new Tensor(p, [N, N * N]);
}

/** Real multiplications counted for one real FFT (or inverse) of length N: N·log2 N (spec 02's estimate). */
function fftCost(N: number): number {
  return N > 1 ? N * Math.log2(N) : 0;
}

/**
 * Per-bin real matrices of a block-circulant weight (see rfftBins in ops/fft.ts): from weight
 * spectra Wf [2, S, R, T, F] (T taps) to G [H, 2S, 2R, T] with G[h] = [[Wr, −Wi], [Wi, Wr]] at
 * bin h ≥ 1 and G[0] = diag(W[0], W[N/2]) (both real), H = N/2. On the tape.
 */
function binMatrices(Wf: Tensor, N: number): Tensor {
  const [, S, R, T] = Wf.shape,
    H = N >> 1;
  const t = F.transpose(Wf, [4, 0, 1, 2, 3]); // [F, 2, S, R, T]
  const part = (f0: number, f1: number, c: number) => F.slice(t, [f0, c], [f1, c + 1]); // [f1 − f0, 1, S, R, T]
  const quad = (a: Tensor, b: Tensor, c: Tensor, d: Tensor) => F.concat([F.concat([a, b], 3), F.concat([c, d], 3)], 2);
  const zero = Tensor.zeros([1, 1, S, R, T], Wf.dtype);
  const g0 = quad(part(0, 1, 0), zero, zero, part(H, H + 1, 0));
  const gs = H > 1 ? [g0, quad(part(1, H, 0), F.mul(part(1, H, 1), -1), part(1, H, 1), part(1, H, 0))] : [g0];
  return F.reshape(gs.length > 1 ? F.concat(gs, 0) : g0, [H, 2 * S, 2 * R, T]);
}

/**
 * Whether the per-bin products of a [B, R·N] → [B, S·N] circulant product run as one real
 * matrix product per bin (worth it when each is big enough: 4·R·S·B multiply-adds) rather than
 * as complex products vectorised over the bins. Threshold from `npm run bench:circulant`.
 */
export const BIN_GEMM_MIN_MACS = 8192;

/**
 * Where CircLinear's inference runs circGemv (one backend call: transforms, a per-bin complex
 * matrix–vector product vectorised over the output blocks, inverse, bias; one thread): batches
 * up to maxBatch, weight spectra up to maxSpectra complex entries (F·R·S, 1 MiB as float32
 * pairs). One call saves the per-op overhead that dominates at batch 1; the two limits are our
 * choice, not measured crossovers (larger weights keep the threaded bin-GEMM path).
 */
export const CIRC_GEMV = { maxBatch: 8, maxSpectra: 1 << 17 };
function binGemm(B: number, R: number, S: number): boolean {
  return 4 * R * S * B >= BIN_GEMM_MIN_MACS;
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
  /** Blocks along the input and output (whole blocks; more than in/N when padded). */
  readonly inBlocks: number;
  readonly outBlocks: number;
  /** Zero-padding of the features to whole blocks (when the block size does not divide them). */
  readonly pad: boolean;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    readonly blockSize: number,
    opts: { bias?: boolean; rng?: Rng; pad?: boolean } = {},
  ) {
    super();
    this.pad = !!opts.pad;
    checkBlock('CircLinear', inFeatures, outFeatures, blockSize, this.pad);
    const N = blockSize;
    this.inBlocks = Math.ceil(inFeatures / N);
    this.outBlocks = Math.ceil(outFeatures / N);
    this.weight = this.registerParameter('weight', Tensor.zeros([this.outBlocks, this.inBlocks, N]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outFeatures]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  private get basis(): Tensor {
    return (this.basisT ??= circulantBasis(this.blockSize));
  }
  paramGroupHints(optimizer: string): GroupHint[] {
    return tiedHints(optimizer, this.weight, this.blockSize);
  }
  /** PyTorch Linear's default, with the dense fan-in: U(±1/√in) for every entry. */
  resetParameters(rng: Rng): void {
    const b = 1 / Math.sqrt(this.inFeatures);
    uniform_(this.weight, rng, -b, b);
    if (this.bias) uniform_(this.bias, rng, -b, b);
  }
  /** The dense weight [out, in] this layer stands for (on the tape). */
  expand(): Tensor {
    const N = this.blockSize,
      S = this.outBlocks,
      R = this.inBlocks;
    const blocks = F.reshape(F.matmul(F.reshape(this.weight, [S * R, N]), this.basis), [S, R, N, N]);
    const full = F.reshape(F.transpose(blocks, [0, 2, 1, 3]), [S * N, R * N]);
    return this.pad ? F.slice(full, [0, 0], [this.outFeatures, this.inFeatures]) : full;
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures)
      throw new Error(
        `CircLinear(${this.inFeatures}→${this.outFeatures}) expects [N, ${this.inFeatures}], got [${x.shape}]`,
      );
    if (this.usesGemv(x.shape[0])) return this.gemvForward(x);
    const y = this.usesFft(x.shape[0])
      ? this.fftForward(x)
      : F.matmul(
          x,
          this.cache.get(this.weight, 'dense', () => this.expand()),
          { transB: true },
        );
    return this.bias ? F.add(y, this.bias) : y;
  }
  /** Whether forward at this batch size runs the FFT form (path, or for 'auto' the measured crossover). */
  usesFft(batch = 1): boolean {
    const small = this.inFeatures * this.outFeatures < FFT_MIN_BLOCK.smallBelow && batch > CIRC_GEMV.maxBatch;
    const min = small ? FFT_MIN_BLOCK.linearSmall : FFT_MIN_BLOCK.linear;
    return (
      this.path === 'fft' || (this.path === 'auto' && (this.blockSize >= min || this.blockSize > MAX_EXPANDED_BLOCK))
    );
  }
  /** Whether forward runs the one-call inference product (circGemv): FFT form, no gradients, small batch and weights.
   * */
  usesGemv(batch: number): boolean {
    const N = this.blockSize,
      F = (N >> 1) + 1;
    return (
      N >= 2 &&
      !isGradEnabled() &&
      batch <= CIRC_GEMV.maxBatch &&
      F * this.inBlocks * this.outBlocks <= CIRC_GEMV.maxSpectra &&
      this.usesFft(batch)
    );
  }
  private gemvForward(input: Tensor): Tensor {
    const N = this.blockSize,
      S = this.outBlocks,
      R = this.inBlocks;
    // [2, F, R, S]
    const WT = this.cache.get(this.weight, 'spectraT', () => F.transpose(rfft(this.weight), [0, 3, 2, 1]));
    // The kernel adds an unpadded bias itself; a padded layer's is added after cropping.
    const y = cropAxis1(circGemv(padAxis1(input, R * N), WT, N, this.pad ? null : this.bias), this.outFeatures);
    return this.bias && this.pad ? F.add(y, this.bias) : y;
  }
  private fftForward(input: Tensor): Tensor {
    const N = this.blockSize,
      B = input.shape[0],
      S = this.outBlocks,
      R = this.inBlocks;
    const x = padAxis1(input, R * N);
    return cropAxis1(this.fftProduct(x, B, R, S, N), this.outFeatures);
  }
  /** x [B, R·N] → [B, S·N] through the FFT. */
  private fftProduct(x: Tensor, B: number, R: number, S: number, N: number): Tensor {
    if (N === 1) return F.matmul(x, F.reshape(this.weight, [S, R]), { transB: true });
    if (!binGemm(B, R, S)) {
      // Few channels per bin: complex products vectorised over the bins ([2, B, R, F] spectra).
      const Xs = rfft(F.reshape(x, [B, R, N]));
      const Ws = this.cache.get(this.weight, 'spectra', () => rfft(this.weight));
      return F.reshape(irfft(binProduct(Xs, Ws)), [B, S * N]);
    }
    // Packed input spectra [H, B, 2R]; per bin one real product with G[h] [2S, 2R]; back through the inverse.
    const X = F.reshape(rfftBins(x, B, R, N), [N >> 1, B, 2 * R]);
    const G = this.cache.get(this.weight, 'bins', () =>
      F.reshape(binMatrices(F.reshape(rfft(this.weight), [2, S, R, 1, (N >> 1) + 1]), N), [N >> 1, 2 * S, 2 * R]),
    );
    const Y = F.matmul(X, G, { transB: true }); // [H, B, 2S]
    return F.reshape(irfftBins(F.reshape(Y, [N >> 1, B, 2, S, 1])), [B, S * N]);
  }
  /** Parameters as stored; MACs of the dense-equivalent form; real multiplications of the FFT form. */
  costReport(out: readonly number[]): CostReport {
    const N = this.blockSize,
      S = this.outBlocks,
      R = this.inBlocks;
    const params = this.weight.size + (this.bias?.size ?? 0);
    const spatial = out.slice(0, -1).reduce((a, b) => a * b, 1);
    return {
      params,
      nonzeroParams: params,
      macs: this.outFeatures * this.inFeatures * spatial,
      effectiveMacs: this.outFeatures * this.inFeatures * spatial,
      extras: { fftMults: circMults(N, R, S, 1) * spatial },
    };
  }
  toSpec(): LayerSpec {
    return {
      type: 'circlinear',
      in: this.inFeatures,
      out: this.outFeatures,
      block: this.blockSize,
      bias: !!this.bias,
      ...(this.pad ? { pad: true } : {}),
    };
  }
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

export interface CircConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
  rng?: Rng;
  pad?: boolean;
}

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
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  /** Blocks along the input and output channels (whole blocks; more than C/N when padded). */
  readonly inBlocks: number;
  readonly outBlocks: number;
  /** Zero-padding of the channels to whole blocks (when the block size does not divide them). */
  readonly pad: boolean;
  private basisT: Tensor | null = null;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly blockSize: number,
    opts: CircConvOptions = {},
  ) {
    super();
    this.pad = !!opts.pad;
    checkBlock('CircConv2d', inChannels, outChannels, blockSize, this.pad);
    if (!Number.isInteger(kernelSize) || kernelSize < 1)
      throw new Error(`CircConv2d: kernel must be a positive integer, got ${kernelSize}`);
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.dilation = opts.dilation ?? 1;
    const N = blockSize,
      k = kernelSize;
    this.inBlocks = Math.ceil(inChannels / N);
    this.outBlocks = Math.ceil(outChannels / N);
    this.weight = this.registerParameter('weight', Tensor.zeros([this.outBlocks, this.inBlocks, N, k, k]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outChannels]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  private get basis(): Tensor {
    return (this.basisT ??= circulantBasis(this.blockSize));
  }
  paramGroupHints(optimizer: string): GroupHint[] {
    return tiedHints(optimizer, this.weight, this.blockSize);
  }
  /** PyTorch Conv2d's default with the dense fan-in k²·in: U(±1/√(k²·in)). */
  resetParameters(rng: Rng): void {
    const b = 1 / Math.sqrt(this.kernelSize * this.kernelSize * this.inChannels);
    uniform_(this.weight, rng, -b, b);
    if (this.bias) uniform_(this.bias, rng, -b, b);
  }
  /** The dense kernel [out, in, k, k] (on the tape). */
  expand(): Tensor {
    const N = this.blockSize,
      S = this.outBlocks,
      R = this.inBlocks,
      kk = this.kernelSize * this.kernelSize;
    const v = F.reshape(F.transpose(F.reshape(this.weight, [S * R, N, kk]), [0, 2, 1]), [S * R * kk, N]);
    const blocks = F.reshape(F.matmul(v, this.basis), [S, R, kk, N, N]); // [s, r, tap, a, b]
    const full = F.reshape(F.transpose(blocks, [0, 3, 1, 4, 2]), [S * N, R * N, this.kernelSize, this.kernelSize]);
    return this.pad ? F.slice(full, [0, 0], [this.outChannels, this.inChannels]) : full;
  }
  private opts() {
    return { stride: this.stride, padding: this.padding, dilation: this.dilation };
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels)
      throw new Error(`CircConv2d expects [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    if (!this.usesFft())
      return F.conv2d(
        x,
        this.cache.get(this.weight, 'dense', () => this.expand()),
        this.bias,
        this.opts(),
      );
    return this.fftForward(x);
  }
  /** Whether forward runs the FFT form (path, or for 'auto' the measured crossover, at inference). */
  usesFft(): boolean {
    if (this.path !== 'auto') return this.path === 'fft';
    const c = Math.min(this.inChannels, this.outChannels),
      N = this.blockSize;
    const faster =
      (c >= FFT_MIN_BLOCK.convMinChannels && N >= FFT_MIN_BLOCK.conv) ||
      (c >= FFT_MIN_BLOCK.convWideChannels && N >= FFT_MIN_BLOCK.convWide);
    return N > MAX_EXPANDED_BLOCK || (!isGradEnabled() && faster);
  }
  private fftForward(input: Tensor): Tensor {
    const N = this.blockSize,
      [B, , Hi, Wi] = input.shape,
      S = this.outBlocks,
      R = this.inBlocks,
      k = this.kernelSize,
      H = N >> 1;
    const x = padAxis1(input, R * N);
    if (N === 1) return F.conv2d(x, F.reshape(this.weight, [S, R, k, k]), this.bias, this.opts());
    // Packed spectra over each block's channels, per pixel: [H, B, 2R, Hi, Wi]; per bin one real
    // convolution 2R → 2S with the kernels G[h] [2S, 2R, k, k]; the inverse gives the channels back.
    const X = rfftBins(x, B, R, N, Hi * Wi);
    const G = this.cache.get(this.weight, 'bins', () => {
      const Wf = rfft(F.transpose(this.weight, [0, 1, 3, 4, 2])); // [2, S, R, k, k, F]
      return F.reshape(binMatrices(F.reshape(Wf, [2, S, R, k * k, H + 1]), N), [H, 2 * S, 2 * R, k, k]);
    });
    // [H, B, 2S, OH, OW]
    const Yb = binConv2d(F.reshape(X, [H, B, 2 * R, Hi, Wi]), F.reshape(G, [H, 2 * S, 2 * R, k, k]), this.opts());
    const [, , , OH, OW] = Yb.shape;
    const Y = F.reshape(Yb, [H, B, 2, S, OH * OW]);
    const out = cropAxis1(F.reshape(irfftBins(Y), [B, S * N, OH, OW]), this.outChannels);
    return this.bias ? F.add(out, F.reshape(this.bias, [1, this.outChannels, 1, 1])) : out;
  }
  costReport(out: readonly number[]): CostReport {
    const N = this.blockSize,
      S = this.outBlocks,
      R = this.inBlocks,
      kk = this.kernelSize * this.kernelSize;
    const params = this.weight.size + (this.bias?.size ?? 0),
      spatial = out[1] * out[2];
    const macs = this.outChannels * this.inChannels * kk * spatial;
    return {
      params,
      nonzeroParams: params,
      macs,
      effectiveMacs: macs,
      extras: { fftMults: circMults(N, R, S, kk) * spatial },
    };
  }
  toSpec(): LayerSpec {
    return {
      type: 'circconv2d',
      in: this.inChannels,
      out: this.outChannels,
      kernel: this.kernelSize,
      block: this.blockSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      bias: !!this.bias,
      ...(this.pad ? { pad: true } : {}),
    };
  }
}

registerLayer(
  'circlinear',
  (s, rng) =>
    new CircLinear(specInt(s, 'in'), specInt(s, 'out'), specInt(s, 'block'), {
      bias: s.bias !== false,
      rng,
      pad: s.pad === true,
    }),
  (s, x, f) => {
    const [i, o, N] = [f.int('in', undefined, 1), f.int('out', undefined, 1), circBlock(s, f)];
    return linearPlan(x, o, Math.ceil(o / N) * Math.ceil(i / N) * N + (s.bias !== false ? o : 0));
  },
);
registerLayer(
  'circconv2d',
  (s, rng) =>
    new CircConv2d(specInt(s, 'in'), specInt(s, 'out'), specInt(s, 'kernel'), specInt(s, 'block'), {
      stride: specInt(s, 'stride', 1),
      padding: specInt(s, 'padding', 0),
      dilation: specInt(s, 'dilation', 1),
      bias: s.bias !== false,
      rng,
      pad: s.pad === true,
    }),
  (s, x, f) => {
    const [i, o, k, N] = [
      f.int('in', undefined, 1),
      f.int('out', undefined, 1),
      f.int('kernel', undefined, 1),
      circBlock(s, f),
    ];
    const g = {
      out: o,
      kernel: k,
      stride: f.int('stride', 1, 1),
      padding: f.int('padding', 0),
      dilation: f.int('dilation', 1, 1),
    };
    return convPlan(x, 2, g, Math.ceil(o / N) * Math.ceil(i / N) * N * k * k + (s.bias !== false ? o : 0));
  },
);

/** A circulant spec's block size, refused above both channel counts before the plan sizes anything by it. */
const circFields = {
  block: 'required (block size N: N× fewer weights)',
  bias: 'true',
  pad: 'false (true: zero-pad in and out to a multiple of the block)',
};
registerLayerFields('circlinear', { in: 'required', out: 'required', ...circFields });
registerLayerFields('circconv2d', {
  in: 'required',
  out: 'required',
  kernel: 'required',
  stride: '1',
  padding: '0',
  dilation: '1',
  ...circFields,
});

function circBlock(s: LayerSpec, f: Fields): number {
  const N = f.int('block', undefined, 1),
    most = Math.max(f.int('in', undefined, 1), f.int('out', undefined, 1));
  if (N > most)
    throw new LimitError(
      `layer '${s.type}' field 'block' is ${N}, above the layer's channels (in ${s.in}, out ${s.out}): at most ${most}`,
    );
  return N;
}
