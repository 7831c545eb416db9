// node dist/bench/gdhp-bound.js [--train-states 60] [--states 20] [--steps 4000]
// What bounds criterion C2 (GDHP cost ≤ 1.10 × iLQR's on ≥ 80% of states) on the CSTR, measured on the
// validation stream of bench/gdhp-recipe.ts (4242; never the reproduction's test streams 777–779):
// 1. the discount: the undiscounted cost, over the evaluation horizon, of the optimum of the recipe's
//    γ-discounted objective (iLQR with γ over a horizon long enough for γᵏ to vanish) against iLQR's;
// 2. the network: the recipe's actor architecture fitted by regression to iLQR's own actions along its
//    optimal trajectories from other states (stream 1234), then run in closed loop. Not how GDHP learns —
//    it shows whether a network of that size can hold a policy good enough for the bar.
// Not a timing benchmark.
import {
  Adam,
  Rng,
  Tensor,
  actorPolicy,
  cstrPlant,
  drawStates,
  ilqr,
  mse,
  network,
  recipeFor,
  rollout,
  stageCost,
  withScope,
} from '../src/index.js';
import { median } from './race.js';

/** bench/gdhp-recipe.ts's validation stream (that script runs on import, so the number is repeated here). */
const VALIDATION_SEED = 4242;
const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : process.argv[i + 1];
};
const NTR = Number(arg('--train-states', '60')),
  S = Number(arg('--states', '20')),
  steps = Number(arg('--steps', '4000'));
const plant = cstrPlant(),
  recipe = recipeFor(plant),
  T = recipe.horizon,
  { n, m } = plant,
  gamma = recipe.options.gamma ?? 1,
  arch = recipe.options.arch ?? [64, 64];
const log = (s: string) => process.stderr.write(`${s}\n`);
const vr = new Rng(VALIDATION_SEED),
  xv = drawStates(plant, S, () => vr.random());
const ref = Array.from({ length: S }, (_, s) => ilqr(plant, xv.subarray(s * n, s * n + n), T).cost);
const summary = (r: number[]) => {
  const s = [...r].sort((a, b) => a - b);
  return { share: s.filter((v) => v <= 1.1).length / s.length, median: median(s), max: s[s.length - 1] };
};

// 1. The discount's floor: a horizon where γᵏ < 1e-3, costs summed over the first T steps.
const long = Math.max(T, Math.ceil(Math.log(1e-3) / Math.log(gamma)));
const floor = Array.from({ length: S }, (_, s) => {
  const r = ilqr(plant, xv.subarray(s * n, s * n + n), long, { gamma });
  let c = 0;
  for (let k = 0; k < T; k++)
    c += stageCost(plant, r.x.subarray(k * n, k * n + n), r.u.subarray(k * m, k * m + m), 1)[0];
  return c / ref[s];
});
const f = summary(floor);
log(
  `γ = ${gamma}: the discounted optimum's cost / iLQR's over ${T} steps: median ${f.median.toFixed(4)}, ` +
    `max ${f.max.toFixed(4)}, share ≤ 1.10 ${f.share.toFixed(2)}`,
);

// 2. The network: iLQR's (x, u) pairs from NTR other states.
const tr = new Rng(1234),
  xt = drawStates(plant, NTR, () => tr.random());
const X = new Float32Array(NTR * T * n),
  U = new Float32Array(NTR * T * m);
for (let s = 0; s < NTR; s++) {
  const r = ilqr(plant, xt.subarray(s * n, s * n + n), T);
  X.set(r.x.subarray(0, T * n), s * T * n);
  U.set(r.u, s * T * m);
}
const N = NTR * T,
  fits: ReturnType<typeof summary>[] = [];
for (const seed of [1, 2, 3]) {
  const net = network(n, m, arch, recipe.options.activation ?? 'tanh', new Rng(seed)),
    opt = new Adam(net.parameters(), { lr: 1e-3 }),
    rng = new Rng(seed + 99),
    B = 256,
    xb = new Float32Array(B * n),
    ub = new Float32Array(B * m);
  for (let it = 0; it < steps; it++) {
    opt.lr = it < 0.6 * steps ? 1e-3 : it < 0.85 * steps ? 3e-4 : 1e-4;
    for (let b = 0; b < B; b++) {
      const i = Math.floor(rng.random() * N);
      xb.set(X.subarray(i * n, i * n + n), b * n);
      ub.set(U.subarray(i * m, i * m + m), b * m);
    }
    withScope(() => {
      const loss = mse(net.forward(Tensor.from(xb, [B, n])), Tensor.from(ub, [B, m]));
      opt.zeroGrad();
      loss.backward();
      opt.step();
    });
  }
  const ro = rollout(plant, actorPolicy(net, n), xv, S, T);
  const s = summary(Array.from(ro.cost, (c, i) => c / ref[i]));
  fits.push(s);
  log(
    `${JSON.stringify(arch)} fitted to iLQR from ${NTR} states, seed ${seed}: cost / iLQR's median ` +
      `${s.median.toFixed(4)}, max ${s.max.toFixed(4)}, share ≤ 1.10 ${s.share.toFixed(2)}`,
  );
}
process.stdout.write(
  `${JSON.stringify({ bench: 'gdhp-bound', gamma, horizon: T, states: S, floor: f, arch, fits })}\n`,
);
