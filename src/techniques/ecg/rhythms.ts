// The rhythm classes of spec 09's synthetic generator [OURS], each a clean signal in mV at 125 Hz, and the noise
// model added to every class. Shockable (Sh, label 0): VF and rapid VT. Non-shockable (NSh, label 1): NSR, other
// non-shockable rhythms (AF, bradycardia, idioventricular rhythm, slow VT) and asystole. Kinds marked `boundary`
// are the spec's hard cases near the decision boundary.
import type { Rng } from '../../core/rng.js';
import { ecgsyn, rescale } from './ecgsyn.js';

/** Sampling rate of the paper's input (Hz). */
export const ECG_HZ = 125;
/** Quantisation step of the paper's input: 2.5 µV per least significant bit. */
export const UV_PER_LSB = 2.5;
/** Label of the shockable class (the positive class of Se), as in the paper's p ∈ [0: Sh, 1: NSh]. */
export const SHOCKABLE = 0;
export const NON_SHOCKABLE = 1;

/** One rhythm kind: its label, whether it is a boundary case, and its clean signal in mV. */
export interface RhythmKind {
  name: string;
  label: 0 | 1;
  boundary: boolean;
  /** Share of its class (the kinds of one label sum to 1). */
  share: number;
  /** Noise scale: 1 for ordinary recordings, larger for the noisy boundary case. */
  noise: number;
  signal(n: number, rng: Rng): Float32Array;
}

/** RR intervals around 60/HR s with relative jitter `cv` (HRV; AF uses a large cv). */
const rrAround = (hr: number, cv: number) => (rng: Rng) => Math.max(0.15, (60 / hr) * (1 + cv * rng.normal()));

/** VT: wide QRS (b_Q, b_R, b_S × 2–3), no P wave, a regular rate drawn in [lo, hi] bpm. */
function vt(n: number, rng: Rng, lo: number, hi: number): Float32Array {
  const hr = rng.uniform(lo, hi);
  return ecgsyn(n, ECG_HZ, { hr, nextRr: rrAround(hr, 0.01), qrsWidth: rng.uniform(2, 3), pScale: 0 }, rng);
}

/**
 * VF: a sum of 2–4 sinusoids at 3–8 Hz with slow amplitude and frequency modulation, scaled to a
 * peak-to-peak amplitude drawn in [lo, hi] µV (coarse VF > 200 µV; fine VF 100–200 µV).
 */
export function vf(n: number, rng: Rng, lo: number, hi: number): Float32Array {
  const m = 2 + rng.int(3),
    v = new Float32Array(n);
  for (let j = 0; j < m; j++) {
    const f = rng.uniform(3, 8),
      amp = rng.uniform(0.3, 1),
      am = rng.uniform(0.1, 0.5),
      fam = rng.uniform(0.1, 0.6),
      dev = rng.uniform(0.2, 1),
      ffm = rng.uniform(0.05, 0.4);
    let ph = rng.uniform(0, 2 * Math.PI);
    const pam = rng.uniform(0, 2 * Math.PI);
    for (let i = 0; i < n; i++) {
      const t = i / ECG_HZ;
      ph += (2 * Math.PI * (f + dev * Math.sin(2 * Math.PI * ffm * t))) / ECG_HZ;
      v[i] += amp * (1 + am * Math.sin(2 * Math.PI * fam * t + pam)) * Math.sin(ph);
    }
  }
  const pp = rng.uniform(lo, hi) / 1000;
  return rescale(v, -pp / 2, pp / 2);
}

/** Asystole: low-level electrical activity below 100 µV peak-to-peak (the noise model adds the wander). */
function asystole(n: number, rng: Rng): Float32Array {
  const v = new Float32Array(n);
  let s = 0;
  for (let i = 0; i < n; i++) v[i] = s = 0.9 * s + rng.normal();
  const pp = rng.uniform(10, 90) / 1000;
  return rescale(v, -pp / 2, pp / 2);
}

/** Sinus-like rhythm via ECGSYN at hr ∈ [lo, hi] with mild HRV. */
function sinus(n: number, rng: Rng, lo: number, hi: number, extra: { pScale?: number; qrsWidth?: number } = {}) {
  const hr = rng.uniform(lo, hi);
  return ecgsyn(n, ECG_HZ, { hr, nextRr: rrAround(hr, 0.03), ...extra }, rng);
}

/** AF: irregular RR (cv 15–25%), no P wave, fibrillatory f-waves of 20–80 µV at 4–8 Hz. */
function af(n: number, rng: Rng): Float32Array {
  const hr = rng.uniform(60, 150),
    cv = rng.uniform(0.15, 0.25);
  const v = ecgsyn(n, ECG_HZ, { hr, nextRr: rrAround(hr, cv), pScale: 0 }, rng);
  const fw = vf(n, rng, 20, 80);
  for (let i = 0; i < n; i++) v[i] += fw[i];
  return v;
}

/**
 * The kinds and their shares. VT is shockable from 150 bpm (a common shock-advisory threshold; ours): the
 * boundary VT of 140–160 bpm is split at 150 between the classes, fine VF (100–200 µV) sits next to asystole
 * (< 100 µV), and noisy NSR carries 3× the noise.
 */
export const RHYTHMS: readonly RhythmKind[] = [
  { name: 'vf-coarse', label: 0, boundary: false, share: 0.45, noise: 1, signal: (n, r) => vf(n, r, 200, 1500) },
  { name: 'vf-fine', label: 0, boundary: true, share: 0.15, noise: 1, signal: (n, r) => vf(n, r, 100, 200) },
  { name: 'vt-rapid', label: 0, boundary: false, share: 0.3, noise: 1, signal: (n, r) => vt(n, r, 160, 250) },
  { name: 'vt-150-160', label: 0, boundary: true, share: 0.1, noise: 1, signal: (n, r) => vt(n, r, 150, 160) },
  { name: 'nsr', label: 1, boundary: false, share: 0.4, noise: 1, signal: (n, r) => sinus(n, r, 40, 100) },
  { name: 'nsr-noisy', label: 1, boundary: true, share: 0.1, noise: 3, signal: (n, r) => sinus(n, r, 40, 100) },
  { name: 'af', label: 1, boundary: false, share: 0.15, noise: 1, signal: af },
  { name: 'brady', label: 1, boundary: false, share: 0.07, noise: 1, signal: (n, r) => sinus(n, r, 25, 40) },
  {
    name: 'idioventricular',
    label: 1,
    boundary: false,
    share: 0.08,
    noise: 1,
    signal: (n, r) => sinus(n, r, 20, 50, { pScale: 0, qrsWidth: r.uniform(2, 3) }),
  },
  { name: 'vt-140-150', label: 1, boundary: true, share: 0.05, noise: 1, signal: (n, r) => vt(n, r, 140, 150) },
  { name: 'asystole', label: 1, boundary: false, share: 0.15, noise: 1, signal: asystole },
];

/**
 * The noise model of every class (spec 09), on a clean signal in mV, in place:
 * amplitude scaling × U(0.5, 2) of the rhythm (not of asystole's floor, kept below 100 µV), then EMG (white
 * noise through a first-order high-pass at ~20 Hz, σ 5–30 µV × scale), baseline wander (0.15–0.5 Hz,
 * 0–300 µV), 50 Hz mains (0–20 µV; below the 62.5 Hz Nyquist).
 */
export function addNoise(v: Float32Array, rng: Rng, scale: number, kind: string): Float32Array {
  const n = v.length,
    gain = kind === 'asystole' || kind === 'vf-fine' ? 1 : Math.exp(rng.uniform(Math.log(0.5), Math.log(2)));
  const emg = (rng.uniform(5, 30) * scale) / 1000,
    wander = rng.uniform(0, 0.3),
    fw = rng.uniform(0.15, 0.5),
    mains = rng.uniform(0, 0.02);
  const pw = rng.uniform(0, 2 * Math.PI),
    pm = rng.uniform(0, 2 * Math.PI);
  // High-pass y[i] = c (y[i−1] + w[i] − w[i−1]), c = 1 / (1 + 2π f_c / fs) with f_c ≈ 20 Hz.
  const c = 1 / (1 + (2 * Math.PI * 20) / ECG_HZ);
  let prevW = 0,
    prevY = 0;
  for (let i = 0; i < n; i++) {
    const t = i / ECG_HZ,
      w = rng.normal();
    prevY = c * (prevY + w - prevW);
    prevW = w;
    v[i] =
      gain * v[i] +
      emg * prevY * 1.6 +
      wander * Math.sin(2 * Math.PI * fw * t + pw) +
      mains * Math.sin(2 * Math.PI * 50 * t + pm);
  }
  return v;
}

/** mV → ADC counts at 2.5 µV/LSB, rounded (the paper's input: raw counts). */
export function quantise(v: Float32Array): Float32Array {
  for (let i = 0; i < v.length; i++) v[i] = Math.round((v[i] * 1000) / UV_PER_LSB);
  return v;
}
