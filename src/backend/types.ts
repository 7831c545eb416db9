import type { FArray } from '../core/dtype.js';

/** Geometry of a 2-D convolution on NCHW input [B,C,H,W] with weights [Co,C,kh,kw]. */
export interface ConvGeom {
  B: number; C: number; H: number; W: number; Co: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number; dh: number; dw: number;
  OH: number; OW: number;
}

/** Geometry of 2-D pooling over P = B·C planes of H×W. */
export interface PoolGeom {
  P: number; H: number; W: number; kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
  OH: number; OW: number;
}

/** A sparse matrix in compressed-sparse-row form: row r holds vals[rowPtr[r] … rowPtr[r+1]) at columns colIdx[…]. */
export interface Csr { rows: number; cols: number; rowPtr: Int32Array; colIdx: Int32Array; vals: FArray }

export type PoolMode = 'max' | 'avg';
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

export interface AdamHyper {
  lr: number; beta1: number; beta2: number; eps: number; weightDecay: number;
  /** 1 - β1^t and 1 - β2^t */
  bc1: number; bc2: number;
  decoupled: boolean;
}

/**
 * The narrow seam to the compute. Arrays are dense row-major. The reference backend
 * accepts float32 and float64; the WebAssembly backend float32 only.
 */
export interface Backend {
  readonly name: string;
  /** C[M×N] = op(A)·op(B) (+ C when acc). A is M×K (K×M if transA), B is K×N (N×K if transB). */
  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: FArray, B: FArray, C: FArray, acc: boolean): void;
  /**
   * `batch` products C_i = op(A_i)·op(B_i) on consecutive slabs (A_i: M·K values, B_i: K·N, or
   * one B for all when sharedB, C_i: M·N). Each equals gemm() on its slabs.
   */
  gemmBatch(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number, A: FArray, B: FArray, C: FArray, sharedB: boolean): void;
  im2col(x: FArray, g: ConvGeom, col: FArray): void;
  col2im(col: FArray, g: ConvGeom, dx: FArray): void;
  conv2dForward(x: FArray, w: FArray, bias: FArray | null, g: ConvGeom, out: FArray): void;
  /** binConv2d: `bins` convolutions without bias, bin h on slab h of x, w and out (each contiguous). */
  binConv2dForward(x: FArray, w: FArray, g: ConvGeom, bins: number, out: FArray): void;
  /** dw (and db, dx when given) from dy. */
  conv2dBackward(x: FArray, w: FArray, dy: FArray, g: ConvGeom, dw: FArray, db: FArray | null, dx: FArray | null): void;
  pool2dForward(x: FArray, g: PoolGeom, mode: PoolMode, out: FArray): void;
  pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, dx: FArray): void;
  relu(x: FArray, y: FArray): void;
  reluBackward(x: FArray, dy: FArray, dx: FArray): void;
  /** Same-length elementwise a (op) b. */
  binary(kind: BinaryKind, a: FArray, b: FArray, y: FArray): void;
  adam(p: FArray, g: FArray, m: FArray, v: FArray, h: AdamHyper): void;
  /**
   * y = x·scale[c] + shift[c] with x viewed as [outer, C, inner] (batch norm at inference, a
   * per-channel bias); a null scale or shift is left out. Product and sum rounded separately.
   */
  channelAffine(x: FArray, scale: FArray | null, shift: FArray | null, outer: number, inner: number, y: FArray): void;
  /** Batch norm over outer × C × inner values (channel C in the middle): per channel the mean and the biased variance. */
  bnStats(x: FArray, outer: number, inner: number, mean: FArray, variance: FArray): void;
  /** x̂ = (x − mean[c])·invStd[c] (written to xhat unless null) and y = gamma[c]·x̂ + beta[c]. */
  bnNormalize(x: FArray, outer: number, inner: number, mean: FArray, invStd: FArray, gamma: FArray, beta: FArray, xhat: FArray | null, y: FArray): void;
  /** Per channel Σ gy and Σ gy·x̂. */
  bnGradSums(gy: FArray, xhat: FArray, outer: number, inner: number, sumG: FArray, sumGX: FArray): void;
  /** dx = k[c]·(gy − mg[c] − x̂·mgx[c]). */
  bnInputGrad(gy: FArray, xhat: FArray, outer: number, inner: number, k: FArray, mg: FArray, mgx: FArray, dx: FArray): void;
  /** y = a + b where b repeats back to back over a (a bias over a batch). */
  tileAdd(a: FArray, b: FArray, y: FArray): void;
  /** out[j] = Σ_r g[r·out.length + j], summed in row order. */
  sumTiles(g: FArray, out: FArray): void;
  /** Y[rows × n] = S·X for a CSR matrix S and dense X [cols × n]. */
  spmm(s: Csr, X: FArray, n: number, Y: FArray): void;
  /** out[c × r] = x[r × c]ᵀ. */
  transpose(x: FArray, r: number, c: number, out: FArray): void;
  /**
   * Real FFT of M vectors of length N (1 or a power of two): x [M × N] → re, im [M × (N/2+1)],
   * X[k] = Σ_n x[n]·e^(−2πikn/N).
   */
  rfft(x: FArray, M: number, N: number, re: FArray, im: FArray): void;
  /** Inverse of rfft: (re, im) [M × (N/2+1)] → x [M × N], 1/N scaled; imaginary parts of bins 0 and N/2 ignored. */
  irfft(re: FArray, im: FArray, M: number, N: number, x: FArray): void;
  /**
   * rfft of M vectors (N ≥ 2) into the packed bin-major layout [N/2, M/RP, 2, RP] of
   * backend/bins.ts. x is [M × N], or with P > 1 (P | RP) [M/P × N × P]: vector g·P + p has its
   * elements P apart (channels of a pixel).
   */
  rfftPacked(x: FArray, M: number, N: number, RP: number, out: FArray, P?: number): void;
  /** Inverse of rfftPacked: packed [N/2, M/RP, 2, RP] → x (same layouts). */
  irfftPacked(packed: FArray, M: number, N: number, RP: number, x: FArray, P?: number): void;
  /**
   * Per-bin complex products of half spectra, planes (re, im) separate, bins contiguous:
   * mode 0 Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f]; mode 1 Y[b,r,f] = Σ_s conj(W[s,r,f])·A[b,s,f];
   * mode 2 Y[s,r,f] = Σ_b A[b,s,f]·conj(W[b,r,f]).
   */
  cbin(a: [FArray, FArray], w: [FArray, FArray], y: [FArray, FArray], B: number, R: number, S: number, F: number, mode: 0 | 1 | 2): void;
  /**
   * Inference product of a block-circulant linear layer, all in one call (small batches):
   * x [B × R·N] → y [B × S·N], y[b, s] = irfft(Σ_r W[s,r] ⊙ rfft(x[b, r])) (+ bias [S·N]), with the
   * weight spectra bin-major, wt [2, F, R, S] (F = N/2 + 1, plane 0 real, 1 imaginary), N ≥ 2.
   */
  circGemv(x: FArray, B: number, R: number, S: number, N: number, wt: FArray, bias: FArray | null, y: FArray): void;
  /**
   * Signs as bits (1 for x ≥ 0): x [M × K] → out [M × 2·⌈K/64⌉] (Int32Array holding 64-bit
   * words, low half first), padding bits 0.
   */
  packSigns(x: FArray, M: number, K: number, out: Int32Array): void;
  /**
   * Binary convolution patches: the signs of x [B, C, H, W] under every output position and tap,
   * out [B·OH·OW × kh·kw·2·⌈C/64⌉] (per tap the channel bits, whole 64-bit words); taps in the
   * padding read padValue (±1) on every real channel. Dilation 1. dense (C < 64 only): the taps'
   * C bits back to back, rows of 2·⌈kh·kw·C/64⌉ (no word per tap, less padding to XNOR).
   */
  packPatches(x: FArray, g: ConvGeom, padValue: 1 | -1, out: Int32Array, dense?: boolean): void;
  /**
   * C[i, j] = Σ_k a_ik·b_jk over ±1 values from packed rows A [M × ·] and B [N × ·] holding K
   * real bits (XNOR-popcount: K − 2·popcount(a XOR b)); rows are `rowWords` 64-bit words
   * (default ⌈K/64⌉; more for convolution patches, whose taps each fill whole words), every
   * padding bit 0 on both sides.
   */
  bgemm(A: Int32Array, B: Int32Array, M: number, N: number, K: number, C: Int32Array, rowWords?: number): void;
  /** out [C, H+2p, W+2p] = sign(x) (±1, sign(0) = +1) of x [C, H, W], bordered by p pixels of padValue: a binary layer's padded input. */
  signPad(x: FArray, C: number, H: number, W: number, p: number, padValue: 1 | -1, out: FArray): void;
  /** The nine 3×3 jet maps of every channel (neural jet features): x [C, H, W] → out [C, 9, H−2, W−2], exact on integers. */
  jetTree(x: FArray, C: number, H: number, W: number, out: FArray): void;
  /** conv2d forward whose weights [Co, C·kh·kw] are a CSR matrix (pruned weights at inference). */
  conv2dSparse(x: FArray, w: Csr, bias: FArray | null, g: ConvGeom, out: FArray): void;
}
