// Shock-advisory metrics of spec 09 with the shockable class (label 0) as the positive class.
import { SHOCKABLE } from './rhythms.js';

/** Sensitivity, specificity and balanced accuracy of a shock advisory, with the counts they come from. */
export interface ShockMetrics {
  /** Se = TP / (TP + FN): shockable strips called shockable. */
  se: number;
  /** Sp = TN / (TN + FP): non-shockable strips called non-shockable. */
  sp: number;
  /** BAC = (Se + Sp) / 2 (Krasteva et al. 2020). */
  bac: number;
  shockable: number;
  nonShockable: number;
}

/**
 * Se, Sp and BAC = (Se + Sp) / 2 from predicted and true labels (0 shockable, 1 non-shockable; Se is on class 0).
 * A class with no strips gives NaN for its rate (and BAC), never a silent 100%.
 *
 * @example
 * shockMetrics([0, 1, 1], [0, 0, 1]); // { se: 0.5, sp: 1, bac: 0.75, … }
 */
export function shockMetrics(pred: ArrayLike<number>, truth: ArrayLike<number>): ShockMetrics {
  if (pred.length !== truth.length)
    throw new Error(`shockMetrics: ${pred.length} predictions for ${truth.length} labels; give one per strip`);
  let tp = 0,
    pos = 0,
    tn = 0,
    neg = 0;
  for (let i = 0; i < truth.length; i++) {
    if (truth[i] === SHOCKABLE) {
      pos++;
      if (pred[i] === SHOCKABLE) tp++;
    } else {
      neg++;
      if (pred[i] !== SHOCKABLE) tn++;
    }
  }
  const se = pos ? tp / pos : NaN,
    sp = neg ? tn / neg : NaN;
  return { se, sp, bac: (se + sp) / 2, shockable: pos, nonShockable: neg };
}
