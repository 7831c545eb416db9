// The least-squares problem BCGD fits (spec 01): L(W) = (1/2m)·‖W_{L:1}X − Y‖_F², in its direct form
// (X, Y) or its Gram form (XXᵀ, YXᵀ, tr YYᵀ: everything BCGD needs depends on X only through these),
// and the reference optimum L* from a float64 least-squares solve.
import {
  backSubstitute,
  dot,
  frob2,
  gramOfRows,
  householderQr,
  matmul,
  transpose,
  zeros,
  type FlopCounter,
  type Mat,
} from './mat.js';

/** Data X ∈ R^{d_x×m} and targets Y ∈ R^{d_y×m}, one sample per column. */
export interface DirectProblem {
  kind: 'direct';
  m: number;
  x: Mat;
  y: Mat;
}

/**
 * The same problem through its Gram matrices: C = XXᵀ (d_x×d_x), S = YXᵀ (d_y×d_x), t = tr(YYᵀ), so
 * L(W) = (1/2m)·(⟨MC, M⟩ − 2⟨M, S⟩ + t) with M = W_{L:1}. `setupFlops` is what forming them cost.
 */
export interface GramProblem {
  kind: 'gram';
  m: number;
  c: Mat;
  s: Mat;
  t: number;
  setupFlops: number;
}

export type LeastSquares = DirectProblem | GramProblem;

/** Input and output dimensions (d_x, d_y) of a problem. */
export function dims(p: LeastSquares): { dx: number; dy: number } {
  return p.kind === 'direct' ? { dx: p.x.rows, dy: p.y.rows } : { dx: p.c.rows, dy: p.s.rows };
}

/** A direct problem; refuses mismatched or empty data, naming the field. */
export function directProblem(x: Mat, y: Mat): DirectProblem {
  if (x.cols !== y.cols) throw new RangeError(`x has ${x.cols} samples (columns) but y has ${y.cols}`);
  if (x.cols < 1 || x.rows < 1 || y.rows < 1) throw new RangeError('x and y need at least one row and one sample');
  for (const [n, a] of [['x', x] as const, ['y', y] as const])
    if (!a.data.every(Number.isFinite)) throw new RangeError(`${n} holds a non-finite value`);
  return { kind: 'direct', m: x.cols, x, y };
}

/** C = XXᵀ, S = YXᵀ, t = tr(YYᵀ) of a direct problem (the FLOPs of forming them are kept in setupFlops). */
export function gramProblem(p: DirectProblem): GramProblem {
  const fc: FlopCounter = { flops: 0 };
  const c = gramOfRows(p.x, fc);
  const s = matmul(p.y, p.x, { tb: true }, fc);
  const t = frob2(p.y, fc);
  return { kind: 'gram', m: p.m, c, s, t, setupFlops: fc.flops };
}

/**
 * Accumulates a Gram problem over chunks of samples without holding X: add(xChunk, yChunk) with
 * samples as columns. Used for the full 60,000-image Fashion-MNIST problem (X alone would be 376 MB).
 */
export class GramAccumulator {
  private c: Mat;
  private s: Mat;
  private t = 0;
  private m = 0;
  private readonly fc: FlopCounter = { flops: 0 };
  constructor(
    readonly dx: number,
    readonly dy: number,
  ) {
    this.c = zeros(dx, dx);
    this.s = zeros(dy, dx);
  }
  add(x: Mat, y: Mat): void {
    const g = gramOfRows(x, this.fc),
      s = matmul(y, x, { tb: true }, this.fc);
    for (let i = 0; i < g.data.length; i++) this.c.data[i] += g.data[i];
    for (let i = 0; i < s.data.length; i++) this.s.data[i] += s.data[i];
    this.t += frob2(y, this.fc);
    this.m += x.cols;
  }
  result(): GramProblem {
    return { kind: 'gram', m: this.m, c: this.c, s: this.s, t: this.t, setupFlops: this.fc.flops };
  }
}

/** Per Gram problem: a least-squares solution W, its loss and its normal-equation residual WC − S. */
const gramRefs = new WeakMap<GramProblem, { w: Mat; loss: number; r: Mat }>();

function gramRef(p: GramProblem): { w: Mat; loss: number; r: Mat } {
  let ref = gramRefs.get(p);
  if (!ref) {
    const { w } = gramSolve(p.c, p.s);
    const wc = matmul(w, p.c);
    const loss = Math.max(0, dot(wc, w) - 2 * dot(w, p.s) + p.t) / (2 * p.m);
    for (let i = 0; i < wc.data.length; i++) wc.data[i] -= p.s.data[i];
    ref = { w, loss, r: wc };
    gramRefs.set(p, ref);
  }
  return ref;
}

/**
 * L(M) for an end-to-end matrix M (d_y×d_x): direct (1/2m)‖MX − Y‖²;
 * Gram (1/2m)(⟨MC, M⟩ − 2⟨M, S⟩ + t), evaluated about a least-squares solution W (once per problem) as
 * L(W) + (1/2m)(⟨DC, D⟩ + 2⟨D, WC − S⟩) with D = M − W. The expanded formula loses about eps·t to
 * cancellation, which near the optimum exceeds the 1e-12 relative tolerance of the monotone-loss check;
 * about W, the difference of two losses is computed to full relative precision.
 */
export function lossOf(p: LeastSquares, mEnd: Mat): number {
  if (p.kind === 'direct') {
    const r = matmul(mEnd, p.x);
    for (let i = 0; i < r.data.length; i++) r.data[i] -= p.y.data[i];
    return frob2(r) / (2 * p.m);
  }
  const ref = gramRef(p);
  const d = { rows: mEnd.rows, cols: mEnd.cols, data: mEnd.data.map((v, i) => v - ref.w.data[i]) };
  return ref.loss + (dot(matmul(d, p.c), d) + 2 * dot(d, ref.r)) / (2 * p.m);
}

/**
 * The minimiser of a Gram problem, W*C = S, by pivoted Cholesky of C: pivots below 1e-13·max(diag C)
 * are dropped (their columns of W* set to 0). This is a least-squares solution even when C is singular
 * (Fashion-MNIST has pixels that never vary); L* does not depend on which solution is taken.
 */
export function gramSolve(c: Mat, s: Mat): { w: Mat; rank: number } {
  const d = c.rows,
    dy = s.rows;
  // The matrix is permuted physically (rows and columns swapped together) so the factor stays in the
  // lower triangle of `a`, in pivot order; perm[i] is the original index of pivot i.
  const a = c.data.slice();
  const perm = Array.from({ length: d }, (_, i) => i);
  const maxDiag = Math.max(...Array.from({ length: d }, (_, i) => a[i * d + i]), 0);
  const tol = 1e-13 * maxDiag;
  let r = 0;
  for (; r < d; r++) {
    let best = r;
    for (let i = r + 1; i < d; i++) if (a[i * d + i] > a[best * d + best]) best = i;
    if (best !== r) {
      [perm[r], perm[best]] = [perm[best], perm[r]];
      for (let k = 0; k < d; k++) [a[r * d + k], a[best * d + k]] = [a[best * d + k], a[r * d + k]];
      for (let k = 0; k < d; k++) [a[k * d + r], a[k * d + best]] = [a[k * d + best], a[k * d + r]];
    }
    const piv = a[r * d + r];
    if (!(piv > tol)) break;
    const l = Math.sqrt(piv);
    a[r * d + r] = l;
    for (let i = r + 1; i < d; i++) a[i * d + r] /= l;
    // Schur complement on the whole trailing block (both triangles, so later swaps stay consistent).
    for (let i = r + 1; i < d; i++) {
      const li = a[i * d + r];
      if (li === 0) continue;
      for (let j = r + 1; j < d; j++) a[i * d + j] -= li * a[j * d + r];
    }
  }
  // Solve W_r·(L Lᵀ) = S_r on the pivot set, i.e. (L Lᵀ)·W_rᵀ = S_rᵀ, one row of S at a time.
  const w = zeros(dy, d);
  const L = (i: number, k: number) => a[i * d + k];
  for (let row = 0; row < dy; row++) {
    const z = new Float64Array(r);
    for (let i = 0; i < r; i++) {
      let v = s.data[row * d + perm[i]];
      for (let k = 0; k < i; k++) v -= L(i, k) * z[k];
      z[i] = v / L(i, i);
    }
    for (let i = r - 1; i >= 0; i--) {
      let v = z[i];
      for (let k = i + 1; k < r; k++) v -= L(k, i) * z[k];
      z[i] = v / L(i, i);
    }
    for (let i = 0; i < r; i++) w.data[row * d + perm[i]] = z[i];
  }
  return { w, rank: r };
}

/**
 * The reference optimum L* = min_W (1/2m)‖WX − Y‖² (spec 01: "from a least-squares solve"), which any
 * depth reaches when its hidden widths are ≥ min(d_x, d_y). A direct problem with X of full row rank is
 * solved by Householder QR of Xᵀ and its residual computed directly (the most accurate route); a Gram
 * problem, or a rank-deficient X, by the pivoted-Cholesky solve of W·XXᵀ = YXᵀ.
 */
export function optimum(p: LeastSquares): { loss: number; w: Mat; rank: number; method: 'qr' | 'gram' } {
  const { dx } = dims(p);
  if (p.kind === 'direct' && p.m >= dx) {
    const { q, r } = householderQr(transpose(p.x));
    const diag = Array.from({ length: dx }, (_, i) => Math.abs(r.data[i * dx + i]));
    if (Math.min(...diag) > 1e-12 * Math.max(...diag)) {
      // Xᵀ = QR, so W*ᵀ = R⁻¹ Qᵀ Yᵀ.
      const b = matmul(q, p.y, { ta: true, tb: true });
      backSubstitute(r, b);
      const w = transpose(b);
      return { loss: lossOf(p, w), w, rank: dx, method: 'qr' };
    }
  }
  const g = p.kind === 'gram' ? p : gramProblem(p);
  const { w, rank } = gramSolve(g.c, g.s);
  return { loss: lossOf(p, w), w, rank, method: 'gram' };
}
