// Spec 01's pass criteria (P1–P3) and the depth-against-depth-1 report (P4, not a gate), as pure
// functions of the measured runs of `frugal reproduce bcgd`, so each can be fed a failing result.
import { criterion, type Criterion } from './report.js';

/** The relative gaps (L − L*)/(L_0 − L*) the runs record the first crossing of. */
export const GAPS = [1e-2, 1e-3, 1e-4, 1e-6] as const;
export type GapKey = '1e-2' | '1e-3' | '1e-4' | '1e-6';
export const gapKey = (g: number) => g.toExponential(0) as GapKey;

/** One BCGD run of the reproduction: its settings and what it measured. */
export interface BcgdRun {
  setup: string;
  form: 'direct' | 'gram';
  depth: number;
  width: number;
  init: 'orthogonal' | 'gaussian';
  step: 'exact' | 'bound';
  seed: number;
  steps: number;
  stoppedBy: string;
  lossStar: number;
  loss0: number;
  finalGap: number;
  /** Steps where L_{k+1} > L_k + 1e-12·L_k, and the largest (L_{k+1} − L_k)/L_k seen (≤ 0 when monotone). */
  monotoneViolations: number;
  maxRelIncrease: number;
  /** Block steps and counted FLOPs at the first crossing of each gap (null: not reached). */
  stepsTo: Partial<Record<GapKey, number | null>>;
  flopsTo: Partial<Record<GapKey, number | null>>;
  /** Gap after one sweep (every matrix updated once): the probe of the v2 abstract's claim 3. */
  gapAfterOneSweep: number;
  /** Downsampled curve: [block step, FLOPs, relative gap]. */
  curve: [number, number, number][];
}

export const median = (v: number[]): number => {
  const s = [...v].sort((a, b) => a - b);
  return s.length ? (s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2) : NaN;
};

/** P1: with η*, L_{k+1} ≤ L_k + 1e-12·L_k at every step of every exact-step run. */
export function p1(runs: BcgdRun[]): Criterion {
  const exact = runs.filter((r) => r.step === 'exact');
  const bad = exact.reduce((a, r) => a + r.monotoneViolations, 0);
  const steps = exact.reduce((a, r) => a + r.steps, 0);
  return criterion(
    `P1. monotone loss with η*: steps with L_{k+1} > L_k + 1e-12·L_k, over ${exact.length} runs ` +
      `(${steps} block steps)`,
    '= 0',
    bad,
    exact.length > 0 && bad === 0,
  );
}

/**
 * P2: every exact-step run on setup (a) at depths 1, 2, 4, 8 (threshold width 10) reaches a relative gap
 * ≤ 1e-6 (no learning rate).
 */
export function p2(runs: BcgdRun[], setup = 'a'): Criterion[] {
  return [1, 2, 4, 8].map((d) => {
    const rs = runs.filter(
      (r) => r.setup === setup && r.depth === d && r.step === 'exact' && r.init === 'orthogonal' && r.width === 10,
    );
    const worst = rs.length ? Math.max(...rs.map((r) => r.finalGap)) : NaN;
    return criterion(
      `P2. (${setup}) depth ${d}: worst final relative gap over ${rs.length} seeds, η* (no learning rate)`,
      '≤ 1e-6',
      worst,
      rs.length > 0 && worst <= 1e-6 && rs.every((r) => Number.isFinite(r.finalGap)),
    );
  });
}

/** The exact-step, orthogonal-init runs of one setup and depth: the runs P3 compares across widths. */
const widthRuns = (runs: BcgdRun[], setup: string, depth: number) =>
  runs.filter((r) => r.setup === setup && r.depth === depth && r.init === 'orthogonal' && r.step === 'exact');

/** Median over seeds of the block steps to a 1e-4 gap, per width (Infinity when a seed never reached it). */
export function stepsByWidth(runs: BcgdRun[], setup: string, depth = 4): { width: number; median: number }[] {
  const rs = widthRuns(runs, setup, depth);
  const widths = [...new Set(rs.map((r) => r.width))].sort((a, b) => a - b);
  return widths.map((width) => ({
    width,
    median: median(rs.filter((r) => r.width === width).map((r) => r.stepsTo['1e-4'] ?? Infinity)),
  }));
}

/** Fewest seeds behind any width's median in P3 (a median of one seed is no evidence). */
function seedsPerWidth(runs: BcgdRun[], setup: string, depth = 4): number {
  const rs = widthRuns(runs, setup, depth);
  const counts = [...new Set(rs.map((r) => r.width))].map((w) => rs.filter((r) => r.width === w).length);
  return counts.length ? Math.min(...counts) : 0;
}

/** P3: at depth 4 with orthogonal-like init, medians of steps-to-1e-4 across widths differ by ≤ 20%. */
export function p3(runs: BcgdRun[], setup: string): Criterion {
  const w = stepsByWidth(runs, setup);
  const meds = w.map((x) => x.median);
  const spread = meds.length > 1 ? (Math.max(...meds) - Math.min(...meds)) / Math.min(...meds) : NaN;
  return criterion(
    `P3. (${setup}) depth 4, orthogonal-like init: (max − min)/min over widths ${w.map((x) => x.width).join(', ')} ` +
      `of the median block steps to a 1e-4 gap (${meds.map((m) => (Number.isFinite(m) ? m : 'never')).join(', ')})`,
    '≤ 0.20',
    spread,
    meds.length >= 3 && Number.isFinite(spread) && spread <= 0.2,
    seedsPerWidth(runs, setup),
  );
}

/** One line of the P4 report: FLOPs (median over seeds) to each gap, and the ratio to depth 1's. */
export interface DepthRow {
  setup: string;
  depth: number;
  width: number;
  init: string;
  flopsTo: Record<string, number | null>;
  /** FLOPs before the first step (Gram matrices, first residual): in flopsTo, left out of ratioToDepth1. */
  setupFlops: number;
  ratioToDepth1: Record<string, number | null>;
  stepsTo: Record<string, number | null>;
}

/** P4 (reported, not a gate): for each setup and depth, median FLOPs to 1e-2, 1e-3, 1e-4 and the ratio to depth 1. */
export function depthTable(runs: BcgdRun[], setups: string[], init = 'orthogonal'): DepthRow[] {
  const out: DepthRow[] = [];
  const med = (rs: BcgdRun[], k: GapKey, f: 'flopsTo' | 'stepsTo') => {
    const v = rs.map((r) => r[f][k] ?? Infinity);
    const m = median(v);
    return Number.isFinite(m) ? m : null;
  };
  for (const s of setups) {
    const rs = runs.filter((r) => r.setup === s && r.step === 'exact' && r.init === init);
    const base = rs.filter((r) => r.depth === 1);
    const widths = new Map<number, number>();
    for (const r of rs) if (r.depth > 1) widths.set(r.depth, Math.min(widths.get(r.depth) ?? Infinity, r.width));
    for (const d of [...new Set(rs.map((r) => r.depth))].sort((a, b) => a - b)) {
      const these = rs.filter((r) => r.depth === d && (d === 1 || r.width === widths.get(d)));
      const row: DepthRow = {
        setup: s,
        depth: d,
        width: these[0].width,
        init,
        setupFlops: 0,
        flopsTo: {},
        ratioToDepth1: {},
        stepsTo: {},
      };
      // The ratio compares the FLOPs spent after the start (curve[0] holds the one-off Gram matrices and first
      // residual, shared by every depth): for full Fashion-MNIST they would otherwise pull every ratio toward 1.
      const setup = (rs: BcgdRun[]) => median(rs.map((r) => r.curve[0]?.[1] ?? 0));
      row.setupFlops = setup(these);
      for (const k of ['1e-2', '1e-3', '1e-4'] as GapKey[]) {
        const f = med(these, k, 'flopsTo'),
          b = med(base, k, 'flopsTo');
        row.flopsTo[k] = f;
        row.stepsTo[k] = med(these, k, 'stepsTo');
        row.ratioToDepth1[k] = f !== null && b !== null ? (f - setup(these)) / (b - setup(base)) : null;
      }
      out.push(row);
    }
  }
  return out;
}

/** Where, if anywhere, a depth > 1 reached a gap in fewer FLOPs than depth 1 (ratio < 1). */
export function depthWins(rows: DepthRow[]): { setup: string; depth: number; gap: string; ratio: number }[] {
  return rows.flatMap((r) =>
    r.depth === 1
      ? []
      : Object.entries(r.ratioToDepth1)
          .filter(([, v]) => v !== null && v < 1)
          .map(([gap, v]) => ({ setup: r.setup, depth: r.depth, gap, ratio: v! })),
  );
}

const sci = (v: number | null | undefined) => (v === null || v === undefined ? 'not reached' : v.toExponential(2));

/** The P4 table (Markdown). */
export function depthMarkdown(rows: DepthRow[]): string {
  return [
    '| setup | depth | width | init | FLOPs to 1e-2 | to 1e-3 | to 1e-4 | of which before step 1 | ' +
      '÷ depth 1, steps only (1e-2, 1e-3, 1e-4) | block steps to 1e-4 |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows.map(
      (r) =>
        `| ${r.setup} | ${r.depth} | ${r.width} | ${r.init} | ` +
        `${sci(r.flopsTo['1e-2'])} | ${sci(r.flopsTo['1e-3'])} | ` +
        `${sci(r.flopsTo['1e-4'])} | ${sci(r.setupFlops)} | ${['1e-2', '1e-3', '1e-4']
          .map((k) => (r.ratioToDepth1[k] === null ? '—' : r.ratioToDepth1[k]!.toFixed(2)))
          .join(', ')} | ${r.stepsTo['1e-4'] ?? 'not reached'} |`,
    ),
  ].join('\n');
}
