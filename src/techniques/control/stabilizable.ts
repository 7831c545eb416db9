// Is a linear plant (A, B) stabilizable? Checked before training (linearPlant): an unstable or marginal mode
// the input cannot reach makes every gain fail, and a zero B leaves nothing to learn; both used to train and
// print a NaN gain error. Kalman decomposition: the controllable subspace span[B, AB, …, Aⁿ⁻¹B] is A-invariant,
// so in an orthonormal basis [U V] of it and its complement A is block upper triangular and the modes the
// input cannot move are those of A_uu = VᵀAV. (A, B) is stabilizable iff ρ(A_uu) < 1.
import { frob, mm, mv, transpose, type Mat } from './linalg.js';

const dot = (a: number[], b: number[]) => a.reduce((s, v, i) => s + v * b[i], 0);

/** Gram–Schmidt (twice, for accuracy) of `v` against `basis`; appended when what is left is above `tol`·‖v‖. */
function extend(basis: number[][], v: number[], tol: number): boolean {
  const norm0 = Math.sqrt(dot(v, v));
  if (norm0 === 0) return false;
  let r = v.slice();
  for (let pass = 0; pass < 2; pass++)
    for (const u of basis) {
      const c = dot(r, u);
      r = r.map((x, i) => x - c * u[i]);
    }
  const norm = Math.sqrt(dot(r, r));
  if (norm <= tol * norm0) return false;
  basis.push(r.map((x) => x / norm));
  return true;
}

/**
 * ρ(M) = lim ‖M^k‖^(1/k), by repeated squaring normalised at each step (k = 2⁶⁰: Jordan-block factors vanish).
 */
export function spectralRadius(m: Mat): number {
  let c = frob(m);
  if (c === 0) return 0;
  let N = m.map((row) => row.map((v) => v / c)),
    log = Math.log(c),
    k = 1;
  for (let j = 0; j < 60; j++) {
    const sq = mm(N, N);
    c = frob(sq);
    if (c === 0) return 0;
    N = sq.map((row) => row.map((v) => v / c));
    log = 2 * log + Math.log(c);
    k *= 2;
  }
  return Math.exp(log / k);
}

/**
 * Refuse a plant no gain can stabilize (a mode with |λ| ≥ 1 outside span[B, AB, …]) or one with B = 0 (no
 * input). `where` names the plant in the message.
 */
export function checkStabilizable(A: Mat, B: Mat, where: string): void {
  const n = A.length;
  const U: number[][] = [];
  let block = transpose(B); // columns of AᵏB, as rows
  for (let k = 0; k < n && U.length < n; k++) {
    for (const col of block) extend(U, col, 1e-9);
    block = block.map((col) => mv(A, col));
  }
  const r = U.length;
  if (r === n) return;
  const V: number[][] = [];
  const all = [...U];
  for (let i = 0; i < n && V.length < n - r; i++) {
    const e = Array.from({ length: n }, (_, j) => +(i === j));
    if (extend(all, e, 1e-6)) V.push(all[all.length - 1]);
  }
  const Auu = V.map((vi) => V.map((vj) => dot(vi, mv(A, vj))));
  const rho = spectralRadius(Auu);
  if (rho >= 1 - 1e-9)
    throw new Error(
      `${where}: the plant (A, B) is not stabilizable: a mode of A with |λ| = ${rho.toFixed(3)} ≥ 1 is not ` +
        `reached by the input (rank [B, AB, …] = ${r} < n = ${n}), so no gain K makes x' = (A − BK)x decay; ` +
        'change B (or A) so that every mode with |λ| ≥ 1 is driven',
    );
  if (r === 0)
    throw new Error(
      `${where}: the plant (A, B) has no input: B is all zeros, so u never moves the state ` +
        '(rank [B, AB, …] = 0) and there is no gain to learn; give B a nonzero entry',
    );
}
