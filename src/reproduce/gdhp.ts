// `frugal reproduce gdhp`: GDHP (Kim et al., Automatica 2020; spec 08) checked against exact solutions:
// A the Riccati gain of a linear plant, B a nonlinear system with known V*, C the Van de Vusse CSTR
// against iLQR from held-out initial states, with a shallow network beside the deep one. The paper
// has no numbers we can read; the systems, recipes and criteria are ours [OURS].
import {
  Rng,
  actorPolicy,
  closedLoopScore,
  costateErrors,
  costateGradientGap,
  cstrPlant,
  drawStates,
  gainRelativeError,
  ilqr,
  learnedGain,
  lqrPlant,
  noGrad,
  nonlinearLambda,
  nonlinearPlant,
  nonlinearU,
  nonlinearV,
  recipeFor,
  rollout,
  solveDare,
  trainGdhp,
  Tensor,
  validationStates,
  NonFiniteStateError,
  type EpisodeLog,
  type GdhpNets,
  type GdhpOptions,
  type Plant,
} from '../index.js';
import type { ReproContext, ReproduceReport, Reproduction } from './report.js';
import { runState } from './state.js';
import {
  BOUND,
  criteriaA,
  criteriaB,
  criteriaC,
  median,
  uubCriterion,
  type CstrRun,
  type GdhpHistory,
  type IlqrReference,
  type LqrRun,
  type NonlinearRun,
} from './gdhp-criteria.js';
import { gdhpCharts, gdhpMarkdown } from './gdhp-report.js';

export const SYSTEMS = ['lqr', 'nonlinear', 'cstr'] as const;
export type SystemName = (typeof SYSTEMS)[number];

/** Test states are drawn from this stream, apart from every training stream (seeded by the run's seed). */
const TEST_SEED = 777;
/** The streams of tests A, B and C's held-out states. */
export const TEST_SEEDS = [TEST_SEED, TEST_SEED + 1, TEST_SEED + 2];

interface Config extends Record<string, unknown> {
  quick: boolean;
  seeds: number[];
  systems: SystemName[];
  episodes: Record<SystemName, number>;
  testStates: Record<SystemName, number>;
  cstrHorizon: number;
  cstrShallow: number[];
  /** The CSTR policy is chosen on these validation states (own stream, never a test stream) every `every` episodes. */
  cstrSelection: { seed: number; states: number; every: number };
  dataSource: string;
}

const historyOf = (h: EpisodeLog[]): GdhpHistory => ({
  critic: h.map((l) => l.criticLoss),
  costate: h.map((l) => l.costateLoss),
  actor: h.map((l) => l.actorLoss),
  drift: h.map((l) => l.drift.costate),
});

function train(
  plant: Plant,
  c: Config,
  sys: SystemName,
  seed: number,
  ctx: ReproContext,
  extra: Partial<GdhpOptions> = {},
) {
  const recipe = recipeFor(plant);
  return trainGdhp(plant, { ...recipe.options, episodes: c.episodes[sys], seed, ...extra });
}

function runLqr(c: Config, seed: number, ctx: ReproContext): LqrRun {
  const plant = lqrPlant(),
    dare = solveDare(plant.linear!);
  const gainErrorHistory: number[] = [];
  const r = train(plant, c, 'lqr', seed, ctx, {
    onEpisode: (_l, nets) => void gainErrorHistory.push(gainRelativeError(learnedGain(nets.actor, 2), dare.K)),
  });
  const K = learnedGain(r.nets.actor, 2);
  const rng = new Rng(TEST_SEED),
    S = c.testStates.lqr,
    x = drawStates(plant, S, () => rng.random());
  const errs = costateErrors(r.nets.costate, x, S, 2, (row) => dare.P.map((p) => 2 * (p[0] * row[0] + p[1] * row[1])));
  return {
    system: 'lqr',
    seed,
    gainError: gainRelativeError(K, dare.K),
    gainErrorHistory,
    costateMedianError: median(errs),
    K,
    Kstar: dare.K,
    hist: historyOf(r.history),
    trainSeconds: r.trainSeconds,
    updates: r.updates,
  };
}

const valueAt = (nets: GdhpNets, x: number[]) =>
  noGrad(() => nets.critic.forward(Tensor.from(x, [1, x.length])).data[0]);

function runNonlinear(c: Config, seed: number, ctx: ReproContext): NonlinearRun {
  const plant = nonlinearPlant(),
    T = recipeFor(plant).horizon;
  const r = train(plant, c, 'nonlinear', seed, ctx);
  const rng = new Rng(TEST_SEED + 1),
    S = c.testStates.nonlinear,
    x0 = drawStates(plant, S, () => rng.random());
  const star = (x: Float64Array, n: number) =>
    Float64Array.from({ length: n }, (_, s) => nonlinearU(x.subarray(2 * s, 2 * s + 2)));
  const ref = rollout(plant, star, x0, S, T).cost;
  let costRatios: number[];
  try {
    const got = rollout(plant, actorPolicy(r.nets.actor, 2), x0, S, T).cost;
    costRatios = Array.from(got, (v, s) => v / ref[s]);
  } catch (e) {
    if (!(e instanceof NonFiniteStateError)) throw e;
    costRatios = new Array<number>(S).fill(Infinity);
  }
  const g = c.quick ? 11 : 21,
    valueErrors: number[] = [];
  for (let i = 0; i < g; i++)
    for (let j = 0; j < g; j++) {
      const p = [-1 + (2 * i) / (g - 1), -1 + (2 * j) / (g - 1)];
      if (Math.hypot(p[0], p[1]) <= 0.1) continue;
      valueErrors.push(Math.abs(valueAt(r.nets, p) - nonlinearV(p)) / nonlinearV(p));
    }
  const x2 = Array.from({ length: 21 }, (_, i) => -1 + i / 10);
  const lam = noGrad(() =>
    Array.from(
      r.nets.costate.forward(
        Tensor.from(
          x2.flatMap((v) => [0, v]),
          [21, 2],
        ),
      ).data,
    ),
  );
  return {
    system: 'nonlinear',
    seed,
    costRatios,
    valueErrors,
    costateMedianError: median(costateErrors(r.nets.costate, x0, S, 2, (row) => nonlinearLambda(row))),
    gradientGap: costateGradientGap(r.nets.critic, r.nets.costate, x0, S, 2),
    slice: {
      x2,
      V: x2.map((v) => valueAt(r.nets, [0, v])),
      Vstar: x2.map((v) => nonlinearV([0, v])),
      lambda2: x2.map((_, i) => lam[2 * i + 1]),
      lambda2star: x2.map((v) => 2 * v),
    },
    hist: historyOf(r.history),
    trainSeconds: r.trainSeconds,
    updates: r.updates,
  };
}

/** The held-out CSTR states (≥ 20 in full runs), from their own stream. */
function cstrTestStates(plant: Plant, S: number): Float64Array {
  const rng = new Rng(TEST_SEED + 2);
  return drawStates(plant, S, () => rng.random());
}

const cbTrajectories = (x: Float64Array, S: number, T: number, k: number, n = 6) =>
  Array.from({ length: Math.min(k, S) }, (_, s) => Array.from({ length: T + 1 }, (_, t) => x[(t * S + s) * n + 1]));

function runIlqr(c: Config): IlqrReference {
  const plant = cstrPlant(),
    S = c.testStates.cstr,
    x0 = cstrTestStates(plant, S);
  const t0 = performance.now();
  const sols = Array.from({ length: S }, (_, s) =>
    ilqr(plant, x0.subarray(s * 6, s * 6 + 6), c.cstrHorizon, { maxIterations: c.quick ? 8 : 50 }),
  );
  const secondsPerState = (performance.now() - t0) / 1000 / S;
  return {
    costs: sols.map((r) => r.cost),
    trajectories: sols.slice(0, 4).map((r) => Array.from({ length: c.cstrHorizon + 1 }, (_, t) => r.x[t * 6 + 1])),
    secondsPerState,
  };
}

/** iLQR's costs from the CSTR validation states (the selection's reference; no test state is read). */
function runIlqrValidation(c: Config): number[] {
  const plant = cstrPlant(),
    x = validationStates(plant, c.cstrSelection);
  return Array.from(
    { length: c.cstrSelection.states },
    (_, s) => ilqr(plant, x.subarray(s * 6, s * 6 + 6), c.cstrHorizon, { maxIterations: c.quick ? 8 : 50 }).cost,
  );
}

/**
 * The CSTR's policy selection: every `every` episodes, the mean over the validation states of
 * min(J/J_iLQR, 3), a closed loop leaving ±BOUND scoring 3 (criterion C1 and C2's measure on other states).
 */
export function cstrSelect(c: Pick<Config, 'cstrSelection' | 'cstrHorizon'>, reference: number[]) {
  const plant = cstrPlant(),
    v = c.cstrSelection;
  if (TEST_SEEDS.includes(v.seed)) throw new Error(`gdhp: the selection stream ${v.seed} is a test stream`);
  const x = validationStates(plant, v);
  return { every: v.every, score: closedLoopScore(plant, x, v.states, c.cstrHorizon, { reference, bound: BOUND }) };
}

function runCstr(c: Config, seed: number, arch: 'deep' | 'shallow', ctx: ReproContext, reference: number[]): CstrRun {
  const plant = cstrPlant(),
    S = c.testStates.cstr;
  const r = train(plant, c, 'cstr', seed, ctx, {
    ...(arch === 'shallow' ? { arch: c.cstrShallow } : {}),
    select: cstrSelect(c, reference),
  });
  // The test states are drawn only now, for the chosen policy.
  const x0 = cstrTestStates(plant, S);
  let costs: number[], maxAbs: number[], trajectories: number[][];
  try {
    const ro = rollout(plant, actorPolicy(r.nets.actor, 6), x0, S, c.cstrHorizon);
    costs = Array.from(ro.cost);
    maxAbs = Array.from(ro.maxAbs);
    trajectories = cbTrajectories(ro.x, S, c.cstrHorizon, 4);
  } catch (e) {
    if (!(e instanceof NonFiniteStateError)) throw e;
    [costs, maxAbs, trajectories] = [new Array<number>(S).fill(Infinity), new Array<number>(S).fill(NaN), []];
  }
  return {
    system: 'cstr',
    seed,
    arch,
    costs,
    maxAbs,
    trajectories,
    hist: historyOf(r.history),
    trainSeconds: r.trainSeconds,
    updates: r.updates,
    updatesPerSecond: r.updatesPerSecond,
    selectedEpisode: r.selected?.episode ?? c.episodes.cstr,
    selectionScores: r.selected?.scores.map((x) => [x.episode, x.score]) ?? [],
  };
}

export function reproduceGdhp(ctx: ReproContext): ReproduceReport {
  const quick = ctx.quick,
    which = (ctx.own.system as string | undefined) ?? 'all';
  const systems = which === 'all' ? [...SYSTEMS] : [which as SystemName];
  const cstr = cstrPlant(),
    nl = nonlinearPlant(),
    cstrSelection = recipeFor(cstr).selection!;
  const c: Config = {
    quick,
    seeds: ctx.seeds,
    systems,
    episodes: {
      lqr: ctx.epochs ?? recipeFor(lqrPlant()).quickEpisodes,
      nonlinear: ctx.epochs ?? (quick ? recipeFor(nl).quickEpisodes : (recipeFor(nl).options.episodes as number)),
      cstr: ctx.epochs ?? (quick ? recipeFor(cstr).quickEpisodes : (recipeFor(cstr).options.episodes as number)),
    },
    testStates: { lqr: 200, nonlinear: quick ? 20 : 100, cstr: quick ? 4 : 20 },
    cstrHorizon: quick ? 60 : recipeFor(cstr).horizon,
    cstrShallow: [64],
    cstrSelection: quick ? { ...cstrSelection, states: 4, every: 2 } : cstrSelection,
    dataSource: 'synthetic: simulated plants (no dataset)',
  };
  const { runs, save } = runState<unknown>(ctx.outDir, 'gdhp', quick, c, ctx.resume);
  const once = <T>(key: string, f: () => T, line: (r: T) => string): void => {
    if (runs[key] === undefined) {
      runs[key] = f();
      save();
    }
    ctx.log(`gdhp: ${key}: ${line(runs[key] as T)}`);
  };
  if (systems.includes('cstr'))
    once(
      'cstr:ilqr',
      () => runIlqr(c),
      (r) => `iLQR ${r.secondsPerState.toFixed(2)} s per state`,
    );
  if (systems.includes('cstr'))
    once(
      'cstr:ilqr:validation',
      () => runIlqrValidation(c),
      (r) =>
        `policy chosen on validation states (stream ${c.cstrSelection.seed}, ${r.length} states) every ` +
        `${c.cstrSelection.every} episodes`,
    );
  for (const seed of c.seeds) {
    if (systems.includes('lqr'))
      once(
        `lqr:${seed}`,
        () => runLqr(c, seed, ctx),
        (r) => `gain error ${(100 * r.gainError).toFixed(2)}%`,
      );
    if (systems.includes('nonlinear'))
      once(
        `nonlinear:${seed}`,
        () => runNonlinear(c, seed, ctx),
        (r) =>
          `median cost ratio to u* ${median(r.costRatios).toFixed(4)}, ` +
          `median V error ${median(r.valueErrors).toFixed(4)}`,
      );
    if (systems.includes('cstr'))
      for (const arch of ['deep', 'shallow'] as const)
        once(
          `cstr:${arch}:${seed}`,
          () => runCstr(c, seed, arch, ctx, runs['cstr:ilqr:validation'] as number[]),
          (r) => `median cost ${median(r.costs).toPrecision(4)} (policy of episode ${r.selectedEpisode})`,
        );
  }
  return gdhpSummary(runs, c);
}

/** The report of a gdhp state; runs missing from it are named. */
export function gdhpSummary(state: Record<string, unknown>, config: Record<string, unknown>): ReproduceReport {
  // A state from elsewhere (or older) may lack the system list: every system is expected then.
  const c = { ...config, systems: (config.systems as SystemName[] | undefined) ?? [...SYSTEMS] } as Config;
  const keys = [
    ...(c.systems.includes('cstr') ? ['cstr:ilqr'] : []),
    ...c.seeds.flatMap((s) => [
      ...(c.systems.includes('lqr') ? [`lqr:${s}`] : []),
      ...(c.systems.includes('nonlinear') ? [`nonlinear:${s}`] : []),
      ...(c.systems.includes('cstr') ? [`cstr:deep:${s}`, `cstr:shallow:${s}`] : []),
    ]),
  ];
  const missing = keys.filter((k) => state[k] === undefined);
  // JSON keeps Infinity and NaN as null: a diverged closed loop reads back as diverged, a drift not yet
  // measured as not measured.
  const fix = (v: (number | null)[], dflt: number) => v.map((x) => (x === null ? dflt : x));
  const got = keys
    .filter((k) => state[k] !== undefined && k !== 'cstr:ilqr')
    .map((k) => state[k] as LqrRun | NonlinearRun | CstrRun)
    .map((r) => ({
      ...r,
      hist: Object.fromEntries(Object.entries(r.hist).map(([k, v]) => [k, fix(v, NaN)])) as unknown as GdhpHistory,
    }));
  const lqr = got.filter((r): r is LqrRun => r.system === 'lqr');
  const nonlinear = got
    .filter((r): r is NonlinearRun => r.system === 'nonlinear')
    .map((r) => ({ ...r, costRatios: fix(r.costRatios, Infinity) }));
  const cstrRuns = got
    .filter((r): r is CstrRun => r.system === 'cstr')
    .map((r) => ({ ...r, costs: fix(r.costs, Infinity), maxAbs: fix(r.maxAbs, NaN) }));
  const ilqrRef = state['cstr:ilqr'] as IlqrReference | undefined;
  const criteria = [
    ...(c.systems.includes('lqr') ? criteriaA(lqr) : []),
    ...(c.systems.includes('nonlinear') ? criteriaB(nonlinear) : []),
    ...(c.systems.includes('cstr') ? criteriaC(cstrRuns, ilqrRef) : []),
    uubCriterion(got.map((r) => ({ name: `${r.system}${'arch' in r ? `:${r.arch}` : ''}:${r.seed}`, hist: r.hist }))),
  ];
  return {
    name: 'gdhp',
    dataset: 'synthetic control tasks (plant simulations)',
    mode: c.quick ? 'quick' : 'full',
    seeds: c.seeds,
    paper: {
      claims: [
        'GDHP with DNN approximators for control-affine systems with quadratic cost',
        'elementwise error bound on the costate sequence',
        'UUB weights under gradient descent, bound ∝ reconstruction error',
        'continuous reactor controlled from multiple initial states; the DNN is justified there',
      ],
      numbers: 'none available (reactor model and results not public): oracle/baseline comparisons instead',
    },
    ours: { config: c, ilqr: ilqrRef ?? null, runs: { lqr, nonlinear, cstr: cstrRuns }, bound: BOUND },
    criteria,
    ...(missing.length ? { missing } : {}),
  };
}

export const gdhp: Reproduction = {
  name: 'gdhp',
  describe: 'GDHP optimal control (Kim et al.) against the Riccati gain, a known optimal value and iLQR on a CSTR',
  options: {
    system: {
      type: 'choice',
      choices: ['lqr', 'nonlinear', 'cstr', 'all'],
      usage: '--system lqr|nonlinear|cstr|all',
      help: 'which test of spec 08 to run (default all)',
    },
  },
  dataSource: 'synthetic: simulated plants (no dataset)',
  run: reproduceGdhp,
  fromState: (st, seeds) =>
    gdhpSummary(st.runs as Record<string, unknown>, seeds ? { ...st.config, seeds } : st.config),
  report: gdhpMarkdown,
  charts: (r) =>
    Object.fromEntries(
      Object.entries(gdhpCharts(r)).map(([k, spec]) => [`gdhp${r.mode === 'quick' ? '-quick' : ''}-${k}`, spec]),
    ),
};
