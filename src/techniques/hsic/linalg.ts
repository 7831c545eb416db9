// The m×m solve of the normalised HSIC, GEMM-shaped: a blocked right-looking Cholesky whose panel
// solves, trailing updates, triangular inverse and final product are all backend gemm() calls (the
// WebAssembly kernels for float32); only the 64×64 diagonal blocks are factored and inverted in
// float64 scalar code (O(m·64²) of the O(m³) work), as LAPACK does with its unblocked base case.
import { scopedArray } from '../../core/arena.js';
import type { FArray } from '../../core/dtype.js';
import { backendFor } from '../../backend/index.js';

/** Diagonal block size of the blocked factorisation. */
export const SOLVE_BLOCK = 64;

/** Thrown when the matrix is not positive definite at the working precision. */
export class NotPositiveDefiniteError extends Error {}

/** In-place lower Cholesky of a b×b float64 block; throws when a pivot is not positive. */
function cholBlock(d: Float64Array, b: number, at: number): void {
  for (let j = 0; j < b; j++) {
    let s = d[j * b + j];
    for (let k = 0; k < j; k++) s -= d[j * b + k] * d[j * b + k];
    if (!(s > 0)) {
      throw new NotPositiveDefiniteError(
        `HSIC solve: pivot ${at + j} is ${s}; the kernel matrix plus ε·m·I is not positive definite at this ` +
          'precision (raise ε or check the kernel for NaN)',
      );
    }
    const l = Math.sqrt(s);
    d[j * b + j] = l;
    for (let i = j + 1; i < b; i++) {
      let t = d[i * b + j];
      for (let k = 0; k < j; k++) t -= d[i * b + k] * d[j * b + k];
      d[i * b + j] = t / l;
    }
    for (let k = j + 1; k < b; k++) d[j * b + k] = 0;
  }
}

/** Inverse of a lower-triangular b×b float64 block (forward substitution on the identity). */
function invLower(l: Float64Array, b: number): Float64Array {
  const inv = new Float64Array(b * b);
  for (let c = 0; c < b; c++) {
    for (let i = c; i < b; i++) {
      let s = i === c ? 1 : 0;
      for (let k = c; k < i; k++) s -= l[i * b + k] * inv[k * b + c];
      inv[i * b + c] = s / l[i * b + i];
    }
  }
  return inv;
}

/** Copy rows r0..r1, columns c0..c1 of an m-wide row-major matrix into a dense array (row by row). */
function getBlock(src: FArray, m: number, r0: number, r1: number, c0: number, c1: number, out: FArray): FArray {
  const w = c1 - c0;
  for (let i = r0; i < r1; i++) out.set(src.subarray(i * m + c0, i * m + c1), (i - r0) * w);
  return out;
}

function setBlock(dst: FArray, m: number, r0: number, r1: number, c0: number, c1: number, blk: FArray): void {
  const w = c1 - c0;
  for (let i = r0; i < r1; i++) dst.set(blk.subarray((i - r0) * w, (i - r0 + 1) * w), i * m + c0);
}

/**
 * S = (sym(A) + λI)⁻¹ for an m×m row-major A whose symmetric part sym(A) = (A + Aᵀ)/2 plus λI is positive
 * definite, in A's precision. A = LLᵀ by blocks (L_kk = chol(A_kk); L_ik = A_ik·L_kk⁻ᵀ;
 * A_ij −= L_ik·L_jkᵀ), then L⁻¹ by block forward substitution ((L⁻¹)_k,: =
 * −L_kk⁻¹·L_k,<k·(L⁻¹)_<k,:) and S = L⁻ᵀ·L⁻¹.
 */
export function spdInverse(a: FArray, m: number, lambda: number): FArray {
  const dtype = a instanceof Float64Array ? 'float64' : 'float32';
  const be = backendFor(dtype);
  const w = scopedArray(dtype, m * m, false);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) w[i * m + j] = 0.5 * (a[i * m + j] + a[j * m + i]);
    w[i * m + i] += lambda;
  }
  const linv = scopedArray(dtype, m * m, true);
  const nb = SOLVE_BLOCK;
  const scratch = scopedArray(dtype, m * m, false),
    scratch2 = scopedArray(dtype, m * m, false),
    dinvF = scopedArray(dtype, nb * nb, false);
  for (let k0 = 0; k0 < m; k0 += nb) {
    const k1 = Math.min(m, k0 + nb),
      b = k1 - k0,
      r = m - k1;
    const d = new Float64Array(b * b);
    getBlock(w, m, k0, k1, k0, k1, d);
    cholBlock(d, b, k0);
    const dinv = invLower(d, b);
    const Dinv = dinvF.subarray(0, b * b);
    Dinv.set(dinv);
    setBlock(w, m, k0, k1, k0, k1, dtype === 'float64' ? d : Float32Array.from(d));
    if (r > 0) {
      // Panel below the diagonal block: L_ik = A_ik · L_kk⁻ᵀ.
      const P = getBlock(w, m, k1, m, k0, k1, scratch.subarray(0, r * b));
      const Lp = scratch2.subarray(0, r * b);
      be.gemm(false, true, r, b, b, P, Dinv, Lp, false);
      setBlock(w, m, k1, m, k0, k1, Lp);
      // Trailing update A₂₂ −= L_p·L_pᵀ (P's storage now holds −L_p).
      for (let i = 0; i < r * b; i++) P[i] = -Lp[i];
      const T = getBlock(w, m, k1, m, k1, m, scratch2.subarray(r * b, r * b + r * r));
      be.gemm(false, true, r, r, b, P, Lp, T, true);
      setBlock(w, m, k1, m, k1, m, T);
    }
    // Block row k of L⁻¹. Rows 0..k0 of L⁻¹ are zero beyond column k0, so the product runs over whole rows.
    if (k0 > 0) {
      const Lrow = getBlock(w, m, k0, k1, 0, k0, scratch.subarray(0, b * k0));
      const T1 = scratch2.subarray(0, b * m);
      be.gemm(false, false, b, m, k0, Lrow, linv.subarray(0, k0 * m), T1, false);
      for (let i = 0; i < b * b; i++) Dinv[i] = -Dinv[i];
      be.gemm(false, false, b, m, b, Dinv, T1, linv.subarray(k0 * m, k1 * m), false);
      for (let i = 0; i < b * b; i++) Dinv[i] = -Dinv[i];
    }
    setBlock(linv, m, k0, k1, k0, k1, Dinv);
  }
  const s = scopedArray(dtype, m * m, false);
  be.gemm(true, false, m, m, m, linv, linv, s, false);
  return s;
}
