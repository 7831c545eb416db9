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
