// `frugal reproduce bcgd`: layer-wise training of deep linear networks by BCGD (Shin; spec 01). Only the
// abstract's qualitative claims are the paper's; setups, step formulas, initialisation and every
// criterion are ours [OURS]. Float64 throughout, so runs are exact enough for 1e-6 gaps and P1's 1e-12.
import {
  deepLinearWidths,
  fashionProblem,
  firstBelow,
  gramProblem,
  initDeepLinear,
  optimum,
  relativeGaps,
  syntheticProblem,
  trainBcgd,
  type DeepLinearInit,
  type ImageDataset,
  type LeastSquares,
} from '../index.js';
import { loadFashionMnist } from '../node.js';
import type { ReproduceReport, Reproduction } from './report.js';
import { runState } from './state.js';
import { bcgdCharts, bcgdMarkdown, bcgdSummary } from './bcgd-report.js';
import { GAPS, gapKey, type BcgdRun } from './bcgd-criteria.js';

type Ctx = Parameters<Reproduction['run']>[0];

/** The settings of a bcgd run (saved in the state file: --resume needs the same ones). */
export interface BcgdConfig extends Record<string, unknown> {
  quick: boolean;
  seeds: number[];
  widthsP3: number[];
  maxSteps: { a: number; ill: number; fmnist: number; search: number };
  /** A deeper net's run stops at this multiple of depth 1's FLOPs: beyond it depth cannot win (P4). */
  flopCapFactor: number;
  fmnistCount: number;
  searchConditions: number[];
  searchInits: DeepLinearInit[];
  searchDepths: number[];
  fullFashion: boolean;
  dataSource: string;
}

/** Every problem of the reproduction by name; synthetic ones depend on the seed, Fashion-MNIST ones do not. */
export function bcgdProblem(setup: string, seed: number, c: BcgdConfig, train: ImageDataset): LeastSquares {
  if (setup === 'a') return syntheticProblem({ dx: 10, dy: 10, m: 200, noise: 0.1, seed });
  if (setup === 'ill') return gramProblem(syntheticProblem({ dx: 10, dy: 10, m: 200, condition: 1e3, seed }));
  const cond = /^kappa-(\d+)$/.exec(setup);
  if (cond) return gramProblem(syntheticProblem({ dx: 10, dy: 10, m: 200, condition: Number(cond[1]), seed }));
  if (setup === 'wide-input') return gramProblem(syntheticProblem({ dx: 50, dy: 2, m: 500, condition: 100, seed }));
  if (setup === 'fmnist-7x7') return fashionProblem(train, { pool: 4, count: c.fmnistCount, form: 'gram' });
  if (setup === 'fmnist-784') return fashionProblem(train, { form: 'gram' });
  throw new Error(`unknown bcgd setup ${setup}`);
}

/** Keep every step up to 50, then about 250 geometrically spaced ones, and the last. */
function downsample(n: number): number[] {
  const keep = new Set<number>();
  for (let i = 0; i <= Math.min(n, 50); i++) keep.add(i);
  for (let i = 0; i <= 250; i++) keep.add(Math.min(n, Math.round(50 * (n / 50) ** (i / 250))));
  keep.add(n);
  return [...keep].filter((i) => i <= n).sort((a, b) => a - b);
}

/** One BCGD run from a fresh initialisation, with everything the criteria and charts need. */
export function measureRun(
  p: LeastSquares,
  lossStar: number,
  s: { setup: string; depth: number; width: number; init: DeepLinearInit; step: 'exact' | 'bound'; seed: number },
  limits: { targetGap: number; maxSteps: number; maxFlops?: number },
): BcgdRun {
  const dx = p.kind === 'direct' ? p.x.rows : p.c.rows,
    dy = p.kind === 'direct' ? p.y.rows : p.s.rows;
  const net = initDeepLinear(deepLinearWidths(dx, dy, s.depth, s.width), { init: s.init, seed: 1000 + s.seed });
  const r = trainBcgd(net, p, {
    step: s.step,
    optimum: lossStar,
    targetGap: limits.targetGap,
    maxSteps: limits.maxSteps,
    maxFlops: limits.maxFlops,
  });
  const gaps = relativeGaps(r.losses, lossStar);
  let violations = 0,
    maxInc = -Infinity;
  for (let k = 1; k < r.losses.length; k++) {
    const prev = r.losses[k - 1],
      next = r.losses[k];
    if (next > prev + 1e-12 * prev) violations++;
    maxInc = Math.max(maxInc, (next - prev) / prev);
  }
  const stepsTo: BcgdRun['stepsTo'] = {},
    flopsTo: BcgdRun['flopsTo'] = {};
  for (const g of GAPS) {
    const i = firstBelow(gaps, g);
    stepsTo[gapKey(g)] = i < 0 ? null : i;
    flopsTo[gapKey(g)] = i < 0 ? null : r.flops[i];
  }
  return {
    setup: s.setup,
    depth: s.depth,
    init: s.init,
    step: s.step,
    seed: s.seed,
    form: p.kind,
    width: s.depth === 1 ? dy : s.width,
    steps: r.steps,
    stoppedBy: r.stoppedBy,
    lossStar,
    loss0: r.losses[0],
    finalGap: gaps[gaps.length - 1],
    monotoneViolations: violations,
    maxRelIncrease: Number.isFinite(maxInc) ? maxInc : 0,
    stepsTo,
    flopsTo,
    // A run that met its target within the first sweep stopped there: its last gap bounds the sweep's.
    gapAfterOneSweep: gaps[Math.min(s.depth, r.steps)],
    curve: downsample(r.steps).map((i) => [i, r.flops[i], gaps[i]]),
  };
}

export function bcgdConfig(quick: boolean, seeds: number[], dataSource: string): BcgdConfig {
  return {
    quick,
    seeds,
    widthsP3: [10, 20, 40],
    maxSteps: quick
      ? { a: 20_000, ill: 30_000, fmnist: 3_000, search: 20_000 }
      : { a: 20_000, ill: 100_000, fmnist: 30_000, search: 100_000 },
    flopCapFactor: 10,
    fmnistCount: quick ? 2000 : 10_000,
    searchConditions: quick ? [1, 10, 100] : [1, 10, 100, 1000],
    searchInits: quick ? ['orthogonal'] : ['orthogonal', 'gaussian'],
    searchDepths: quick ? [2, 4] : [2, 4, 8],
    fullFashion: !quick,
    dataSource,
  };
}

/** One planned run: its settings, its stopping rule, and (for deeper nets) the depth-1 run whose FLOPs cap it. */
export interface PlannedRun {
  key: string;
  setup: string;
  depth: number;
  width: number;
  init: DeepLinearInit;
  step: 'exact' | 'bound';
  seed: number;
  targetGap: number;
  maxSteps: number;
  capBy?: string;
}

/** Every run of a bcgd reproduction, in order (depth-1 runs before the runs they cap). */
export function bcgdPlan(c: BcgdConfig): PlannedRun[] {
  const out: PlannedRun[] = [];
  const add = (
    setup: string,
    depth: number,
    width: number,
    init: DeepLinearInit,
    step: 'exact' | 'bound',
    seed: number,
    targetGap: number,
    maxSteps: number,
    capBy?: string,
  ) => {
    const key = `${setup}:${depth}:${depth === 1 ? 0 : width}:${init}:${step}:${seed}`;
    if (!out.some((r) => r.key === key))
      out.push({ key, setup, depth, width, init, step, seed, targetGap, maxSteps, capBy });
    return key;
  };
  // Depth 1 to a 1e-4 gap sets the FLOP budget of the deeper runs on the same problem (P4).
  const capped = (setup: string, init: DeepLinearInit, seed: number, maxSteps: number, depths: number[], w: number) => {
    const base = add(setup, 1, w, init, 'exact', seed, 1e-4, maxSteps);
    for (const d of depths) add(setup, d, w, init, 'exact', seed, 1e-4, maxSteps, base);
  };
  const ms = c.maxSteps;
  for (const seed of c.seeds) {
    // P1, P2 and P4 on (a): depths 1, 2, 4, 8 at the threshold width, with η* and with the bound step.
    for (const d of [1, 2, 4, 8])
      for (const step of ['exact', 'bound'] as const) add('a', d, 10, 'orthogonal', step, seed, 1e-6, ms.a);
    // P3 on (a) and the ill-conditioned variant: depth 4 across widths; Gaussian init reported beside it.
    for (const w of c.widthsP3) add('a', 4, w, 'orthogonal', 'exact', seed, 1e-6, ms.a);
    add('a', 4, 10, 'gaussian', 'exact', seed, 1e-6, ms.a);
    // (The P3 runs come first: a key planned twice keeps its first, uncapped, settings.)
    for (const w of c.widthsP3) add('ill', 4, w, 'orthogonal', 'exact', seed, 1e-4, ms.ill);
    add('ill', 4, 10, 'gaussian', 'exact', seed, 1e-4, ms.ill);
    capped('ill', 'orthogonal', seed, ms.ill, [2, 4, 8], 10);
  }
  // P4 on Fashion-MNIST (the data are fixed; the first seed draws the init) and the search for a regime
  // where depth wins (conditioning, init, whitened data at κ = 1, a wide-input shape).
  const s0 = c.seeds[0];
  capped('fmnist-7x7', 'orthogonal', s0, ms.fmnist, [2, 4, 8], 49);
  for (const k of c.searchConditions)
    for (const init of c.searchInits) capped(`kappa-${k}`, init, s0, ms.search, c.searchDepths, 10);
  capped('wide-input', 'orthogonal', s0, ms.search, c.searchDepths, 50);
  if (c.fullFashion) capped('fmnist-784', 'orthogonal', s0, 2_000, [2], 784);
  return out;
}

export function reproduceBcgd(ctx: Ctx): ReproduceReport {
  const data = loadFashionMnist(ctx.dataDir);
  const c = bcgdConfig(ctx.quick, ctx.seeds, data.source);
  const { runs, save } = runState<BcgdRun>(ctx.outDir, 'bcgd', ctx.quick, c, ctx.resume);
  const problems = new Map<string, { p: LeastSquares; lossStar: number }>();
  const problem = (setup: string, seed: number) => {
    const key = setup.startsWith('fmnist') ? setup : `${setup}:${seed}`;
    if (!problems.has(key)) {
      const p = bcgdProblem(setup, seed, c, data.train);
      const o = optimum(p);
      ctx.log(
        `bcgd: ${key}: ${p.kind} form, m = ${p.m}, L* = ${o.loss.toExponential(6)} (${o.method}, rank ${o.rank})`,
      );
      problems.set(key, { p, lossStar: o.loss });
    }
    return problems.get(key)!;
  };
  for (const r of bcgdPlan(c)) {
    if (runs[r.key]) continue;
    const { p, lossStar } = problem(r.setup, r.seed);
    let maxFlops: number | undefined;
    if (r.capBy) {
      const base = runs[r.capBy];
      maxFlops = c.flopCapFactor * (base.flopsTo['1e-4'] ?? base.curve[base.curve.length - 1][1]);
    }
    runs[r.key] = measureRun(p, lossStar, r, { targetGap: r.targetGap, maxSteps: r.maxSteps, maxFlops });
    save();
    const x = runs[r.key];
    ctx.log(
      `bcgd: ${r.key}: ${x.steps} steps (${x.stoppedBy}), final gap ${x.finalGap.toExponential(2)}, ` +
        `${x.monotoneViolations} monotonicity violations`,
    );
  }
  return bcgdSummary(runs, c);
}

export const bcgd: Reproduction = {
  name: 'bcgd',
  describe: 'layer-wise BCGD of deep linear networks (Shin): exact step, width, depth vs depth 1 per FLOP',
  options: {},
  defaultSeeds: 5,
  run: reproduceBcgd,
  fromState: (st, seeds) => {
    // Settings the state lacks take this version's defaults (a state from another reproduction lists all as missing).
    const quick = !!st.config.quick,
      s = seeds ?? (st.config.seeds as number[] | undefined) ?? [1, 2, 3, 4, 5];
    const c = { ...bcgdConfig(quick, s, 'unknown'), ...st.config, seeds: s } as BcgdConfig;
    return bcgdSummary(st.runs as Record<string, BcgdRun>, c);
  },
  report: bcgdMarkdown,
  charts: (r) =>
    Object.fromEntries(
      Object.entries(bcgdCharts(r)).map(([k, spec]) => [`bcgd${r.mode === 'quick' ? '-quick' : ''}-${k}.svg`, spec]),
    ),
};
