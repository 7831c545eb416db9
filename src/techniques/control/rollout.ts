// Closed-loop rollouts and their cost: every comparison of spec 08 (GDHP against u*, against iLQR,
// against the Riccati gain) is a sum of stage costs along a simulated trajectory.
import { stageCost, stepRows, type Plant } from './plant.js';

/** A state-feedback policy over S rows at once: x [S·n] → u [S·m] (float64). */
export type Policy = (x: Float64Array, S: number) => Float64Array;

/** Raised when a simulated state becomes NaN or infinite: names the step and the row. */
export class NonFiniteStateError extends Error {}

export interface Rollout {
  /** States [(T + 1)·S·n]: step k, row s at ((k·S) + s)·n. */
  x: Float64Array;
  /** Inputs [T·S·m]. */
  u: Float64Array;
  /** Total stage cost of each row. */
  cost: Float64Array;
  /** Largest |xᵢ| reached by each row (for the boundedness check). */
  maxAbs: Float64Array;
}

/**
 * Simulates S initial states (x0 [S·n]) for T steps under `policy` and sums the stage costs
 * J = Σₖ c(xₖ, π(xₖ)). Throws NonFiniteStateError naming the first step and row whose state or
 * input is not finite, so a diverging controller is reported where it diverged.
 */
export function rollout(plant: Plant, policy: Policy, x0: ArrayLike<number>, S: number, T: number): Rollout {
  const { n, m } = plant;
  if (x0.length !== S * n) throw new Error(`rollout: x0 holds ${x0.length} values, expected ${S} × ${n}`);
  const xs = new Float64Array((T + 1) * S * n),
    us = new Float64Array(T * S * m),
    cost = new Float64Array(S),
    maxAbs = new Float64Array(S);
  xs.set(Float64Array.from(x0));
  let x = xs.subarray(0, S * n);
  for (let k = 0; k < T; k++) {
    const u = policy(x, S);
    for (let i = 0; i < S * m; i++)
      if (!Number.isFinite(u[i])) {
        const row = Math.floor(i / m),
          xs = Array.from(x.subarray(row * n, row * n + n), (v) => v.toPrecision(4));
        throw new NonFiniteStateError(
          `rollout: the policy gave a non-finite input at step ${k}, row ${row} (x = [${xs}]); ` +
            'the controller diverged: train longer or with a lower learning rate',
        );
      }
    us.set(u, k * S * m);
    const c = stageCost(plant, x, u, S);
    const next = stepRows(plant, x, u, S);
    for (let s = 0; s < S; s++) {
      cost[s] += c[s];
      for (let i = 0; i < n; i++) {
        const v = next[s * n + i];
        if (!Number.isFinite(v))
          throw new NonFiniteStateError(
            `rollout: the state became non-finite at step ${k + 1} (of ${T}), row ${s}, state ${i}; the closed ` +
              'loop diverged: check the plant and the controller (train longer or lower the learning rate)',
          );
        maxAbs[s] = Math.max(maxAbs[s], Math.abs(v));
      }
    }
    xs.set(next, (k + 1) * S * n);
    x = xs.subarray((k + 1) * S * n, (k + 2) * S * n);
  }
  return { x: xs, u: us, cost, maxAbs };
}

/** The linear policy u = −Kx. */
export function linearPolicy(K: number[][]): Policy {
  const m = K.length,
    n = K[0].length;
  return (x, S) => {
    const u = new Float64Array(S * m);
    for (let s = 0; s < S; s++)
      for (let a = 0; a < m; a++) {
        let v = 0;
        for (let j = 0; j < n; j++) v -= K[a][j] * x[s * n + j];
        u[s * m + a] = v;
      }
    return u;
  };
}

/** Initial states drawn uniformly in the plant's box from a seeded stream ([S·n]). */
export function drawStates(plant: Plant, S: number, random: () => number): Float64Array {
  const out = new Float64Array(S * plant.n);
  for (let s = 0; s < S; s++)
    for (let i = 0; i < plant.n; i++) {
      const lo = plant.box.lo[i],
        hi = plant.box.hi[i];
      out[s * plant.n + i] = lo + (hi - lo) * random();
    }
  return out;
}
