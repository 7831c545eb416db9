// The delay system itself (spec 04, the authors' `dde_ibp` solver): one neuron ẋ = −x + f(a(t)) whose
// drive in layers ℓ ≥ 2 is a(t) = b^ℓ_n + Σ_d v_d(t)·x(t − τ_d), τ_d = (N + n'_d)θ. Unlike the equivalent
// network map, a(t) varies inside a node's θ-interval because the delayed signal x(t − τ_d) does, so the
// map is exact only in layer 1 and approaches the DDE as θ grows. Used to check the map and to evaluate a
// trained model "on the physical system" (`frugal eval MODEL --simulate dde`). It is a model of the
// hardware, integrated in float64; it has no gradient.
import type { FitDnnWeights, MapOptions } from './map.js';

/** spec 04's default sub-steps per node separation θ: N_h = max(32, ⌊16θ⌋). */
export function defaultSubsteps(theta: number): number {
  return Math.max(32, Math.floor(16 * theta));
}

/** Largest N_h accepted (a node's trajectory is held at N_h + 1 points per node of the previous layer). */
export const MAX_SUBSTEPS = 1 << 16;

/** (h − 1 + e^{−h})/h without cancellation for small h: the weight of the slope term in one step. */
function slopeWeight(h: number): number {
  if (h < 1e-2) return h / 2 - (h * h) / 6 + (h * h * h) / 24 - (h * h * h * h) / 120;
  return (h + Math.expm1(-h)) / h;
}

/** What solveDde returns for a batch of B inputs. */
export interface DdeResult {
  /** x^ℓ_n = x((ℓ−1)T + nθ): [L] arrays of B·N node states (row-major [B, N]). */
  states: Float64Array[];
  /** W^out x^L + b^out: B·P logits. */
  logits: Float64Array;
  /** With `trajectory`, x(t) of the first sample on the grid t = iθ/N_h, i = 0..L·N·N_h. */
  trajectory?: Float64Array;
}

/**
 * Integrate the delay system for inputs u (B rows of M, row-major) with N_h sub-steps of h = θ/N_h per node.
 * Semi-analytic step with f(a) linear between the two ends of a sub-step, the integral of e^{−(h−s)}
 * taken in closed form (integration by parts):
 *
 *   x(t + h) = e^{−h} x(t) + (1 − e^{−h}) F(t) + (F(t + h) − F(t)) · (h − 1 + e^{−h})/h,   F = f(a(·)).
 *
 * F uses both ends (Heun's trapezoid, no predictor needed: a(t) depends only on delayed, already known
 * x). In layer 1 a(t) is constant per node, so the step is the exact solution. a(t) jumps at node
 * boundaries; on node n's interval the modulations are node n's, at the left end included.
 */
export function solveDde(
  u: ArrayLike<number>,
  B: number,
  w: FitDnnWeights,
  o: MapOptions,
  substeps = defaultSubsteps(o.theta),
  trajectory = false,
): DdeResult {
  if (o.decoupled) throw new Error('solveDde: a decoupled (θ → ∞) model has no delay dynamics to integrate');
  if (!Number.isInteger(substeps) || substeps < 1 || substeps > MAX_SUBSTEPS)
    throw new Error(`solveDde: substeps N_h must be an integer in 1..${MAX_SUBSTEPS}, got ${substeps}`);
  const [N, M] = w.inputWeight.shape,
    P = w.outputWeight.shape[0],
    D = o.offsets.length,
    L = 1 + (w.hiddenWeight?.shape[0] ?? 0),
    Nh = substeps,
    h = o.theta / Nh;
  const e1 = Math.exp(-h),
    c1 = -Math.expm1(-h),
    c2 = slopeWeight(h);
  const win = w.inputWeight.data,
    bin = w.inputBias.data,
    v = w.hiddenWeight?.data,
    bh = w.hiddenBias?.data;
  const states = Array.from({ length: L }, () => new Float64Array(B * N));
  const logits = new Float64Array(B * P);
  const len = N * Nh + 1;
  let prev = new Float64Array(len),
    cur = new Float64Array(len);
  const Fa = new Float64Array(Nh + 1);
  const traj = trajectory ? new Float64Array(L * N * Nh + 1) : undefined;
  // The valid loops of each node: source node k = n − n'_d of the previous layer, and d.
  const loops: { k: number; d: number }[][] = Array.from({ length: N }, (_, n) =>
    o.offsets.map((off, d) => ({ k: n - off, d })).filter(({ k }) => k >= 0 && k < N),
  );
  for (let b = 0; b < B; b++) {
    let x = 0; // x(0) = 0, then carried through every layer boundary (the trajectory is continuous)
    for (let l = 0; l < L; l++) {
      cur[0] = x;
      for (let n = 0; n < N; n++) {
        if (l === 0) {
          let s = bin[n];
          for (let m = 0; m < M; m++) s += win[n * M + m] * u[b * M + m];
          Fa.fill(Math.sin((Math.PI / 2) * Math.tanh(s)));
        } else {
          const base = (l - 1) * N + n;
          for (let j = 0; j <= Nh; j++) {
            let a = bh![base];
            for (const { k, d } of loops[n]) a += v![base * D + d] * prev[k * Nh + j];
            Fa[j] = Math.sin(a);
          }
        }
        const i0 = n * Nh;
        for (let j = 0; j < Nh; j++) {
          x = e1 * x + c1 * Fa[j] + c2 * (Fa[j + 1] - Fa[j]);
          cur[i0 + j + 1] = x;
        }
        states[l][b * N + n] = x;
      }
      if (traj && b === 0) traj.set(l === 0 ? cur : cur.subarray(1), l === 0 ? 0 : l * N * Nh + 1);
      [prev, cur] = [cur, prev];
    }
    const xL = states[L - 1];
    for (let p = 0; p < P; p++) {
      let s = w.outputBias.data[p];
      for (let n = 0; n < N; n++) s += w.outputWeight.data[p * N + n] * xL[b * N + n];
      logits[b * P + p] = s;
    }
  }
  return { states, logits, ...(traj ? { trajectory: traj } : {}) };
}
