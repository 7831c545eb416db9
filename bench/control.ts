// npm run bench:control [-- --quick] [-- --states N] [-- --episodes E] [-- --every K]
// GDHP on the Van de Vusse CSTR (spec 08 C), same process: training updates/s, the wall-clock until
// criterion C holds (every closed loop bounded, cost ≤ 1.10 × iLQR's on ≥ 80% of held-out states;
// checked every K episodes, evaluation time excluded), iLQR's solve time per initial state, and the
// learned policy's forward pass per state. The ratio iLQR solve / policy forward is the method's point.
import {
  Rng,
  actorPolicy,
  backendName,
  cstrPlant,
  drawStates,
  ilqr,
  recipeFor,
  rollout,
  trainGdhp,
  NonFiniteStateError,
  threadUse,
} from '../src/index.js';
import { median } from './race.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const plant = cstrPlant(),
  recipe = recipeFor(plant);
const S = arg('--states', quick ? 2 : 20),
  maxEpisodes = arg('--episodes', quick ? 2 : recipe.options.episodes),
  every = arg('--every', quick ? 1 : 5);
const log = (s: string) => process.stderr.write(`${s}\n`);
const T = quick ? 20 : recipe.horizon;
const rng = new Rng(779);
const x0 = drawStates(plant, S, () => rng.random());

// iLQR per held-out state: the baseline's costs and its solve time.
const ilqrSeconds: number[] = [],
  ilqrCost: number[] = [];
for (let s = 0; s < S; s++) {
  const t0 = performance.now();
  const r = ilqr(plant, x0.subarray(s * 6, s * 6 + 6), T, { maxIterations: quick ? 3 : 50 });
  ilqrSeconds.push((performance.now() - t0) / 1000);
  ilqrCost.push(r.cost);
}

let trainSeconds = 0,
  reachedAt: { episode: number; seconds: number } | null = null,
  lastShare = NaN;
const t = trainGdhp(plant, {
  ...recipe.options,
  episodes: maxEpisodes,
  episodeLength: quick ? 10 : recipe.options.episodeLength,
  seed: 1,
  onEpisode: (l, nets) => {
    trainSeconds += l.seconds;
    if (l.episode % every !== 0) return;
    try {
      const ro = rollout(plant, actorPolicy(nets.actor, 6), x0, S, T);
      const bounded = Array.from(ro.maxAbs).every((v) => v <= 2);
      lastShare = Array.from(ro.cost).filter((c, s) => c <= 1.1 * ilqrCost[s]).length / S;
      log(`episode ${l.episode}: ${(100 * lastShare).toFixed(0)}% of states within 1.10 × iLQR, bounded ${bounded}`);
      if (bounded && lastShare >= 0.8) {
        reachedAt = { episode: l.episode, seconds: trainSeconds };
        return 'stop';
      }
    } catch (e) {
      if (!(e instanceof NonFiniteStateError)) throw e;
      log(`episode ${l.episode}: a closed loop diverged`);
    }
  },
});

// The policy's forward pass for one state (what replaces a per-state iLQR solve).
const policy = actorPolicy(t.nets.actor, 6),
  one = x0.slice(0, 6),
  fwd: number[] = [];
for (let k = 0; k < (quick ? 20 : 500); k++) {
  const t0 = performance.now();
  policy(one, 1);
  fwd.push((performance.now() - t0) / 1000);
}
const ilqrMedian = median(ilqrSeconds),
  fwdMedian = median(fwd);
const result = {
  bench: 'control',
  plant: 'cstr',
  backend: backendName(),
  ...threadUse(),
  states: S,
  horizon: T,
  updatesPerSecond: t.updatesPerSecond,
  trainSeconds,
  criterionC: reachedAt ?? { reached: false, episodes: t.history.length, lastShare },
  ilqrSecondsPerState: ilqrMedian,
  policyForwardSeconds: fwdMedian,
  ilqrOverForward: ilqrMedian / fwdMedian,
};
log(
  `CSTR (${backendName()}): GDHP ${t.updatesPerSecond.toFixed(1)} updates/s; criterion C ` +
    (reachedAt
      ? `reached at episode ${(reachedAt as { episode: number }).episode} after ` +
        `${(reachedAt as { seconds: number }).seconds.toFixed(1)} s of training`
      : `not reached in ${t.history.length} episodes (last share ${lastShare})`) +
    `; iLQR ${ilqrMedian.toFixed(3)} s per state vs policy forward ${(1e6 * fwdMedian).toFixed(1)} µs: ` +
    `${(ilqrMedian / fwdMedian).toFixed(0)}×`,
);
process.stdout.write(`${JSON.stringify(result)}\n`);
