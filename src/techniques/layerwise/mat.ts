// Float64 dense matrices for the layer-wise (BCGD) analysis: spec 01 needs float64 throughout (in
// float32 the monotone-loss check fails near the optimum from rounding alone), so these run in plain
// TypeScript on Float64Array, not on the float32 WebAssembly kernels. Every product can count its FLOPs.

/** A row-major float64 matrix: element (i, j) is data[i·cols + j]. */
export interface Mat {
  rows: number;
  cols: number;
  data: Float64Array;
}

/** A FLOP tally: GEMMs add 2·M·N·K, element-wise updates and inner products 2 per element. */
export interface FlopCounter {
  flops: number;
}

export function zeros(rows: number, cols: number): Mat {
  return { rows, cols, data: new Float64Array(rows * cols) };
}

export function eye(n: number): Mat {
  const m = zeros(n, n);
  for (let i = 0; i < n; i++) m.data[i * n + i] = 1;
  return m;
}

export function copyMat(a: Mat): Mat {
  return { rows: a.rows, cols: a.cols, data: a.data.slice() };
}

export function transpose(a: Mat): Mat {
  const t = zeros(a.cols, a.rows);
  const B = 32;
  for (let i0 = 0; i0 < a.rows; i0 += B)
    for (let j0 = 0; j0 < a.cols; j0 += B)
      for (let i = i0; i < Math.min(a.rows, i0 + B); i++)
        for (let j = j0; j < Math.min(a.cols, j0 + B); j++) t.data[j * a.rows + i] = a.data[i * a.cols + j];
  return t;
}

const KB = 64,
  JB = 512;

/** C += A·B for row-major A (M×K), B (K×N), C (M×N), blocked over k and j so a panel of B stays in cache. */
function gemmNN(M: number, N: number, K: number, A: Float64Array, B: Float64Array, C: Float64Array): void {
  for (let j0 = 0; j0 < N; j0 += JB) {
    const j1 = Math.min(N, j0 + JB);
    for (let k0 = 0; k0 < K; k0 += KB) {
      const k1 = Math.min(K, k0 + KB);
      for (let i = 0; i < M; i++) {
        const ci = i * N,
          ai = i * K;
        for (let k = k0; k < k1; k++) {
          const a = A[ai + k];
          if (a === 0) continue;
          const bk = k * N;
          for (let j = j0; j < j1; j++) C[ci + j] += a * B[bk + j];
        }
      }
    }
  }
}

/** C = A·Bᵀ for row-major A (M×K), B (N×K): each entry an inner product of two contiguous rows. */
function gemmNT(M: number, N: number, K: number, A: Float64Array, B: Float64Array, C: Float64Array): void {
  const IB = 16;
  for (let i0 = 0; i0 < M; i0 += IB) {
    const i1 = Math.min(M, i0 + IB);
    for (let j = 0; j < N; j++) {
      const bj = j * K;
      for (let i = i0; i < i1; i++) {
        const ai = i * K;
        let s0 = 0,
          s1 = 0,
          k = 0;
        for (; k + 1 < K; k += 2) {
          s0 += A[ai + k] * B[bj + k];
          s1 += A[ai + k + 1] * B[bj + k + 1];
        }
        if (k < K) s0 += A[ai + k] * B[bj + k];
        C[i * N + j] = s0 + s1;
      }
    }
  }
}

/**
 * op(A)·op(B) with op(X) = X or Xᵀ, counted as 2·M·N·K FLOPs. Transposed left operands are copied
 * (O(n²) against the O(n³) product) so the kernels see contiguous rows.
 */
export function matmul(a: Mat, b: Mat, opts: { ta?: boolean; tb?: boolean } = {}, fc?: FlopCounter): Mat {
  const A = opts.ta ? transpose(a) : a;
  const M = A.rows,
    K = A.cols;
  const N = opts.tb ? b.rows : b.cols,
    Kb = opts.tb ? b.cols : b.rows;
  if (K !== Kb)
    throw new Error(
      `matmul: inner dimensions differ (${M}×${K} times ${opts.tb ? `${b.cols}×${b.rows}` : `${Kb}×${N}`})`,
    );
  const C = zeros(M, N);
  if (opts.tb) gemmNT(M, N, K, A.data, b.data, C.data);
  else gemmNN(M, N, K, A.data, b.data, C.data);
  if (fc) fc.flops += 2 * M * N * K;
  return C;
}

/** A·Aᵀ (symmetric, M×M): only the upper triangle is computed, M·(M+1)·K FLOPs. */
export function gramOfRows(a: Mat, fc?: FlopCounter): Mat {
  const M = a.rows,
    K = a.cols,
    A = a.data;
  const C = zeros(M, M);
  for (let i = 0; i < M; i++) {
    const ai = i * K;
    for (let j = i; j < M; j++) {
      const aj = j * K;
      let s0 = 0,
        s1 = 0,
        k = 0;
      for (; k + 1 < K; k += 2) {
        s0 += A[ai + k] * A[aj + k];
        s1 += A[ai + k + 1] * A[aj + k + 1];
      }
      if (k < K) s0 += A[ai + k] * A[aj + k];
      C.data[i * M + j] = C.data[j * M + i] = s0 + s1;
    }
  }
  if (fc) fc.flops += M * (M + 1) * K;
  return C;
}

/** ⟨A, B⟩_F = Σ aᵢⱼbᵢⱼ (2 FLOPs per element). */
export function dot(a: Mat, b: Mat, fc?: FlopCounter): number {
  let s = 0;
  const x = a.data,
    y = b.data;
  for (let i = 0; i < x.length; i++) s += x[i] * y[i];
  if (fc) fc.flops += 2 * x.length;
  return s;
}

/** ‖A‖_F². */
export const frob2 = (a: Mat, fc?: FlopCounter): number => dot(a, a, fc);

/** A ← A + α·B in place (2 FLOPs per element). */
export function axpy(a: Mat, alpha: number, b: Mat, fc?: FlopCounter): void {
  const x = a.data,
    y = b.data;
  for (let i = 0; i < x.length; i++) x[i] += alpha * y[i];
  if (fc) fc.flops += 2 * x.length;
}

/** α·A as a new matrix. */
export function scale(a: Mat, alpha: number, fc?: FlopCounter): Mat {
  const out = zeros(a.rows, a.cols);
  for (let i = 0; i < a.data.length; i++) out.data[i] = alpha * a.data[i];
  if (fc) fc.flops += a.data.length;
  return out;
}

/**
 * Householder QR of a tall matrix A (m×n, m ≥ n): returns the thin Q (m×n, orthonormal columns) and R
 * (n×n, upper triangular), A = QR.
 */
export function householderQr(a: Mat): { q: Mat; r: Mat } {
  const m = a.rows,
    n = a.cols;
  if (m < n) throw new Error(`householderQr needs rows ≥ cols, got ${m}×${n}`);
  const R = copyMat(a).data;
  const vs: Float64Array[] = [];
  for (let k = 0; k < n; k++) {
    let norm = 0;
    for (let i = k; i < m; i++) norm += R[i * n + k] ** 2;
    norm = Math.sqrt(norm);
    const v = new Float64Array(m - k);
    const alpha = R[k * n + k] > 0 ? -norm : norm;
    for (let i = k; i < m; i++) v[i - k] = R[i * n + k];
    v[0] -= alpha;
    let vn = 0;
    for (let i = 0; i < v.length; i++) vn += v[i] * v[i];
    if (vn > 0) {
      // R ← (I − 2vvᵀ/vᵀv)·R on rows k.., columns k..
      for (let j = k; j < n; j++) {
        let s = 0;
        for (let i = k; i < m; i++) s += v[i - k] * R[i * n + j];
        s = (2 * s) / vn;
        for (let i = k; i < m; i++) R[i * n + j] -= s * v[i - k];
      }
    }
    vs.push(vn > 0 ? v.map((x) => x / Math.sqrt(vn)) : v);
  }
  // Q = H_0 ⋯ H_{n−1} applied to the first n columns of the identity.
  const Q = zeros(m, n);
  for (let j = 0; j < n; j++) Q.data[j * n + j] = 1;
  for (let k = n - 1; k >= 0; k--) {
    const v = vs[k];
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let i = k; i < m; i++) s += v[i - k] * Q.data[i * n + j];
      s *= 2;
      if (s !== 0) for (let i = k; i < m; i++) Q.data[i * n + j] -= s * v[i - k];
    }
  }
  const r = zeros(n, n);
  for (let i = 0; i < n; i++) for (let j = i; j < n; j++) r.data[i * n + j] = R[i * n + j];
  return { q: Q, r };
}

/** Solve R·x = b for upper-triangular R (n×n) and every column of b (n×k), in place in b. */
export function backSubstitute(r: Mat, b: Mat): void {
  const n = r.rows,
    k = b.cols;
  for (let i = n - 1; i >= 0; i--) {
    const d = r.data[i * n + i];
    for (let c = 0; c < k; c++) {
      let s = b.data[i * k + c];
      for (let j = i + 1; j < n; j++) s -= r.data[i * n + j] * b.data[j * k + c];
      b.data[i * k + c] = s / d;
    }
  }
}

/**
 * Largest eigenvalue of a symmetric positive semi-definite operator v ↦ apply(v) on Rⁿ by power
 * iteration (relative change below tol, at most maxIter products), warm-started from `start` when given
 * (the vector is updated in place so the next call starts from it).
 */
export function lambdaMax(
  apply: (v: Float64Array) => Float64Array,
  n: number,
  start?: Float64Array,
  tol = 1e-10,
  maxIter = 300,
): number {
  let v = start ?? new Float64Array(n).map((_, i) => 1 + ((i * 7919) % 13) / 13);
  let lam = 0;
  for (let it = 0; it < maxIter; it++) {
    const nv = Math.sqrt(v.reduce((s, x) => s + x * x, 0));
    if (nv === 0) return 0;
    for (let i = 0; i < n; i++) v[i] /= nv;
    const w = apply(v);
    const next = w.reduce((s, x, i) => s + x * v[i], 0);
    const done = Math.abs(next - lam) <= tol * Math.abs(next);
    lam = next;
    v = w;
    if (done) break;
  }
  if (start) {
    const nv = Math.sqrt(v.reduce((s, x) => s + x * x, 0)) || 1;
    for (let i = 0; i < n; i++) start[i] = v[i] / nv;
  }
  return lam;
}
