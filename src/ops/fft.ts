import { scopedEmpty, scopedEmptyLike } from '../core/arena.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { backendFor } from '../backend/index.js';
import { needs, record, type Rule } from './tape.js';

const pow2 = (n: number) => Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;

/**
 * Real FFT along the last axis: x [..., N] (N = 1 or a power of two) → [2, ..., N/2+1], plane 0
 * the real parts and plane 1 the imaginary parts of X[k] = Σ_n x[n]·e^(−2πikn/N).
 */
export function rfft(x: Tensor): Tensor {
  if (x.rank < 1) throw new Error('rfft needs a tensor of rank ≥ 1');
  const N = x.shape[x.rank - 1];
  if (!pow2(N)) throw new Error(`rfft: the last axis must be 1 or a power of two, got ${fmt(x.shape)}`);
  const M = x.size / N, F = (N >> 1) + 1;
  const out = scopedEmpty([2, ...x.shape.slice(0, -1), F], x.dtype);
  backendFor(x.dtype).rfft(x.data, M, N, out.data.subarray(0, M * F), out.data.subarray(M * F));
  return record(out, 'rfft', [x], { N });
}

/** Inverse of rfft: X [2, ..., F] → [..., N] with N = 2(F − 1) (N = 1 when F = 1); imaginary parts of bins 0 and N/2 are ignored. */
export function irfft(X: Tensor): Tensor {
  if (X.rank < 2 || X.shape[0] !== 2) throw new Error(`irfft expects [2, ..., F] (real and imaginary planes), got ${fmt(X.shape)}`);
  const F = X.shape[X.rank - 1], N = F === 1 ? 1 : 2 * (F - 1);
  if (!pow2(N)) throw new Error(`irfft: ${F} bins give length ${N}, which is not a power of two`);
  const M = X.size / 2 / F;
  const out = scopedEmpty([...X.shape.slice(1, -1), N], X.dtype);
  backendFor(X.dtype).irfft(X.data.subarray(0, M * F), X.data.subarray(M * F), M, N, out.data);
  return record(out, 'irfft', [X], { N });
}

const planes = (t: { data: Float32Array | Float64Array }, n: number): [Float32Array | Float64Array, Float32Array | Float64Array] => [t.data.subarray(0, n), t.data.subarray(n, 2 * n)];

/**
 * Block-circulant product in the frequency domain: A [2, B, R, F] (input spectra) and
 * W [2, S, R, F] (weight spectra) → Y [2, B, S, F], Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f] (complex,
 * planes re and im). Gradients: dA = Σ_s conj(W)·G, dW = Σ_b G·conj(A).
 */
export function binProduct(A: Tensor, W: Tensor): Tensor {
  if (A.rank !== 4 || W.rank !== 4 || A.shape[0] !== 2 || W.shape[0] !== 2 || A.shape[2] !== W.shape[2] || A.shape[3] !== W.shape[3]) {
    throw new Error(`binProduct expects A [2, B, R, F] and W [2, S, R, F], got ${fmt(A.shape)} and ${fmt(W.shape)}`);
  }
  const [, B, R, F] = A.shape, S = W.shape[1];
  const out = scopedEmpty([2, B, S, F], A.dtype);
  backendFor(A.dtype).cbin(planes(A, B * R * F), planes(W, S * R * F), planes(out, B * S * F), B, R, S, F, 0);
  return record(out, 'binProduct', [A, W], {});
}

/** c_k = 1 for bins 0 and N/2, `interior` otherwise: the weights of the Hermitian half spectrum. */
function weighBins(a: Float32Array | Float64Array, F: number, N: number, interior: number, scale: number): void {
  for (let i = 0; i < a.length; i++) {
    const k = i % F;
    a[i] *= (k === 0 || (N > 1 && k === F - 1) ? 1 : interior) * scale;
  }
}

export const fftRules: { rfft: Rule; irfft: Rule; binProduct: Rule } = {
  binProduct: (n, _o, gy) => {
    const [A, W] = n.inputs, [, B, R, F] = A.shape, S = W.shape[1];
    const be = backendFor(A.dtype), g = planes({ data: gy }, B * S * F);
    let dA = null, dW = null;
    if (needs(n, 0)) { dA = scopedEmptyLike(gy, A.size); be.cbin(g, planes(W, S * R * F), planes({ data: dA }, B * R * F), B, R, S, F, 1); }
    if (needs(n, 1)) { dW = scopedEmptyLike(gy, W.size); be.cbin(g, planes(A, B * R * F), planes({ data: dW }, S * R * F), B, R, S, F, 2); }
    return [dA, dW];
  },
  // x ↦ (Re X, Im X) is linear; its adjoint is N·irfft(g ⊙ c) with c = 1 at bins 0, N/2 and ½ between.
  rfft: (n, _o, gy) => {
    const x = n.inputs[0], N = n.saved.N as number, F = (N >> 1) + 1, M = x.size / N;
    const g = scopedEmptyLike(gy, gy.length);
    g.set(gy);
    weighBins(g as Float32Array, F, N, 0.5, N);
    const dx = scopedEmptyLike(gy, x.size);
    backendFor(x.dtype).irfft(g.subarray(0, M * F), g.subarray(M * F), M, N, dx);
    return [dx];
  },
  // The adjoint of irfft is rfft(g) ⊙ c/N with c = 1 at bins 0, N/2 and 2 between (their imaginary parts get 0).
  irfft: (n, _o, gy) => {
    const X = n.inputs[0], N = n.saved.N as number, F = (N >> 1) + 1, M = X.size / 2 / F;
    const d = scopedEmptyLike(gy, X.size);
    backendFor(X.dtype).rfft(gy, M, N, d.subarray(0, M * F), d.subarray(M * F));
    weighBins(d as Float32Array, F, N, 2, 1 / N);
    return [d];
  },
};
