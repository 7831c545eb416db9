// node dist/bench/gdhp-recipe.js [--seeds 101,102,103] [--states 20] [--every 25] [--widen M] [--set JSON]
// Recipe selection for the CSTR (spec 08 C) on VALIDATION only: trains the shipped recipe, with the
// options in --set merged over it, on training seeds apart from the reproduction's (1, 2, 3, …), and
// scores each policy against iLQR on initial states from a validation stream (seeded 4242) that the
// reproduction's held-out stream (779) never draws. Prints, per seed, the share of states with cost
// ≤ 1.10 × iLQR's and the median cost / iLQR; `--every K` also scores every K episodes on the way.
// iLQR's costs are cached in runs/gdhp-recipe-ilqr.json. Not a timing benchmark.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  Rng,
  actorPolicy,
  cstrPlant,
  drawStates,
  ilqr,
  recipeFor,
  rollout,
  trainGdhp,
  widenBox,
  NonFiniteStateError,
} from '../src/index.js';
import type { GdhpOptions, GdhpNets } from '../src/index.js';
import { median } from './race.js';

/** The validation stream: never the reproduction's test streams (777–779). */
export const VALIDATION_SEED = 4242;

const arg = (name: string, d: string) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : process.argv[i + 1];
};
const seeds = arg('--seeds', '101,102,103').split(',').map(Number),
  S = Number(arg('--states', '20')),
  every = Number(arg('--every', '0')),
  set = JSON.parse(arg('--set', '{}')) as Partial<GdhpOptions>,
  widen = Number(arg('--widen', '0'));
const plant = cstrPlant(),
  recipe = recipeFor(plant),
  T = recipe.horizon;
const rng = new Rng(VALIDATION_SEED),
  x0 = drawStates(plant, S, () => rng.random());
const log = (s: string) => process.stderr.write(`${s}\n`);

const cacheFile = 'runs/gdhp-recipe-ilqr.json',
  key = `${VALIDATION_SEED}:${S}:${T}`;
const cache = (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {}) as Record<string, number[]>;
if (!cache[key]) {
  cache[key] = Array.from({ length: S }, (_, s) => ilqr(plant, x0.subarray(s * 6, s * 6 + 6), T).cost);
  mkdirSync('runs', { recursive: true });
  writeFileSync(cacheFile, JSON.stringify(cache));
}
const ref = cache[key];

/** Share of validation states within 1.10 × iLQR and the median ratio (diverged: share 0, ratio ∞). */
function score(nets: GdhpNets): { share: number; ratio: number; maxAbs: number } {
  try {
    const ro = rollout(plant, actorPolicy(nets.actor, 6), x0, S, T);
    const r = Array.from(ro.cost, (c, s) => c / ref[s]);
    return { share: r.filter((v) => v <= 1.1).length / S, ratio: median(r), maxAbs: Math.max(...ro.maxAbs) };
  } catch (e) {
    if (!(e instanceof NonFiniteStateError)) throw e;
    return { share: 0, ratio: Infinity, maxAbs: Infinity };
  }
}

// --widen M: training starts and box samples from the plant's box widened by M per side, within [−1, 1].
const widened = widenBox(plant.box, widen);
const options = { ...recipe.options, ...(widen > 0 ? { trainBox: widened } : {}), ...set } as GdhpOptions;
log(`recipe ${JSON.stringify(options)}; validation states ${S}, horizon ${T}`);
const rows: { seed: number; share: number; ratio: number; maxAbs: number; seconds: number }[] = [];
for (const seed of seeds) {
  const r = trainGdhp(plant, {
    ...options,
    seed,
    onEpisode: (l, nets) => {
      if (every > 0 && l.episode % every === 0 && l.episode < options.episodes) {
        const s = score(nets);
        log(`  seed ${seed} episode ${l.episode}: share ${s.share.toFixed(2)}, median ratio ${s.ratio.toFixed(3)}`);
      }
    },
  });
  const s = score(r.nets);
  rows.push({ seed, ...s, seconds: r.trainSeconds });
  log(`seed ${seed}: share ${s.share.toFixed(2)}, median ratio ${s.ratio.toFixed(3)}, max |x| ${s.maxAbs.toFixed(2)}`);
}
const shares = rows.map((r) => r.share),
  mean = shares.reduce((a, b) => a + b, 0) / shares.length;
log(`mean share ${mean.toFixed(3)}, min share ${Math.min(...shares).toFixed(2)}`);
process.stdout.write(`${JSON.stringify({ set, seeds, states: S, validationSeed: VALIDATION_SEED, rows, mean })}\n`);
