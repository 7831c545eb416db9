// Datasets of synthetic ECG strips (spec 09) in the project's ImageDataset form: float32 ADC counts (2.5 µV/LSB)
// shaped [1, T] at 125 Hz, label 0 shockable / 1 non-shockable, plus each strip's rhythm kind.
import { Rng } from '../../core/rng.js';
import type { ImageDataset } from '../../data/dataset.js';
import { addNoise, ECG_HZ, quantise, RHYTHMS } from './rhythms.js';

/** A synthetic ECG set: the dataset and, per strip, the index of its rhythm kind in RHYTHMS. */
export interface EcgSet {
  data: ImageDataset;
  kinds: Uint8Array;
}

/** How many strips of each class, and their length. */
export interface EcgSetOptions {
  shockable: number;
  nonShockable: number;
  seconds: number;
  seed: number;
}

/**
 * The paper's class counts (Krasteva et al. 2020): training Sh + NSh = 720 + 3170 (1 : 4.4), validation
 * 739 + 5921 (1 : 8). Our held-out test split [OURS] keeps the validation ratio.
 */
export const PAPER_COUNTS = {
  train: { shockable: 720, nonShockable: 3170 },
  validation: { shockable: 739, nonShockable: 5921 },
} as const;

/** Split `total` strips among the kinds of one label by their shares (largest remainder, so counts are exact). */
function kindCounts(label: 0 | 1, total: number): [number, number][] {
  const ks = RHYTHMS.map((k, i) => [k, i] as const).filter(([k]) => k.label === label);
  const raw = ks.map(([k]) => k.share * total);
  const base = raw.map(Math.floor);
  let left = total - base.reduce((a, b) => a + b, 0);
  const order = raw.map((r, i) => [r - base[i], i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  for (const [, i] of order) if (left-- > 0) base[i]++;
  return ks.map(([, idx], j) => [idx, base[j]]);
}

/**
 * `shockable + nonShockable` strips of `seconds` s at 125 Hz, in a seeded random order: each is a rhythm kind's
 * clean signal (ECGSYN for the organised rhythms, sinusoid sums for VF), the noise model, and quantisation to
 * 2.5 µV/LSB. The same options give the same strips, bit for bit.
 *
 * @example
 * const { data } = ecgDataset({ shockable: 72, nonShockable: 317, seconds: 5, seed: 1 });
 * data.sampleShape; // [1, 625]
 */
export function ecgDataset(o: EcgSetOptions): EcgSet {
  for (const k of ['shockable', 'nonShockable'] as const)
    if (!Number.isInteger(o[k]) || o[k] < 0) throw new Error(`ecgDataset: ${k} must be a count ≥ 0, got ${o[k]}`);
  if (!(o.seconds > 0 && o.seconds <= 60)) throw new Error(`ecgDataset: seconds must be in (0, 60], got ${o.seconds}`);
  const T = Math.round(o.seconds * ECG_HZ),
    count = o.shockable + o.nonShockable;
  const kinds: number[] = [...kindCounts(0, o.shockable), ...kindCounts(1, o.nonShockable)].flatMap(([k, c]) =>
    new Array<number>(c).fill(k),
  );
  const rng = new Rng(o.seed);
  const order = rng.shuffle(kinds);
  const images = new Float32Array(count * T),
    labels = new Uint8Array(count);
  order.forEach((k, i) => {
    const kind = RHYTHMS[k],
      r = rng.fork();
    images.set(quantise(addNoise(kind.signal(T, r), r, kind.noise, kind.name)), i * T);
    labels[i] = kind.label;
  });
  return { data: { images, labels, count, sampleShape: [1, T], classes: 2 }, kinds: Uint8Array.from(order) };
}

/** The first `seconds` s of every strip (the 2–10 s analysis-duration test crops the same 10-s strips). */
export function cropEcg(set: EcgSet, seconds: number): EcgSet {
  const T = set.data.sampleShape[1],
    t = Math.round(seconds * ECG_HZ);
  if (!(t >= 1 && t <= T)) throw new Error(`cropEcg: ${seconds} s is outside the strips' ${T / ECG_HZ} s`);
  const src = set.data.images as Float32Array,
    images = new Float32Array(set.data.count * t);
  for (let i = 0; i < set.data.count; i++) images.set(src.subarray(i * T, i * T + t), i * t);
  return { data: { ...set.data, images, sampleShape: [1, t] }, kinds: set.kinds };
}

/**
 * Every strip zero-padded (centred) to `samples`; unchanged when already that long. A 'valid'-padding network
 * needs a minimum length (ecgMinSamples): the paper's best setting needs 311 samples (2.49 s), more than a 2-s strip.
 */
export function padEcg(set: EcgSet, samples: number): EcgSet {
  const T = set.data.sampleShape[1];
  if (samples <= T) return set;
  const src = set.data.images as Float32Array,
    images = new Float32Array(set.data.count * samples),
    off = (samples - T) >> 1;
  for (let i = 0; i < set.data.count; i++) images.set(src.subarray(i * T, (i + 1) * T), i * samples + off);
  return { data: { ...set.data, images, sampleShape: [1, samples] }, kinds: set.kinds };
}

/** The strips whose kind is a boundary case (VT 140–160 bpm, fine VF, noisy NSR), as row indices. */
export function boundaryRows(set: EcgSet): number[] {
  const rows: number[] = [];
  set.kinds.forEach((k, i) => RHYTHMS[k].boundary && rows.push(i));
  return rows;
}
