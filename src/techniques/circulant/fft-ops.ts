// The circulant technique's differentiable primitives: real FFTs, per-bin complex products and
// bin-major spectra, each registered with its backward rule (defineOp). Only circulant layers use
// them, so they live here rather than in the core op table.
import { scopedEmpty, scopedEmptyLike } from '../../core/arena.js';
import { fmt } from '../../core/shape.js';
import { Tensor } from '../../core/tensor.js';
import { fftKernels, type FftKernels } from './kernels/index.js';
import { defineOp } from '../../ops/registry.js';
import { needs } from '../../ops/tape.js';
import { profiled } from '../../ops/profile.js';

const pow2 = (n: number) => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;

/**
 * Real FFT along the last axis: x [..., N] (N = 1 or a power of two) → [2, ..., N/2+1], plane 0
 * the real parts and plane 1 the imaginary parts of X[k] = Σ_n x[n]·e^(−2πikn/N).
 */
export const rfft = defineOp({
  name: 'rfft',
  forward(x: Tensor) {
    if (x.rank < 1) throw new Error('rfft needs a tensor of rank ≥ 1');
    const N = x.shape[x.rank - 1];
    if (!pow2(N)) throw new Error(`rfft: the last axis must be 1 or a power of two, got ${fmt(x.shape)}`);
    const M = x.size / N,
      F = (N >> 1) + 1;
    const out = scopedEmpty([2, ...x.shape.slice(0, -1), F], x.dtype);
    fftKernels.for(x.dtype).rfft(x.data, M, N, out.data.subarray(0, M * F), out.data.subarray(M * F));
    return { out, inputs: [x], saved: { N } };
  },
  // x ↦ (Re X, Im X) is linear; its adjoint is N·irfft(g ⊙ c) with c = 1 at bins 0, N/2 and ½ between.
  backward: (n, _o, gy) => {
    const x = n.inputs[0],
      N = n.saved.N as number,
      F = (N >> 1) + 1,
      M = x.size / N;
    const g = scopedEmptyLike(gy, gy.length);
    g.set(gy);
    weighBins(g as Float32Array, F, N, 0.5, N);
    const dx = scopedEmptyLike(gy, x.size);
    fftKernels.for(x.dtype).irfft(g.subarray(0, M * F), g.subarray(M * F), M, N, dx);
    return [dx];
  },
});

/** Inverse of rfft: X [2, ..., F] → [..., N] with N = 2(F − 1) (N = 1 when F = 1); imaginary parts of bins 0 and
 * N/2 are ignored. */
export const irfft = defineOp({
  name: 'irfft',
  forward(X: Tensor) {
    if (X.rank < 2 || X.shape[0] !== 2)
      throw new Error(`irfft expects [2, ..., F] (real and imaginary planes), got ${fmt(X.shape)}`);
    const F = X.shape[X.rank - 1],
      N = F === 1 ? 1 : 2 * (F - 1);
    if (!pow2(N)) throw new Error(`irfft: ${F} bins give length ${N}, which is not a power of two`);
    const M = X.size / 2 / F;
    const out = scopedEmpty([...X.shape.slice(1, -1), N], X.dtype);
    fftKernels.for(X.dtype).irfft(X.data.subarray(0, M * F), X.data.subarray(M * F), M, N, out.data);
    return { out, inputs: [X], saved: { N } };
  },
  // The adjoint of irfft is rfft(g) ⊙ c/N with c = 1 at bins 0, N/2 and 2 between (their imaginary parts get 0).
  backward: (n, _o, gy) => {
    const X = n.inputs[0],
      N = n.saved.N as number,
      F = (N >> 1) + 1,
      M = X.size / 2 / F;
    const d = scopedEmptyLike(gy, X.size);
    fftKernels.for(X.dtype).rfft(gy, M, N, d.subarray(0, M * F), d.subarray(M * F));
    weighBins(d as Float32Array, F, N, 2, 1 / N);
    return [d];
  },
});

const planes = (
  t: { data: Float32Array | Float64Array },
  n: number,
): [Float32Array | Float64Array, Float32Array | Float64Array] => [t.data.subarray(0, n), t.data.subarray(n, 2 * n)];

/**
 * Block-circulant product in the frequency domain: A [2, B, R, F] (input spectra) and
 * W [2, S, R, F] (weight spectra) → Y [2, B, S, F], Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f] (complex,
 * planes re and im). Gradients: dA = Σ_s conj(W)·G, dW = Σ_b G·conj(A).
 */
export const binProduct = defineOp({
  name: 'binProduct',
  forward(A: Tensor, W: Tensor) {
    if (
      A.rank !== 4 ||
      W.rank !== 4 ||
      A.shape[0] !== 2 ||
      W.shape[0] !== 2 ||
      A.shape[2] !== W.shape[2] ||
      A.shape[3] !== W.shape[3]
    ) {
      throw new Error(`binProduct expects A [2, B, R, F] and W [2, S, R, F], got ${fmt(A.shape)} and ${fmt(W.shape)}`);
    }
    const [, B, R, F] = A.shape,
      S = W.shape[1];
    const out = scopedEmpty([2, B, S, F], A.dtype);
    fftKernels.for(A.dtype).cbin(planes(A, B * R * F), planes(W, S * R * F), planes(out, B * S * F), B, R, S, F, 0);
    return { out, inputs: [A, W] };
  },
  backward: (n, _o, gy) => {
    const [A, W] = n.inputs,
      [, B, R, F] = A.shape,
      S = W.shape[1];
    const be = fftKernels.for(A.dtype),
      g = planes({ data: gy }, B * S * F);
    let dA = null,
      dW = null;
    if (needs(n, 0)) {
      dA = scopedEmptyLike(gy, A.size);
      be.cbin(g, planes(W, S * R * F), planes({ data: dA }, B * R * F), B, R, S, F, 1);
    }
    if (needs(n, 1)) {
      dW = scopedEmptyLike(gy, W.size);
      be.cbin(g, planes(A, B * R * F), planes({ data: dW }, S * R * F), B, R, S, F, 2);
    }
    return [dA, dW];
  },
});

/** c_k = 1 for bins 0 and N/2, `interior` otherwise: the weights of the Hermitian half spectrum. */
function weighBins(a: Float32Array | Float64Array, F: number, N: number, interior: number, scale: number): void {
  for (let i = 0; i < a.length; i++) {
    const k = i % F;
    a[i] *= (k === 0 || (N > 1 && k === F - 1) ? 1 : interior) * scale;
  }
}

// ---------------------------------------------------------------------------------------------
// Bin-major spectra ("packed bins") for block-circulant products as matrix products.
// A real spectrum of length N has N real degrees of freedom: bins 0 and N/2 are real, bins
// 1 … N/2−1 complex. H = N/2 "bins" hold them: bin 0 carries (X[0], X[N/2]) in its two
// slots, bin h ≥ 1 carries (Re X[h], Im X[h]). For x viewed as [B, R, N, P] (FFT along N,
// P positions per vector, 1 for a linear layer) the packed form is [H, B, 2, R, P]: per bin a
// real [B, 2R·P] operand, so one block-circulant product per bin is one real matrix product
// (or one real convolution) with the 2R → 2S matrix [[Wr, −Wi], [Wi, Wr]] (bin 0:
// diag(W[0], W[N/2])) — 2N·R·S real multiplications in all, against N²·R·S dense.

type Arr = Float32Array | Float64Array;
type Be = FftKernels;

/** Scales packed spectra [H, rest]: bin 0's block by a, the others by b (the adjoints' bin weights). */
function weighPacked(p: Arr, H: number, a: number, b: number): void {
  const n = p.length / H;
  for (let i = 0; i < n; i++) p[i] *= a;
  for (let i = n; i < p.length; i++) p[i] *= b;
}

function checkBins(name: string, x: Tensor, dims: number[]): void {
  const [B, R, N, P] = dims;
  if (!dims.every((d) => Number.isInteger(d) && d >= 1) || N < 2 || !pow2(N) || B * R * N * P !== x.size) {
    throw new Error(
      `${name}: [B=${B}, R=${R}, N=${N}, P=${P}] must be positive integers with N a power of two ≥ 2 ` +
        `and B·R·N·P ` +
        `= ${x.size} (the size of ${fmt(x.shape)})`,
    );
  }
}

/** Real FFT along N of x viewed as [B, R, N, P], packed [N/2, B, 2, R·P] (the kernel reads the strided channels
 * itself). */
function forwardPacked(be: Be, x: Arr, B: number, R: number, N: number, P: number, out: Arr): void {
  be.rfftPacked(x, B * R * P, N, R * P, out, P);
}

/** Inverse of forwardPacked: packed [N/2, B, 2, S·P] → y [B, S, N, P]. */
function inversePacked(be: Be, Y: Arr, B: number, S: number, N: number, P: number, out: Arr): void {
  be.irfftPacked(Y, B * S * P, N, S * P, out, P);
}

/**
 * x viewed as [B, R, N, P] → packed spectra [H, B, 2, R, P] (H = N/2): the real FFT along N
 * of every (b, r, p), laid out bin-major (see above).
 */
export const rfftBins = defineOp({
  name: 'rfftBins',
  forward(x: Tensor, B: number, R: number, N: number, P: number = 1) {
    checkBins('rfftBins', x, [B, R, N, P]);
    const out = scopedEmpty([N >> 1, B, 2, R, P], x.dtype);
    forwardPacked(fftKernels.for(x.dtype), x.data, B, R, N, P, out.data);
    return { out, inputs: [x], saved: { dims: [B, R, N, P] } };
  },
  // The adjoint of rfft is N·irfft(g ⊙ c), c = 1 at bins 0 and N/2 (packed bin 0) and ½ between.
  backward: (n, _o, gy) => {
    const [B, R, N, P] = n.saved.dims as number[];
    const g = scopedEmptyLike(gy, gy.length) as Arr,
      dx = scopedEmptyLike(gy, n.inputs[0].size) as Arr;
    g.set(gy);
    weighPacked(g, N >> 1, N, N / 2);
    inversePacked(fftKernels.for(n.inputs[0].dtype), g, B, R, N, P, dx);
    return [dx];
  },
});

/** Inverse of rfftBins: packed [H, B, 2, S, P] → y [B, S, N, P] with N = 2H. */
export const irfftBins = defineOp({
  name: 'irfftBins',
  forward(Y: Tensor) {
    if (Y.rank !== 5 || Y.shape[2] !== 2)
      throw new Error(`irfftBins expects packed spectra [H, B, 2, S, P], got ${fmt(Y.shape)}`);
    const [H, B, , S, P] = Y.shape,
      N = 2 * H;
    checkBins('irfftBins', Y, [B, S, N, P]);
    const out = scopedEmpty([B, S, N, P], Y.dtype);
    inversePacked(fftKernels.for(Y.dtype), Y.data, B, S, N, P, out.data);
    return { out, inputs: [Y], saved: { dims: [B, S, N, P] } };
  },
  // The adjoint of irfft is rfft(g) ⊙ c/N, c = 1 at bins 0 and N/2 and 2 between.
  backward: (n, _o, gy) => {
    const [B, S, N, P] = n.saved.dims as number[];
    const dY = scopedEmptyLike(gy, n.inputs[0].size) as Arr;
    forwardPacked(fftKernels.for(n.inputs[0].dtype), gy as Arr, B, S, N, P, dY);
    weighPacked(dY, N >> 1, 1 / N, 2 / N);
    return [dY];
  },
});

/**
 * Inference (no gradient) product of a block-circulant linear layer in one backend call:
 * x [B, R·N] → [B, S·N], y[b, s] = irfft(Σ_r W[s,r] ⊙ rfft(x[b, r])) + bias, with the weight
 * spectra bin-major, WT [2, F, R, S] (F = N/2 + 1). For small batches, where the separate ops'
 * overheads and a product looping over few bins dominated (see CircLinear).
 */
export const circGemv = profiled('circGemv', (x: Tensor, WT: Tensor, N: number, bias: Tensor | null): Tensor => {
  const F = (N >> 1) + 1;
  if (WT.rank !== 4 || WT.shape[0] !== 2 || WT.shape[1] !== F || !pow2(N) || N < 2) {
    throw new Error(
      `circGemv expects weight spectra [2, N/2+1, R, S] with N a power of two ≥ 2, got ${fmt(WT.shape)} for N = ${N}`,
    );
  }
  const [, , R, S] = WT.shape;
  if (x.rank !== 2 || x.shape[1] !== R * N)
    throw new Error(`circGemv expects x [B, ${R * N}] (R·N), got ${fmt(x.shape)}`);
  if (bias && bias.size !== S * N)
    throw new Error(`circGemv: bias must have ${S * N} (S·N) entries, got ${fmt(bias.shape)}`);
  const B = x.shape[0],
    out = scopedEmpty([B, S * N], x.dtype);
  fftKernels.for(x.dtype).circGemv(x.data, B, R, S, N, WT.data, bias ? bias.data : null, out.data);
  return out;
});
