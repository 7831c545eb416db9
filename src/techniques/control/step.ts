// One GDHP update (the training step of spec 08): the regression targets from the plant's autograd
// Jacobians, and the three regressions with their Polyak updates. trainGdhp (gdhp.ts) is the loop.
import { withScope } from '../../core/arena.js';
import { Rng } from '../../core/rng.js';
import { noGrad, Tensor } from '../../core/tensor.js';
import { mse } from '../../ops/index.js';
import type { Adam } from '../../optim/adam.js';
import type { Module } from '../../nn/module.js';
import { inv } from './linalg.js';
import { stageCost, stepJacobians, type Plant } from './plant.js';
import { clipGradNorm, criticNetwork, network, polyak, type ActivationName, type Architecture } from './networks.js';
import type { Policy } from './rollout.js';

/** The six networks: trained ones and their Polyak targets. */
export interface GdhpNets {
  critic: Module;
  costate: Module;
  actor: Module;
  criticTarget: Module;
  costateTarget: Module;
  actorTarget: Module;
}

/** Builds the networks (targets start as copies) from a seed. */
export function gdhpNetworks(
  n: number,
  m: number,
  arch: Architecture,
  act: ActivationName,
  seed: number,
  anchor?: number[],
): GdhpNets {
  const make = (f: (rng: Rng) => Module, s: number) => [f(new Rng(s)), f(new Rng(s))];
  const [critic, criticTarget] = make((r) => criticNetwork(n, arch, act, r, anchor), seed * 3 + 1);
  const [costate, costateTarget] = make((r) => network(n, n, arch, act, r), seed * 3 + 2);
  const [actor, actorTarget] = make((r) => network(n, m, arch, act, r), seed * 3 + 3);
  // The iteration starts at V₀ = 0, λ₀ = 0 and u = 0 (spec 08): output layers zeroed. A random initial
  // costate would drive the actor to its clip at once (on the CSTR, c_uu⁻¹f_u is ~15), and a random actor
  // bias integrates into a drift on plants whose inputs are rates. The quadratic critic ‖Lx‖² keeps its
  // random L: at L = 0 its gradient vanishes.
  for (const net of [
    actor,
    actorTarget,
    costate,
    costateTarget,
    ...(arch === 'linear' ? [] : [critic, criticTarget]),
  ]) {
    const ps = net.parameters();
    for (const p of arch === 'linear' ? ps : ps.slice(-2)) p.data.fill(0);
  }
  return { critic, costate, actor, criticTarget, costateTarget, actorTarget };
}

const f32 = (a: ArrayLike<number>, shape: number[]) => Tensor.from(a, shape);
/** A network's outputs at N rows of float64 inputs (no tape), as float64. */
export const runNet = (net: Module, x: Float64Array, N: number, n: number): Float64Array =>
  noGrad(() => withScope(() => Float64Array.from(net.forward(f32(x, [N, n])).data)));

/** The actor as a closed-loop policy (float64 in and out). */
export const actorPolicy =
  (actor: Module, n: number): Policy =>
  (x, S) =>
    runNet(actor, x, S, n);

/** Targets of one minibatch (spec 08 Algorithm, [C] epelRL gdhp.py), all float64. */
export interface GdhpTargets {
  /** r + γV_tgt(x'). */
  value: Float64Array;
  /** c_x + γ f_xᵀ Λ_tgt(x'). */
  costate: Float64Array;
  /** −γ c_uu⁻¹ f_uᵀ Λ_tgt(x') (clipped to ±uClip when the plant has one): the stationarity condition. */
  action: Float64Array;
}

/**
 * The GDHP regression targets at states x with inputs u: with x' = φ(x, u) and the discrete-map
 * Jacobians f_x, f_u from autograd, U's derivatives c_x = 2wQ(x − r) and c_uu = 2wR.
 *
 * With a `lookahead` of H > 1 steps (and the actor that chose u), the targets bootstrap from the
 * target networks H steps ahead instead of one: the rollout x₀ = x, x_{k+1} = φ(x_k, π(x_k)) is
 * costed and the costate carried back along it with u held fixed, μ_H = Λ_tgt(x_H),
 * μ_k = c_x(x_k) + γ f_x(k)ᵀ μ_{k+1}: H costate-iteration steps (spec 08, step 3) along one path, as
 * n-step returns do for a value. The value target is the H-step discounted cost plus γ^H V_tgt(x_H),
 * the costate target μ₀ and the action target the stationarity condition at μ₁.
 */
export function gdhpTargets(
  plant: Plant,
  nets: Pick<GdhpNets, 'criticTarget' | 'costateTarget'> & { actor?: Module },
  x: Float64Array,
  u: Float64Array,
  B: number,
  gamma: number,
  lookahead = 1,
): GdhpTargets {
  const { n, m } = plant,
    w = plant.costWeight;
  if (!(Number.isInteger(lookahead) && lookahead >= 1))
    throw new Error(`GDHP: lookahead must be a positive integer, got ${lookahead}`);
  if (lookahead > 1 && !nets.actor) throw new Error('GDHP: a lookahead of more than one step needs the actor');
  const path: { x: Float64Array; u: Float64Array; J: ReturnType<typeof stepJacobians>; c: Float64Array }[] = [];
  let xk = x,
    uk = u;
  for (let k = 0; k < lookahead; k++) {
    const J = stepJacobians(plant, xk, uk, B);
    path.push({ x: xk, u: uk, J, c: stageCost(plant, xk, uk, B) });
    xk = J.next;
    if (k + 1 < lookahead) uk = runNet(nets.actor as Module, xk, B, n);
  }
  const Vt = runNet(nets.criticTarget, xk, B, n),
    mu = runNet(nets.costateTarget, xk, B, n);
  const Cinv = inv(plant.R.map((r) => r.map((v) => 2 * w * v)));
  const value = Vt,
    next = new Float64Array(B * n),
    action = new Float64Array(B * m),
    g = new Float64Array(m);
  for (let k = lookahead - 1; k >= 0; k--) {
    const { x: xs, J, c } = path[k];
    for (let b = 0; b < B; b++) {
      value[b] = c[b] + gamma * value[b];
      if (k === 0) {
        for (let a = 0; a < m; a++) {
          g[a] = 0;
          for (let j = 0; j < n; j++) g[a] += J.fu[b * n * m + j * m + a] * mu[b * n + j];
        }
        for (let a = 0; a < m; a++) {
          let v = 0;
          for (let q = 0; q < m; q++) v -= gamma * Cinv[a][q] * g[q];
          if (plant.uClip !== undefined) v = Math.max(-plant.uClip, Math.min(plant.uClip, v));
          action[b * m + a] = v;
        }
      }
      for (let i = 0; i < n; i++) {
        let cx = 0,
          fl = 0;
        for (let j = 0; j < n; j++) cx += 2 * w * plant.Q[i][j] * (xs[b * n + j] - plant.xRef[j]);
        for (let j = 0; j < n; j++) fl += J.fx[b * n * n + j * n + i] * mu[b * n + j];
        next[b * n + i] = cx + gamma * fl;
      }
    }
    mu.set(next);
  }
  return { value, costate: mu, action };
}

/** One regression step of `net` towards `target` with its optimizer: MSE, backward, clip, Adam. */
function regress(net: Module, opt: Adam, x: Float64Array, target: Float64Array, B: number, clip: number): number {
  return withScope(() => {
    const out = net.forward(f32(x, [B, x.length / B]));
    const loss = mse(out, f32(target, [...out.shape]));
    const v = loss.item();
    if (!Number.isFinite(v)) throw new Error(`GDHP: a loss became ${v}; lower the learning rate or the gradient clip`);
    opt.zeroGrad();
    loss.backward();
    clipGradNorm(net, clip);
    opt.step();
    opt.zeroGrad();
    return v;
  });
}

/** Everything one update needs: the plant, networks, optimizers and settings. */
export interface GdhpState {
  plant: Plant;
  nets: GdhpNets;
  optimizers: { critic: Adam; costate: Adam; actor: Adam };
  gamma: number;
  tau: number;
  gradClip: number;
  targets: 'model' | 'replay';
  /** Steps of the model rollout the targets bootstrap from (default 1: spec 08's one-step targets). */
  lookahead?: number;
}

/**
 * One GDHP update on a minibatch (the training step): critic MSE(V(x), r + γV_tgt(x')), costate
 * MSE(Λ(x), c_x + γf_xᵀΛ_tgt(x')), actor MSE(π(x), −γc_uu⁻¹f_uᵀΛ_tgt(x')); then Polyak updates.
 */
export function gdhpUpdate(
  st: GdhpState,
  batch: { x: Float64Array; u: Float64Array },
  B: number,
): { critic: number; costate: number; actor: number } {
  const { plant, nets, optimizers: o } = st;
  const u = st.targets === 'model' ? runNet(nets.actor, batch.x, B, plant.n) : batch.u;
  const t = gdhpTargets(plant, nets, batch.x, u, B, st.gamma, st.lookahead ?? 1);
  const critic = regress(nets.critic, o.critic, batch.x, t.value, B, st.gradClip);
  const costate = regress(nets.costate, o.costate, batch.x, t.costate, B, st.gradClip);
  const actor = regress(nets.actor, o.actor, batch.x, t.action, B, st.gradClip);
  polyak(nets.criticTarget, nets.critic, st.tau);
  polyak(nets.costateTarget, nets.costate, st.tau);
  polyak(nets.actorTarget, nets.actor, st.tau);
  return { critic, costate, actor };
}
