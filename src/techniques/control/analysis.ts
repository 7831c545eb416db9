// What the criteria measure on a trained controller: the policy's gain at 0 (against the Riccati
// K*), the costate and value against known λ*, V*, and Λ − ∇V (the two nets can drift apart).
import { withScope } from '../../core/arena.js';
import { noGrad, Tensor } from '../../core/tensor.js';
import { sum } from '../../ops/index.js';
import type { Module } from '../../nn/module.js';
import { frob, subM, type Mat } from './linalg.js';

/**
 * Jacobian of a network at one point by reverse mode: J[a][j] = ∂outₐ/∂xⱼ. The learned gain of an
 * actor is K = −∂π/∂x at x = 0 (u = −Kx near the origin).
 */
export function jacobianAt(net: Module, x: ArrayLike<number>): Mat {
  const n = x.length;
  return withScope(() => {
    const k = noGrad(() => net.forward(Tensor.from(x, [1, n])).size);
    // The tape is freed by backward: k copies of the point, copy a seeded with output a.
    const xr = new Float32Array(k * n),
      seed = new Float32Array(k * k);
    for (let a = 0; a < k; a++) {
      xr.set(Array.from(x), a * n);
      seed[a * k + a] = 1;
    }
    const xt = new Tensor(xr, [k, n], true);
    const y = net.forward(xt);
    y.backward(new Tensor(seed, [k, k]));
    const g = (xt.grad as Tensor | null)?.data ?? new Float32Array(k * n);
    return Array.from({ length: k }, (_, a) => Array.from(g.subarray(a * n, a * n + n)));
  });
}

/** K = −∂π/∂x at 0. */
export const learnedGain = (actor: Module, n: number): Mat =>
  jacobianAt(actor, new Array<number>(n).fill(0)).map((r) => r.map((v) => -v));

/** ‖K − K*‖_F / ‖K*‖_F (criterion A). */
export const gainRelativeError = (K: Mat, Kstar: Mat): number => frob(subM(K, Kstar)) / frob(Kstar);

/** ‖λ̂(x) − λ*(x)‖ / ‖λ*(x)‖ at each row of x [S·n] (states with λ* = 0 are skipped). */
export function costateErrors(
  costate: Module,
  x: Float64Array,
  S: number,
  n: number,
  exact: (x: Float64Array) => number[],
): number[] {
  const out = withScope(() => Float64Array.from(costate.forward(Tensor.from(x, [S, n])).data));
  const errs: number[] = [];
  for (let s = 0; s < S; s++) {
    const row = x.subarray(s * n, s * n + n),
      l = exact(row);
    const d = Math.hypot(...l.map((v, i) => out[s * n + i] - v)),
      z = Math.hypot(...l);
    if (z > 0) errs.push(d / z);
  }
  return errs;
}

/**
 * Mean over rows of ‖Λ(x) − ∇V(x)‖ / (‖∇V(x)‖ + ε): how far the separate costate net is from the
 * critic's gradient.
 */
export function costateGradientGap(critic: Module, costate: Module, x: Float64Array, S: number, n: number): number {
  return withScope(() => {
    const xt = new Tensor(Float32Array.from(x), [S, n], true);
    sum(critic.forward(xt)).backward();
    const g = (xt.grad as Tensor).data,
      l = costate.forward(Tensor.from(x, [S, n])).data;
    let acc = 0;
    for (let s = 0; s < S; s++) {
      let d = 0,
        z = 0;
      for (let i = 0; i < n; i++) {
        d += (l[s * n + i] - g[s * n + i]) ** 2;
        z += g[s * n + i] ** 2;
      }
      acc += Math.sqrt(d) / (Math.sqrt(z) + 1e-6);
    }
    return acc / S;
  });
}

/** The median of a list (NaN when empty). */
export function median(v: number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b),
    h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}
