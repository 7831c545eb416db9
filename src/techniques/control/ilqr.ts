// The nonlinear baseline of spec 08 C: iterative LQR (Li & Todorov 2004) per initial state, on the
// same autograd Jacobians as GDHP. It solves one trajectory at a time; GDHP's policy is one forward
// pass for any state, which is the method's point (bench/control.ts measures the ratio).
import { stageCost, stepJacobians, stepRows, type Plant } from './plant.js';
import { addM, mm, solve, transpose, type Mat } from './linalg.js';

export interface IlqrOptions {
  /** Iterations at most (default 50). */
  maxIterations?: number;
  /** Stop when the relative cost decrease falls below this (default 1e-7). */
  tol?: number;
  /** Initial inputs [T·m] (default zeros). */
  uInit?: Float64Array;
  /** |u| bound, enforced by clamping in the forward pass (default the plant's uClip). */
  uClip?: number;
  /** Discount of the stage costs, γ^k c(x_k, u_k) (default 1); `cost` stays undiscounted. */
  gamma?: number;
}

export interface IlqrResult {
  x: Float64Array;
  u: Float64Array;
  /** Σₖ c(xₖ, uₖ), undiscounted whatever `gamma`. */
  cost: number;
  /** Σₖ γᵏ c(xₖ, uₖ), the objective minimised (= cost at γ = 1). */
  discountedCost: number;
  iterations: number;
}

function simulate(
  p: Plant,
  x0: ArrayLike<number>,
  T: number,
  uOf: (k: number, x: Float64Array) => Float64Array,
  gamma = 1,
): Omit<IlqrResult, 'iterations'> {
  const { n, m } = p,
    x = new Float64Array((T + 1) * n),
    u = new Float64Array(T * m);
  x.set(Float64Array.from(x0));
  let cost = 0,
    discountedCost = 0;
  for (let k = 0; k < T; k++) {
    const xk = x.subarray(k * n, (k + 1) * n),
      uk = uOf(k, xk);
    u.set(uk, k * m);
    const c = stageCost(p, xk, uk, 1)[0];
    cost += c;
    discountedCost += gamma ** k * c;
    const next = stepRows(p, xk, uk, 1);
    if (!next.every(Number.isFinite)) return { x, u, cost: Infinity, discountedCost: Infinity };
    x.set(next, (k + 1) * n);
  }
  return { x, u, cost, discountedCost };
}

/**
 * iLQR for J = Σₖ₌₀^{T−1} γᵏ c(xₖ, uₖ) (γ = 1 by default), no terminal cost. With γ < 1 it
 * gives the best a discounted objective can do over T steps: what a policy trained with that γ
 * (GDHP's) gives up at best against the undiscounted optimum (bench/gdhp-bound.ts). Backward pass on
 * the quadratic model Q_x = l_x + γf_xᵀV_x, Q_u = l_u + γf_uᵀV_x, Q_xx = l_xx + γf_xᵀV_xx f_x,
 * Q_uu = l_uu + γf_uᵀV_xx f_u + μI, Q_ux = γf_uᵀV_xx f_x; feedforward k = −Q_uu⁻¹Q_u, gain
 * K = −Q_uu⁻¹Q_ux; then a line search on α with uₖ = ūₖ + αkₖ + Kₖ(xₖ − x̄ₖ), raising μ when no
 * step lowers the cost.
 */
export function ilqr(p: Plant, x0: ArrayLike<number>, T: number, opts: IlqrOptions = {}): IlqrResult {
  const { n, m } = p,
    w = p.costWeight,
    clip = opts.uClip ?? p.uClip;
  const clamp = (v: number) => (clip === undefined ? v : Math.max(-clip, Math.min(clip, v)));
  const lxx = p.Q.map((r) => r.map((v) => 2 * w * v)),
    luu = p.R.map((r) => r.map((v) => 2 * w * v));
  const u0 = opts.uInit ?? new Float64Array(T * m);
  const g = opts.gamma ?? 1;
  if (!(g > 0 && g <= 1)) throw new Error(`iLQR: gamma must be in (0, 1], got ${g}`);
  let cur = simulate(p, x0, T, (k) => u0.slice(k * m, (k + 1) * m).map(clamp), g);
  let mu = 1e-6,
    it = 0;
  const maxIt = opts.maxIterations ?? 50,
    tol = opts.tol ?? 1e-7;
  for (; it < maxIt; it++) {
    const J = stepJacobians(p, cur.x.subarray(0, T * n), cur.u, T);
    const kff: number[][] = new Array(T),
      Kfb: Mat[] = new Array(T);
    let Vx = new Array<number>(n).fill(0),
      Vxx: Mat = lxx.map((r) => r.map(() => 0));
    for (let k = T - 1; k >= 0; k--) {
      const fx: Mat = Array.from({ length: n }, (_, i) =>
        Array.from(J.fx.subarray(k * n * n + i * n, k * n * n + i * n + n)),
      );
      const fu: Mat = Array.from({ length: n }, (_, i) =>
        Array.from(J.fu.subarray(k * n * m + i * m, k * n * m + i * m + m)),
      );
      const xk = cur.x.subarray(k * n, k * n + n),
        uk = cur.u.subarray(k * m, k * m + m);
      const lx = lxx.map((r) => r.reduce((s, v, j) => s + 0.5 * v * 2 * (xk[j] - p.xRef[j]), 0));
      const lu = luu.map((r) => r.reduce((s, v, j) => s + v * uk[j], 0));
      const fxT = transpose(fx),
        fuT = transpose(fu);
      const Qx = lx.map((v, i) => v + g * fxT[i].reduce((s, a, j) => s + a * Vx[j], 0));
      const Qu = lu.map((v, i) => v + g * fuT[i].reduce((s, a, j) => s + a * Vx[j], 0));
      const gV = Vxx.map((r) => r.map((v) => g * v));
      const VxxFx = mm(gV, fx),
        VxxFu = mm(gV, fu);
      const Qxx = addM(lxx, mm(fxT, VxxFx));
      const Quu = addM(luu, mm(fuT, VxxFu)).map((r, i) => r.map((v, j) => v + (i === j ? mu : 0)));
      const Qux = mm(fuT, VxxFx);
      const kk = solve(
        Quu,
        Qu.map((v) => [-v]),
      ).map((r) => r[0]);
      const K = solve(Quu, Qux).map((r) => r.map((v) => -v));
      kff[k] = kk;
      Kfb[k] = K;
      // V_x = Q_x + KᵀQ_uu k + KᵀQ_u + Q_uxᵀk;  V_xx = Q_xx + KᵀQ_uu K + KᵀQ_ux + Q_uxᵀK
      const Kt = transpose(K),
        QuxT = transpose(Qux);
      const Quuk = Quu.map((r) => r.reduce((s, v, j) => s + v * kk[j], 0));
      Vx = Qx.map(
        (v, i) =>
          v + Kt[i].reduce((s, a, j) => s + a * (Quuk[j] + Qu[j]), 0) + QuxT[i].reduce((s, a, j) => s + a * kk[j], 0),
      );
      const V = addM(addM(Qxx, mm(mm(Kt, Quu), K)), addM(mm(Kt, Qux), mm(QuxT, K)));
      Vxx = V.map((r, i) => r.map((v, j) => 0.5 * (v + V[j][i])));
    }
    let accepted = false;
    for (const alpha of [1, 0.5, 0.25, 0.1, 0.03, 0.01]) {
      const trial = simulate(
        p,
        x0,
        T,
        (k, x) => {
          const u = new Float64Array(m);
          for (let a = 0; a < m; a++) {
            let v = cur.u[k * m + a] + alpha * kff[k][a];
            for (let j = 0; j < n; j++) v += Kfb[k][a][j] * (x[j] - cur.x[k * n + j]);
            u[a] = clamp(v);
          }
          return u;
        },
        g,
      );
      if (trial.discountedCost < cur.discountedCost) {
        const rel = (cur.discountedCost - trial.discountedCost) / Math.max(1e-300, Math.abs(cur.discountedCost));
        cur = trial;
        accepted = true;
        mu = Math.max(1e-9, mu / 4);
        if (rel < tol) return { ...cur, iterations: it + 1 };
        break;
      }
    }
    if (!accepted) {
      mu *= 10;
      if (mu > 1e6) break;
    }
  }
  return { ...cur, iterations: it };
}
