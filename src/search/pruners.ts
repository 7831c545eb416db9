// Early stopping of trials from their per-epoch reports: the median stopping rule and ASHA.
// Pure functions of the reports, so every worker of a study decides the same way from the same record.
import type { Direction } from './robust.js';

/** A trial as a pruner sees it: its per-epoch values (epoch 1 first) and its state. */
export interface TrialCurve {
  number: number;
  state: string;
  /** values[e - 1] is the metric reported after epoch e. */
  values: number[];
}

/** Decide whether trial `self` should stop after `epoch` (1-based), given every trial of the study. */
export interface Pruner {
  readonly name: string;
  shouldPrune(self: TrialCurve, epoch: number, all: TrialCurve[], direction: Direction): boolean;
}

const better = (d: Direction) => (a: number, b: number) => (d === 'maximize' ? a > b : a < b);

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Never stops a trial. */
export const noPruner: Pruner = { name: 'none', shouldPrune: () => false };

/**
 * The median stopping rule (Golovin et al., "Google Vizier", KDD 2017): stop trial t after epoch e when
 * its best value so far is worse than the median, over the complete trials, of their running means
 * (1/e)·Σ_{s≤e} y_s. Waits for `minTrials` complete trials and `warmupEpochs` epochs before stopping any.
 */
export function medianPruner(o: { minTrials?: number; warmupEpochs?: number } = {}): Pruner {
  const minTrials = o.minTrials ?? 5,
    warmup = o.warmupEpochs ?? 1;
  return {
    name: 'median',
    shouldPrune(self, epoch, all, direction) {
      if (epoch <= warmup) return false;
      const means = all
        .filter((t) => t.state === 'complete' && t.number !== self.number && t.values.length >= epoch)
        .map((t) => t.values.slice(0, epoch).reduce((a, b) => a + b, 0) / epoch);
      if (means.length < minTrials) return false;
      const mine = self.values.slice(0, epoch);
      const best = direction === 'maximize' ? Math.max(...mine) : Math.min(...mine);
      return better(direction)(median(means), best);
    },
  };
}

/**
 * Asynchronous successive halving (ASHA; Li et al., "A System for Massively Parallel Hyperparameter
 * Tuning", MLSys 2020), in its stopping form: rungs at epochs r·η^k (r = `minEpochs`, η = `reduction`);
 * a trial reaching a rung continues only if its value there is among the top ⌊n/η⌋ (at least 1) of the n
 * values recorded at that rung so far, by any trial in any state. No trial waits for others.
 */
export function ashaPruner(o: { minEpochs?: number; reduction?: number } = {}): Pruner {
  const r = o.minEpochs ?? 1,
    eta = o.reduction ?? 3;
  if (!(Number.isInteger(r) && r >= 1)) throw new Error(`ASHA minEpochs must be an integer ≥ 1, got ${r}`);
  if (!(eta >= 2)) throw new Error(`ASHA reduction factor must be ≥ 2, got ${eta}`);
  const isRung = (e: number): boolean => {
    for (let x = r; x <= e; x *= eta) if (Math.round(x) === e) return true;
    return false;
  };
  return {
    name: 'asha',
    shouldPrune(self, epoch, all, direction) {
      if (!isRung(epoch)) return false;
      const mine = self.values[epoch - 1];
      const others = all
        .filter((t) => t.number !== self.number && t.values.length >= epoch)
        .map((t) => t.values[epoch - 1]);
      const n = others.length + 1;
      const keep = Math.max(1, Math.floor(n / eta));
      const ahead = others.filter((v) => better(direction)(v, mine)).length;
      return ahead >= keep;
    },
  };
}

/** The pruner a CLI name gives. */
export function prunerByName(name: string): Pruner {
  if (name === 'none') return noPruner;
  if (name === 'median') return medianPruner();
  if (name === 'asha') return ashaPruner();
  throw new Error(`unknown pruner ${JSON.stringify(name)}; use none, median or asha`);
}
