// Spec 07's pass criteria and tables, from the measured runs of `frugal reproduce snn`. Pure functions of the
// numbers, so each criterion has a test that feeds it a failing result.
import { criterion, meanStd, type Criterion } from './report.js';

/** One seed of the MLP pipeline: L1-trained float → pruned once → devices (L = 16) → IF network. */
export interface SnnRun {
  seed: number;
  lambda: number;
  /** Test accuracies of the four stages (the SNN at T = 200). */
  floatAccuracy: number;
  prunedAccuracy: number;
  quantizedAccuracy: number;
  spikingAccuracy: number;
  prunedFraction: number;
  pruneThreshold: number;
  /** Validation accuracy against the share of connections pruned (the threshold sweep of the rule). */
  pruneCurve: { threshold: number; fraction: number; valAccuracy: number }[];
  /** Test accuracy of the quantised ANN for other devices (L, ν, σ), reported, not gated. */
  deviceSweep: { levels: number; nonlinearity: number; variation: number; accuracy: number }[];
  /** Test accuracy against T with max normalisation, without normalisation, percentile, and reset to zero. */
  curves: Record<'max' | 'none' | 'percentile' | 'zeroReset', { timesteps: number; accuracy: number }[]>;
  spikesPerInference: number;
  synapticEventsPerInference: number;
  annMacs: number;
  annEffectiveMacs: number;
  seconds: number;
}

/** The T the conversion criterion is read at (spec 07: 200). */
export const CRITERION_T = 200;
/** The small T at which the un-normalised network must be visibly worse. */
export const SMALL_T = 25;

const at = (c: { timesteps: number; accuracy: number }[], T: number) =>
  c.find((p) => p.timesteps === T)?.accuracy ?? NaN;
const mean = (v: number[]) => meanStd(v).mean;
const pt = (x: number) => 100 * x;

/** The mean curve over seeds (the T values of the first run). */
export function meanCurve(runs: SnnRun[], k: keyof SnnRun['curves']): { timesteps: number; accuracy: number }[] {
  if (!runs.length) return [];
  return runs[0].curves[k].map((p) => ({
    timesteps: p.timesteps,
    accuracy: mean(runs.map((r) => at(r.curves[k], p.timesteps))),
  }));
}

/** Spec 07's criteria 1–4 over the seeds' runs (means over seeds). */
export function snnCriteria(runs: SnnRun[]): Criterion[] {
  const m = (f: (r: SnnRun) => number) => mean(runs.map(f));
  const fraction = m((r) => r.prunedFraction),
    pruneDrop = m((r) => r.floatAccuracy - r.prunedAccuracy),
    quantGap = m((r) => r.prunedAccuracy - r.quantizedAccuracy),
    convGap = m((r) => r.quantizedAccuracy - at(r.curves.max, CRITERION_T)),
    e2e = m((r) => r.floatAccuracy - at(r.curves.max, CRITERION_T));
  const curve = meanCurve(runs, 'max');
  // Largest fall between consecutive T of the mean curve (0 when it never falls).
  const fall = Math.max(0, ...curve.slice(1).map((p, i) => curve[i].accuracy - p.accuracy));
  const normGain = m((r) => at(r.curves.max, SMALL_T) - at(r.curves.none, SMALL_T));
  return [
    criterion(
      '1a. pruning: share of connections removed once, no retraining',
      '≥ 70%',
      fraction,
      fraction >= 0.7,
      runs.length,
    ),
    criterion(
      '1b. pruning: test drop of the pruned net vs the unpruned L1-trained float net (pt)',
      '≤ 0.50 pt',
      pt(pruneDrop),
      pruneDrop <= 0.005,
      runs.length,
    ),
    criterion(
      '2. quantisation: L = 16 linear conductance levels vs the pruned float net, |Δ| (pt)',
      '≤ 0.50 pt',
      pt(Math.abs(quantGap)),
      Math.abs(quantGap) <= 0.005,
      runs.length,
    ),
    criterion(
      `3a. conversion: SNN at T = ${CRITERION_T} below the quantised ANN (pt)`,
      '≤ 0.50 pt',
      pt(convGap),
      convGap <= 0.005,
      runs.length,
    ),
    criterion(
      `3b. end to end: SNN at T = ${CRITERION_T} below the unpruned float DNN (pt; paper: 0.28 pt on its data set)`,
      '≤ 1.00 pt',
      pt(e2e),
      e2e <= 0.01,
      runs.length,
    ),
    criterion(
      `4a. accuracy rises with T (${curve.map((p) => p.timesteps).join(', ')}): largest fall of the mean curve (pt)`,
      '≤ 0.10 pt',
      pt(fall),
      curve.length > 1 && fall <= 0.001,
      runs.length,
    ),
    criterion(
      `4b. normalisation matters at small T: accuracy with max normalisation − without, at T = ${SMALL_T} (pt)`,
      '≥ 2.00 pt',
      pt(normGain),
      normGain >= 0.02,
      runs.length,
    ),
  ];
}

const f2 = (x: number) => (100 * x).toFixed(2);
const ms = (v: number[]) => {
  const s = meanStd(v);
  return `${f2(s.mean)}${s.n > 1 ? ` ± ${f2(s.std)}` : ''}%`;
};

/** Markdown table of the four stages, mean ± std over seeds. */
export function stagesTable(runs: SnnRun[]): string {
  const row = (name: string, f: (r: SnnRun) => number) => `| ${name} | ${ms(runs.map(f))} |`;
  return [
    '| stage (test accuracy) | mean ± std over seeds |',
    '|---|---|',
    row('float MLP, L1-trained, unpruned', (r) => r.floatAccuracy),
    row('pruned once, no retraining', (r) => r.prunedAccuracy),
    row('on devices, L = 16 linear levels', (r) => r.quantizedAccuracy),
    row(`spiking (IF, T = ${CRITERION_T})`, (r) => at(r.curves.max, CRITERION_T)),
    `| connections removed | ${ms(runs.map((r) => r.prunedFraction))} |`,
  ].join('\n');
}

/** Markdown table of accuracy against T for each conversion variant (means over seeds). */
export function curveTable(runs: SnnRun[]): string {
  const names: [keyof SnnRun['curves'], string][] = [
    ['max', 'max normalisation, reset by subtraction'],
    ['percentile', '99.9th percentile normalisation'],
    ['zeroReset', 'max normalisation, reset to zero'],
    ['none', 'no normalisation'],
  ];
  const Ts = runs[0]?.curves.max.map((p) => p.timesteps) ?? [];
  return [
    `| conversion | ${Ts.map((t) => `T = ${t}`).join(' | ')} |`,
    `|---|${Ts.map(() => '---').join('|')}|`,
    ...names.map(
      ([k, n]) =>
        `| ${n} | ${meanCurve(runs, k)
          .map((p) => `${f2(p.accuracy)}%`)
          .join(' | ')} |`,
    ),
  ].join('\n');
}
