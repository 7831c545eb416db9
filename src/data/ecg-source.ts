// `--dataset ecg-synthetic`: spec 09's generated ECG strips as a named data source (generated, never read).
import { ecgDataset } from '../techniques/ecg/dataset.js';
import { registerDataset } from './sources.js';

/** Label 0 is shockable (VF, VT), as the reproduction's metrics take it. */
export const ECG_CLASS_NAMES = ['shockable', 'non-shockable'];

/**
 * Spec 09's 5-s strips at 125 Hz: training 720 + 3170 (shockable + non-shockable, the paper's counts), test
 * 200 + 1600 (1 : 8), from the fixed data seeds 1001 and 1003, so every run sees the same strips.
 */
export function ecgSyntheticData(): { train: ReturnType<typeof set>; test: ReturnType<typeof set> } {
  return { train: set(720, 3170, 1001), test: set(200, 1600, 1003) };
}

/**
 * Generated training and validation strips of given sizes ([shockable, non-shockable] each, 5 s), from the data
 * seeds 1000·seed + 1 and + 2: the search splits of `frugal reproduce ecg-search`, also what its worker processes
 * generate from the study's `objective.data`.
 */
export function ecgSplitData(o: { train: number[]; validation: number[]; seed: number }) {
  for (const k of ['train', 'validation'] as const)
    if (!Array.isArray(o[k]) || o[k].length !== 2 || !o[k].every((v) => Number.isInteger(v) && v >= 1))
      throw new Error(`ecg-synthetic data.${k} must be [shockable, non-shockable] counts ≥ 1, got ${o[k]}`);
  if (!Number.isInteger(o.seed)) throw new Error(`ecg-synthetic data.seed must be an integer, got ${o.seed}`);
  return {
    train: set(o.train[0], o.train[1], o.seed * 1000 + 1),
    validation: set(o.validation[0], o.validation[1], o.seed * 1000 + 2),
  };
}

function set(shockable: number, nonShockable: number, seed: number) {
  const data = ecgDataset({ shockable, nonShockable, seconds: 5, seed }).data;
  return { ...data, classNames: ECG_CLASS_NAMES };
}

registerDataset('ecg-synthetic', () => ({
  ...ecgSyntheticData(),
  classNames: ECG_CLASS_NAMES,
  dir: 'synthetic (spec 09 generator, 5 s at 125 Hz, label 0 shockable)',
  source: 'generated',
  // Samples are ADC counts as floats; the model's own input scaling (÷400) takes them from there.
  inputScale: 1,
  split: 'generated test set, data seed 1003',
}));
