// node dist/bench/gdhp-recipe.js [--seeds 101,102,103] [--states 20] [--every 25] [--widen M] [--set JSON]
//   [--select 0|E]
// Recipe selection for the CSTR (spec 08 C) on VALIDATION only: trains the shipped recipe, with the
// options in --set merged over it, on training seeds apart from the reproduction's (1, 2, 3, …), and
// scores each policy against iLQR on initial states from a validation stream (seeded 4242) that the
// reproduction's held-out stream (779) never draws. Prints, per seed, the share of states with cost
// ≤ 1.10 × iLQR's and the median cost / iLQR; `--every K` also scores every K episodes on the way.
// With the recipe's policy selection (GdhpOptions.select: validation states of stream 5151, mean of
// min(J/J_iLQR, 3), unbounded past |x| 2 scoring 3; `--select E` scores every E episodes instead of the
// recipe's, `--select 0` turns it off) the policy is chosen on stream 5151 and scored here on 4242, so the
// selection is never scored on its own states; the last policy is scored beside it (selection does not
// change training). iLQR's costs are cached in runs/gdhp-recipe-ilqr.json. Not a timing benchmark.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import {
  Rng,
  actorPolicy,
  cstrPlant,
  drawStates,
  ilqr,
  recipeFor,
  recipeSelect,
  rollout,
  trainGdhp,
  validationStates,
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
  widen = Number(arg('--widen', '0')),
  selectArg = arg('--select', '');
const plant = cstrPlant(),
  recipe = recipeFor(plant),
  T = recipe.horizon;
const rng = new Rng(VALIDATION_SEED),
  x0 = drawStates(plant, S, () => rng.random());
const log = (s: string) => process.stderr.write(`${s}\n`);

const cacheFile = 'runs/gdhp-recipe-ilqr.json';
const cache = (existsSync(cacheFile) ? JSON.parse(readFileSync(cacheFile, 'utf8')) : {}) as Record<string, number[]>;
/** iLQR's cost from each of S states [S·6] of stream `seed`, computed once. */
function ilqrCosts(seed: number, x: Float64Array, count: number): number[] {
  const key = `${seed}:${count}:${T}`;
  if (!cache[key]) {
    cache[key] = Array.from({ length: count }, (_, s) => ilqr(plant, x.subarray(s * 6, s * 6 + 6), T).cost);
    mkdirSync('runs', { recursive: true });
    writeFileSync(cacheFile, JSON.stringify(cache));
  }
  return cache[key];
}
const ref = ilqrCosts(VALIDATION_SEED, x0, S);
// The selection's own states and references (the reproduction's criterion: bounded within |x| ≤ 2).
const selection =
  selectArg === '0' || !recipe.selection
    ? undefined
    : { ...recipe.selection, ...(selectArg ? { every: Number(selectArg) } : {}) };
if (selection && selection.seed === VALIDATION_SEED) throw new Error('the selection stream must not be the scored one');
const select = selection
  ? recipeSelect(
      plant,
      { ...recipe, selection },
      { reference: ilqrCosts(selection.seed, validationStates(plant, selection), selection.states), bound: 2 },
    )
  : undefined;

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
if (selection)
  log(
    `policy chosen on validation states (stream ${selection.seed}, ${selection.states} states) ` +
      `every ${selection.every} episodes`,
  );
type Score = ReturnType<typeof score>;
const rows: {
  seed: number;
  share: number;
  ratio: number;
  maxAbs: number;
  seconds: number;
  last?: Score;
  selectedEpisode?: number;
}[] = [];
const fmt = (s: Score) =>
  `share ${s.share.toFixed(2)}, median ratio ${s.ratio.toFixed(3)}, max |x| ${s.maxAbs.toFixed(2)}`;
for (const seed of seeds) {
  let last: Score | undefined;
  const r = trainGdhp(plant, {
    ...options,
    seed,
    ...(select ? { select } : {}),
    onEpisode: (l, nets) => {
      if (every > 0 && l.episode % every === 0 && l.episode < options.episodes) {
        const s = score(nets);
        log(`  seed ${seed} episode ${l.episode}: share ${s.share.toFixed(2)}, median ratio ${s.ratio.toFixed(3)}`);
      }
      // The last policy, scored before the selection restores the best (training is the same either way).
      if (select && l.episode === options.episodes) last = score(nets);
    },
  });
  const s = score(r.nets);
  rows.push({ seed, ...s, seconds: r.trainSeconds, ...(last ? { last, selectedEpisode: r.selected?.episode } : {}) });
  if (r.selected)
    log(
      `  seed ${seed} selection scores ${r.selected.scores.map((x) => `${x.episode}:${x.score.toFixed(3)}`).join(' ')}`,
    );
  if (last) log(`seed ${seed} last policy: ${fmt(last)}`);
  log(`seed ${seed}${r.selected ? ` selected (episode ${r.selected.episode})` : ''}: ${fmt(s)}`);
}
const meanOf = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
const shares = rows.map((r) => r.share),
  mean = meanOf(shares);
log(`mean share ${mean.toFixed(3)}, min share ${Math.min(...shares).toFixed(2)}`);
const lastMean = select ? meanOf(rows.map((r) => r.last!.share)) : undefined;
if (lastMean !== undefined) log(`mean share of the last policies ${lastMean.toFixed(3)}`);
const out = { set, seeds, states: S, validationSeed: VALIDATION_SEED, selection, rows, mean, lastMean };
process.stdout.write(`${JSON.stringify(out)}\n`);
