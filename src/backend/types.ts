import type { FArray } from '../core/dtype.js';

/** Geometry of a 2-D convolution on NCHW input [B,C,H,W] with weights [Co,C,kh,kw]. */
export interface ConvGeom {
  B: number;
  C: number;
  H: number;
  W: number;
  Co: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  dh: number;
  dw: number;
  OH: number;
  OW: number;
}

/** Geometry of 2-D pooling over P = B·C planes of H×W. */
export interface PoolGeom {
  P: number;
  H: number;
  W: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  OH: number;
  OW: number;
}

export type PoolMode = 'max' | 'avg';

/**
 * What conv2dForward applies to each output as it stores it, at inference (no gradient is taken through it):
 * relu = max(·, 0), then pool = 2×2 max pooling with stride 2 (needs relu), so out is
 * [B, Co, ⌊OH/2⌋, ⌊OW/2⌋].
 * Bit-identical to the separate relu and pool2dForward passes.
 */
export interface ConvEpilogue {
  relu?: boolean;
  pool?: boolean;
}
export type BinaryKind = 'add' | 'sub' | 'mul' | 'div';

export interface AdamHyper {
  lr: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
  /** 1 - β1^t and 1 - β2^t */
  bc1: number;
  bc2: number;
  decoupled: boolean;
}

/**
 * The narrow seam to the compute: the core kernels only. Arrays are dense row-major. The
 * reference backend accepts float32 and float64; the WebAssembly backend float32 only. A
 * technique's own kernels (FFT, XNOR-popcount, sparse, …) are a kernel family in its folder
 * (backend/family.ts), never a method here.
 */
export interface Backend {
  readonly name: string;
  /** C[M×N] = op(A)·op(B) (+ C when acc). A is M×K (K×M if transA), B is K×N (N×K if transB). */
  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: FArray,
    B: FArray,
    C: FArray,
    acc: boolean,
  ): void;
  /**
   * `batch` products C_i = op(A_i)·op(B_i) on consecutive slabs (A_i: M·K values, B_i: K·N, or
   * one B for all when sharedB, C_i: M·N). Each equals gemm() on its slabs.
   */
  gemmBatch(
    transA: boolean,
    transB: boolean,
    batch: number,
    M: number,
    N: number,
    K: number,
    A: FArray,
    B: FArray,
    C: FArray,
    sharedB: boolean,
  ): void;
  im2col(x: FArray, g: ConvGeom, col: FArray): void;
  col2im(col: FArray, g: ConvGeom, dx: FArray): void;
  /** out = conv(x, w) + bias, then the epilogue (inference only; none by default). */
  conv2dForward(x: FArray, w: FArray, bias: FArray | null, g: ConvGeom, out: FArray, epi?: ConvEpilogue): void;
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
  /** Batch norm over outer × C × inner values (channel C in the middle): per channel the mean and the biased
   * variance.
   * */
  bnStats(x: FArray, outer: number, inner: number, mean: FArray, variance: FArray): void;
  /** x̂ = (x − mean[c])·invStd[c] (written to xhat unless null) and y = gamma[c]·x̂ + beta[c]. */
  bnNormalize(
    x: FArray,
    outer: number,
    inner: number,
    mean: FArray,
    invStd: FArray,
    gamma: FArray,
    beta: FArray,
    xhat: FArray | null,
    y: FArray,
  ): void;
  /** Per channel Σ gy and Σ gy·x̂. */
  bnGradSums(gy: FArray, xhat: FArray, outer: number, inner: number, sumG: FArray, sumGX: FArray): void;
  /** dx = k[c]·(gy − mg[c] − x̂·mgx[c]). */
  bnInputGrad(
    gy: FArray,
    xhat: FArray,
    outer: number,
    inner: number,
    k: FArray,
    mg: FArray,
    mgx: FArray,
    dx: FArray,
  ): void;
  /** y = a + b where b repeats back to back over a (a bias over a batch); then max(·, 0) when relu (inference). */
  tileAdd(a: FArray, b: FArray, y: FArray, relu?: boolean): void;
  /** out[j] = Σ_r g[r·out.length + j], summed in row order. */
  sumTiles(g: FArray, out: FArray): void;
  /** out[c × r] = x[r × c]ᵀ. */
  transpose(x: FArray, r: number, c: number, out: FArray): void;
}
