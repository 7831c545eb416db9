// Spec 09's pass criteria [OURS] for `frugal reproduce ecg-search`, as pure functions of the measured numbers, so
// each has a test that feeds it a failing result.
import { criterion, meanStd, type Criterion } from './report.js';
import { ECG_PAPER_BEST, type ShockMetrics } from '../index.js';

/** The paper's best setting and its count (Krasteva et al. 2020, abstract). */
export const PAPER_BEST = { ...ECG_PAPER_BEST, params: 7521 };

/** The analysis durations of the length test (s): the paper validates 2–10 s. */
export const LENGTHS = [2, 5, 10] as const;

/** What the criteria read. */
export interface EcgOutcome {
  /** Trainable parameters of ecgModelSpec(PAPER_BEST) and its [channels, length] map before global max-pooling. */
  architecture: { params: number; preGmp: number[] };
  /** The single best search trial's validation BAC (shown; it chose the trial, so the criteria do not read it). */
  bestTrialBac: number;
  /**
   * Per seed (the first is the search's seed), the 5-s test BAC of the robust (median-of-top-k) setting and of the
   * top-1 trial's setting, each trained as in the search: criteria 2a and 2b read these, not validation BACs,
   * since the validation split chose each run's epoch and the settings themselves (spec 09's pitfall).
   */
  robustTest: number[];
  top1Test: number[];
  /** Per final model (one per seed), test metrics at each length of LENGTHS (by seconds), boundary cases included. */
  test: Record<string, ShockMetrics>[];
  /** Search trials run. */
  trials: number;
  /** Trials a full run needs (spec 09: at least 200). */
  minTrials: number;
}

/** Tolerance of the length trend: BAC may dip by at most this much from one length to the next longer one. */
export const TREND_TOLERANCE = 0.0025;

const pct = (x: number) => `${(100 * x).toFixed(2)}%`;

/** The mean over final models of one metric at one length. */
export function meanAt(test: EcgOutcome['test'], seconds: number | string, key: 'bac' | 'se' | 'sp'): number {
  return meanStd(test.map((t) => t[String(seconds)]?.[key] ?? NaN)).mean;
}

/** The four criteria of spec 09 (2 and 3 in two lines each). */
export function ecgCriteria(o: EcgOutcome): Criterion[] {
  const out: Criterion[] = [];
  const a = o.architecture;
  out.push(
    criterion(
      `1. architecture: the paper's best setting has ${PAPER_BEST.params} trainable parameters and a 5×10 map ` +
        `before global max-pooling (ours: [${a.preGmp.join('×')}])`,
      `= ${PAPER_BEST.params}`,
      a.params,
      a.params === PAPER_BEST.params && a.preGmp.length === 2 && a.preGmp[0] === 5 && a.preGmp[1] === 10,
    ),
  );
  const r = meanStd(o.robustTest),
    t = meanStd(o.top1Test),
    n = Math.min(r.n, t.n),
    best = o.top1Test[0] ?? NaN;
  out.push(
    criterion(
      `2a. median-of-top-k setting within 1 pt BAC of the best single search model (${o.trials} trials; 5-s test ` +
        `BAC, mean over ${r.n} seeds ${pct(r.mean)} vs the best trial's model ${pct(best)})`,
      '≥ best − 1 pt',
      r.mean - best,
      o.trials >= o.minTrials && r.mean >= best - 0.01,
      r.n,
    ),
    criterion(
      `2b. seed-to-seed 5-s test BAC std of the median-of-top-k setting no larger than the top-1 setting's ` +
        `(${pct(r.std)} vs ${pct(t.std)} over ${n} seeds)`,
      '≤ top-1 std',
      r.std - t.std,
      n >= 2 && r.std <= t.std,
      n,
    ),
  );
  const bac5 = meanAt(o.test, 5, 'bac'),
    se5 = meanAt(o.test, 5, 'se');
  out.push(
    criterion(
      `3a. held-out synthetic test at 5 s, boundary cases included: BAC ${pct(bac5)} ≥ 95% and Se(Sh) ` +
        `${pct(se5)} ≥ 90% (mean of ${o.test.length} final models)`,
      'BAC ≥ 95%, Se ≥ 90%',
      bac5,
      bac5 >= 0.95 && se5 >= 0.9,
      o.test.length,
    ),
  );
  const bacs = LENGTHS.map((s) => meanAt(o.test, s, 'bac'));
  const easy = bacs.every((b) => b >= 0.995);
  out.push(
    criterion(
      `3b. the synthetic set is not too easy: BAC below 99.5% at some length (${bacs.map(pct).join(', ')})`,
      'min < 99.5%',
      Math.min(...bacs),
      !easy && bacs.every(Number.isFinite),
      o.test.length,
    ),
  );
  const rising = bacs.every((b, i) => i === 0 || b >= bacs[i - 1] - TREND_TOLERANCE);
  const worst2 = bacs.every((b) => b >= bacs[0]);
  out.push(
    criterion(
      `4. BAC does not decrease with length and 2 s is the worst: ` +
        LENGTHS.map((s, i) => `${s} s ${pct(bacs[i])}`).join(', ') +
        ` (each step may dip ≤ ${100 * TREND_TOLERANCE} pt)`,
      'non-decreasing, 2 s lowest',
      bacs[bacs.length - 1] - bacs[0],
      rising && worst2 && bacs.every(Number.isFinite),
      o.test.length,
    ),
  );
  return out;
}
