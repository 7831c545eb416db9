// The LQR oracle: the discrete algebraic Riccati equation solved in float64, and the Riccati
// recursion it is checked against. Test A of spec 08 compares GDHP's learned gain with this K*.
import {
  addM,
  checkDefinite,
  checkMatrix,
  frob,
  inv,
  mm,
  scaleM,
  solve,
  subM,
  transpose,
  eye,
  type Mat,
} from './linalg.js';
import { checkStabilizable } from './stabilizable.js';

/** A discrete-time linear plant x' = Ax + Bu with stage cost xᵀQx + uᵀRu. */
export interface LinearSystem {
  A: Mat;
  B: Mat;
  Q: Mat;
  R: Mat;
}

/**
 * Checks a linear system's fields: A n×n, B n×m, Q n×n symmetric PSD, R m×m symmetric PD, and (A, B)
 * stabilizable with B ≠ 0 (stabilizable.ts).
 * Every message names the field and the fix.
 */
export function checkLinearSystem(s: Partial<LinearSystem>, where = 'plant'): LinearSystem {
  const A = checkMatrix(s.A, null, null, `${where}.A`),
    n = A.length;
  if (A[0].length !== n) throw new Error(`${where}.A must be square (n×n), got ${n}×${A[0].length}`);
  const B = checkMatrix(s.B, null, null, `${where}.B`);
  if (B.length !== n) throw new Error(`${where}.B must have n = ${n} rows (one per state, as A), got ${B.length}`);
  const m = B[0].length;
  const Q = checkMatrix(s.Q, n, n, `${where}.Q (n×n with n = ${n} states)`);
  const R = checkMatrix(s.R, m, m, `${where}.R (m×m with m = ${m} inputs, B's columns)`);
  checkDefinite(Q, `${where}.Q`, false);
  checkDefinite(R, `${where}.R`, true);
  checkStabilizable(A, B, where);
  return { A, B, Q, R };
}

/** K = (R + BᵀPB)⁻¹BᵀPA: the optimal gain (u = −Kx) for a cost-to-go xᵀPx. */
export function gainOf(s: LinearSystem, P: Mat): Mat {
  const Bt = transpose(s.B),
    BtP = mm(Bt, P);
  return solve(addM(s.R, mm(BtP, s.B)), mm(BtP, s.A));
}

/** One step of the Riccati recursion P ← Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA (value iteration). */
export function riccatiStep(s: LinearSystem, P: Mat): Mat {
  const At = transpose(s.A),
    AtP = mm(At, P);
  return subM(addM(s.Q, mm(AtP, s.A)), mm(mm(AtP, s.B), gainOf(s, P)));
}

/** The Riccati recursion from P₀ = 0 for `iterations` steps: the finite-horizon cost-to-go. */
export function riccatiRecursion(s: LinearSystem, iterations: number): Mat {
  let P = scaleM(s.Q, 0);
  for (let i = 0; i < iterations; i++) P = riccatiStep(s, P);
  return P;
}

export interface DareSolution {
  /** Stabilising solution of P = Q + AᵀPA − AᵀPB(R + BᵀPB)⁻¹BᵀPA. */
  P: Mat;
  /** Optimal gain K* = (R + BᵀPB)⁻¹BᵀPA, u* = −K*x. */
  K: Mat;
  iterations: number;
  /** ‖DARE(P) − P‖_F / max(1, ‖P‖_F). */
  residual: number;
}

/**
 * Solves the DARE by the structure-preserving doubling algorithm (Chu, Fan, Lin, Wang 2004):
 * A₀ = A, G₀ = BR⁻¹Bᵀ, H₀ = Q; W = I + GₖHₖ; Aₖ₊₁ = AₖW⁻¹Aₖ,
 * Gₖ₊₁ = Gₖ + AₖW⁻¹GₖAₖᵀ, Hₖ₊₁ = Hₖ + AₖᵀHₖW⁻¹Aₖ; Hₖ → P quadratically when
 * (A, B) is stabilisable and (A, Q^½) detectable. Then λ*(x) = 2Px and u* = −K*x (spec 08, test A).
 */
export function solveDare(sys: LinearSystem, opts: { tol?: number; maxIterations?: number } = {}): DareSolution {
  const s = checkLinearSystem(sys);
  const tol = opts.tol ?? 1e-13,
    maxIt = opts.maxIterations ?? 100,
    n = s.A.length;
  let A = s.A,
    G = mm(mm(s.B, inv(s.R)), transpose(s.B)),
    H = s.Q,
    it = 0;
  for (; it < maxIt; it++) {
    const Winv = inv(addM(eye(n), mm(G, H)));
    const AW = mm(A, Winv);
    const Hn = addM(H, mm(mm(transpose(A), H), mm(Winv, A)));
    G = addM(G, mm(mm(AW, G), transpose(A)));
    A = mm(AW, A);
    const change = frob(subM(Hn, H)) / Math.max(1, frob(Hn));
    H = Hn;
    if (!H.flat().every(Number.isFinite)) break;
    if (change < tol) break;
  }
  const P = H.map((row, i) => row.map((v, j) => 0.5 * (v + H[j][i]))); // symmetrise rounding
  if (!P.flat().every(Number.isFinite))
    throw new Error('DARE: no stabilising solution (is (A, B) stabilisable and (A, Q) detectable?)');
  const residual = frob(subM(riccatiStep(s, P), P)) / Math.max(1, frob(P));
  if (!(residual < 1e-8))
    throw new Error(
      `DARE: did not converge (residual ${residual.toExponential(2)}); check that (A, B) is stabilisable ` +
        'and (A, Q) detectable',
    );
  return { P, K: gainOf(s, P), iterations: it + 1, residual };
}
