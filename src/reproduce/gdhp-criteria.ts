// Spec 08's pass criteria for `frugal reproduce gdhp`, as pure functions of the measured runs, so
// that each one has a test feeding it a failing result. The criteria are ours [OURS]; the paper
// gives no numbers to compare with.
import { criterion, meanStd, unmeasured, type Criterion } from './report.js';

/** Per-episode training record: TD residuals (the regression losses) and weight drift. */
export interface GdhpHistory {
  critic: number[];
  costate: number[];
  actor: number[];
  /** ‖W_t − W_{t−100}‖ of the costate network (NaN until measured). */
  drift: number[];
}

export interface LqrRun {
  system: 'lqr';
  seed: number;
  gainError: number;
  /** Gain error after each episode (the chart). */
  gainErrorHistory: number[];
  costateMedianError: number;
  K: number[][];
  Kstar: number[][];
  hist: GdhpHistory;
  trainSeconds: number;
  updates: number;
}

export interface NonlinearRun {
  system: 'nonlinear';
  seed: number;
  /** GDHP closed-loop cost / u*'s over 10 s, per test state. */
  costRatios: number[];
  /** |V − V*| / V* on the grid of the box outside the radius-0.1 ball. */
  valueErrors: number[];
  costateMedianError: number;
  /** Mean ‖Λ − ∇V‖ / ‖∇V‖ on the test states (the two nets may drift apart). */
  gradientGap: number;
  /** The slice x₁ = 0: learned and true V and λ₂ along x₂. */
  slice: { x2: number[]; V: number[]; Vstar: number[]; lambda2: number[]; lambda2star: number[] };
  hist: GdhpHistory;
  trainSeconds: number;
  updates: number;
}

export interface CstrRun {
  system: 'cstr';
  seed: number;
  arch: 'deep' | 'shallow';
  /** Closed-loop cost over the horizon per held-out state. */
  costs: number[];
  /** Largest |scaled state| along each closed loop (NaN: diverged). */
  maxAbs: number[];
  /** C_B (scaled) along the first held-out trajectories. */
  trajectories: number[][];
  hist: GdhpHistory;
  trainSeconds: number;
  updates: number;
  updatesPerSecond: number;
  /** The episode whose networks were kept by the selection on validation states (the last without one). */
  selectedEpisode?: number;
  /** [episode, score] of every selection check (JSON keeps +∞ as null). */
  selectionScores?: [number, number | null][];
}

/** iLQR on the held-out CSTR states: the baseline (one solve per state). */
export interface IlqrReference {
  costs: number[];
  trajectories: number[][];
  secondsPerState: number;
}

/** A closed loop counts as bounded while every scaled state stays within ±BOUND (the box is ±1). */
export const BOUND = 2;

const mean = (v: number[]) => meanStd(v).mean;
const pm = (v: number[], f = (x: number) => x.toFixed(4)) => {
  const s = meanStd(v);
  return `${f(s.mean)} ± ${f(s.std)}`;
};
const share = (v: number[], ok: (x: number) => boolean) => (v.length ? v.filter(ok).length / v.length : NaN);

/** Median of a list (NaN when empty). */
export function median(v: number[]): number {
  if (!v.length) return NaN;
  const s = [...v].sort((a, b) => a - b),
    h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Test A: gain within 5% of the Riccati gain and median costate error below 5% (means over seeds). */
export function criteriaA(runs: LqrRun[]): Criterion[] {
  if (!runs.length) return [unmeasured('A. LQR gain', '< 5%', 'lqr runs')];
  const g = runs.map((r) => r.gainError),
    c = runs.map((r) => r.costateMedianError);
  const gainName = `A1. ‖K_GDHP − K_DARE‖_F / ‖K_DARE‖_F, mean over seeds (${pm(g)})`;
  return [
    criterion(gainName, '< 0.05', mean(g), mean(g) < 0.05, runs.length),
    criterion(
      `A2. median ‖λ − 2Px‖/‖2Px‖ on test states, mean over seeds (${pm(c)})`,
      '< 0.05',
      mean(c),
      mean(c) < 0.05,
      runs.length,
    ),
  ];
}

/** Test B: cost within 5% of u* from ≥ 90% of test states; V within 10% of V* on ≥ 90% of the box grid. */
export function criteriaB(runs: NonlinearRun[]): Criterion[] {
  if (!runs.length) return [unmeasured('B. known-V* system', '≥ 0.9', 'nonlinear runs')];
  const f = runs.map((r) => share(r.costRatios, (q) => q <= 1.05)),
    v = runs.map((r) => share(r.valueErrors, (e) => e <= 0.1));
  return [
    criterion(
      `B1. share of test states with closed-loop cost ≤ 1.05 × u*'s over 10 s, mean over seeds (${pm(f)})`,
      '≥ 0.90',
      mean(f),
      mean(f) >= 0.9,
      runs.length,
    ),
    criterion(
      `B2. share of box grid points (‖x‖ > 0.1) with |V − V*|/V* ≤ 0.10, mean over seeds (${pm(v)})`,
      '≥ 0.90',
      mean(v),
      mean(v) >= 0.9,
      runs.length,
    ),
  ];
}

/**
 * Test C: every closed loop bounded; GDHP ≤ 1.10 × iLQR on ≥ 80% of held-out states; and the paper's
 * claim that depth is needed, counted only when the deep net's median cost beats the shallow one's
 * by more than the seed-to-seed spread (≥ 3 seeds).
 */
export function criteriaC(runs: CstrRun[], ilqr: IlqrReference | undefined): Criterion[] {
  const deep = runs.filter((r) => r.arch === 'deep'),
    shallow = runs.filter((r) => r.arch === 'shallow');
  if (!deep.length || !ilqr) return [unmeasured('C. CSTR', 'bounded, ≥ 0.8', 'cstr runs or the iLQR baseline')];
  const allMax = deep.flatMap((r) => r.maxAbs);
  const worst = allMax.some((v) => !Number.isFinite(v)) ? Infinity : Math.max(...allMax);
  const f = deep.map((r) =>
    share(
      r.costs.map((c, i) => c / ilqr.costs[i]),
      (q) => q <= 1.1,
    ),
  );
  const out = [
    criterion(
      `C1. every closed loop bounded: largest |scaled state| over all seeds and states`,
      `≤ ${BOUND}`,
      worst,
      worst <= BOUND,
    ),
    criterion(
      `C2. share of held-out states with GDHP cost ≤ 1.10 × iLQR's, mean over seeds (${pm(f)})`,
      '≥ 0.80',
      mean(f),
      mean(f) >= 0.8,
      deep.length,
    ),
  ];
  const seeds = deep.map((r) => r.seed).filter((s) => shallow.some((q) => q.seed === s));
  if (seeds.length < 3) {
    out.push(
      unmeasured(
        "C3. deep beats shallow by more than the seed spread (the paper's claim)",
        '> spread',
        '≥ 3 seeds of both',
      ),
    );
    return out;
  }
  const gap = deepShallowGap(deep, shallow);
  out.push(
    criterion(
      `C3. median cost shallow − deep, mean over seeds (spread ${gap.spread.toPrecision(3)}): the deep network is ` +
        'needed (paper)',
      '> spread',
      gap.gap,
      gap.gap > gap.spread,
      seeds.length,
    ),
  );
  return out;
}

/** Mean over seeds of median cost (shallow − deep), and the seed spread: the larger std of the per-seed medians. */
export function deepShallowGap(deep: CstrRun[], shallow: CstrRun[]): { gap: number; spread: number } {
  const d = deep.map((r) => median(r.costs)),
    s = shallow.map((r) => median(r.costs));
  return { gap: mean(s) - mean(d), spread: Math.max(meanStd(d).std, meanStd(s).std) };
}

/**
 * Plateau rather than divergence: the last fifth of a series averages at most twice the fifth before
 * it, or at most 1e-3 of the first fifth (a residual that keeps falling has room to wobble). NaN
 * entries (drift before it is measured) are skipped.
 */
export function plateaus(series: number[]): boolean {
  const v = series.filter((x) => !Number.isNaN(x));
  if (v.length < 5) return false;
  if (!v.every(Number.isFinite)) return false;
  const k = Math.floor(v.length / 5),
    last = mean(v.slice(-k)),
    before = mean(v.slice(-2 * k, -k)),
    first = mean(v.slice(0, k));
  return last <= 2 * before || last <= 1e-3 * first;
}

/** The UUB check of spec 08 on every run: TD residuals (critic + costate) and the costate net's drift plateau. */
export function uubCriterion(hists: { name: string; hist: GdhpHistory }[]): Criterion {
  const bad = hists.filter(
    ({ hist }) => !plateaus(hist.critic.map((c, i) => c + hist.costate[i])) || !plateaus(hist.drift),
  );
  return criterion(
    'UUB. TD residuals and ‖W_t − W_{t−100}‖ plateau in every run' +
      (bad.length ? ` (not: ${bad.map((b) => b.name).join(', ')})` : ''),
    'all runs',
    hists.length ? (hists.length - bad.length) / hists.length : NaN,
    hists.length > 0 && bad.length === 0,
  );
}
