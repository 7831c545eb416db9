// The circulant technique's kernel family: real FFTs (plain and packed bin-major), per-bin
// complex products, the one-call inference product and the per-bin convolution. Reference and
// WebAssembly implementations sit side by side (reference.ts, wasm.ts); kernelFamily picks one
// per dtype like the core kernels (float64 → reference, float32 → WebAssembly when loaded).
import type { FArray } from '../../../core/dtype.js';
import type { ConvGeom } from '../../../backend/types.js';
import { kernelFamily } from '../../../backend/family.js';
import { fftReference } from './reference.js';
import { fftWasm } from './wasm.js';

/** The FFT kernels of block-circulant layers. */
export interface FftKernels {
  /**
   * Real FFT of M vectors of length N (1 or a power of two): x [M × N] → re, im [M × (N/2+1)],
   * X[k] = Σ_n x[n]·e^(−2πikn/N).
   */
  rfft(x: FArray, M: number, N: number, re: FArray, im: FArray): void;
  /** Inverse of rfft: (re, im) [M × (N/2+1)] → x [M × N], 1/N scaled; imaginary parts of bins 0 and N/2 ignored. */
  irfft(re: FArray, im: FArray, M: number, N: number, x: FArray): void;
  /**
   * rfft of M vectors (N ≥ 2) into the packed bin-major layout [N/2, M/RP, 2, RP] of
   * techniques/circulant/kernels/bins.ts. x is [M × N], or with P > 1 (P | RP) [M/P × N × P]: vector g·P + p has
   * its elements P apart (channels of a pixel).
   */
  rfftPacked(x: FArray, M: number, N: number, RP: number, out: FArray, P?: number): void;
  /** Inverse of rfftPacked: packed [N/2, M/RP, 2, RP] → x (same layouts). */
  irfftPacked(packed: FArray, M: number, N: number, RP: number, x: FArray, P?: number): void;
  /**
   * Per-bin complex products of half spectra, planes (re, im) separate, bins contiguous:
   * mode 0 Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f]; mode 1 Y[b,r,f] = Σ_s conj(W[s,r,f])·A[b,s,f];
   * mode 2 Y[s,r,f] = Σ_b A[b,s,f]·conj(W[b,r,f]).
   */
  cbin(
    a: [FArray, FArray],
    w: [FArray, FArray],
    y: [FArray, FArray],
    B: number,
    R: number,
    S: number,
    F: number,
    mode: 0 | 1 | 2,
  ): void;
  /**
   * Inference product of a block-circulant linear layer, all in one call (small batches):
   * x [B × R·N] → y [B × S·N], y[b, s] = irfft(Σ_r W[s,r] ⊙ rfft(x[b, r])) (+ bias [S·N]), with the
   * weight spectra bin-major, wt [2, F, R, S] (F = N/2 + 1, plane 0 real, 1 imaginary), N ≥ 2.
   */
  circGemv(x: FArray, B: number, R: number, S: number, N: number, wt: FArray, bias: FArray | null, y: FArray): void;
  /** binConv2d: `bins` convolutions without bias, bin h on slab h of x, w and out (each contiguous). */
  binConv2dForward(x: FArray, w: FArray, g: ConvGeom, bins: number, out: FArray): void;
}

/** The circulant kernels for arrays of a dtype: `fftKernels.for(x.dtype).rfft(…)`. */
export const fftKernels = kernelFamily<FftKernels>('fft', { reference: fftReference, wasm: fftWasm });
