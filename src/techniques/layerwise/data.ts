// The least-squares problems of spec 01's reproduction: a synthetic one with Gaussian or prescribed-spectrum
// X, and Fashion-MNIST regression onto one-hot labels (centred pixels, optionally average-pooled).
import { Rng } from '../../core/rng.js';
import type { ImageDataset } from '../../data/dataset.js';
import { householderQr, matmul, zeros, type Mat } from './mat.js';
import { directProblem, GramAccumulator, type DirectProblem, type GramProblem } from './problem.js';

export interface SyntheticOptions {
  dx: number;
  dy: number;
  m: number;
  /** Standard deviation of Gaussian noise added to Y = W*X (default 0). */
  noise?: number;
  /**
   * Omitted: X has i.i.d. N(0, 1) entries. A number c ≥ 1: X = √m·U·diag(s)·Vᵀ with U, V random
   * orthonormal and s spaced geometrically from 1 to 1/c, so XXᵀ = m·U diag(s²) Uᵀ exactly (c = 1 is
   * whitened data, XXᵀ = mI; c = 10³ is spec 01's ill-conditioned variant).
   */
  condition?: number;
  seed?: number;
}

/** Spec 01's synthetic problem (a): X ∈ R^{d_x×m}, Y = W*X + noise, W* with N(0, 1/d_x) entries. */
export function syntheticProblem(o: SyntheticOptions): DirectProblem {
  const { dx, dy, m } = o;
  for (const [k, v] of [
    ['dx', dx],
    ['dy', dy],
    ['m', m],
  ] as const)
    if (!Number.isInteger(v) || v < 1) throw new RangeError(`${k} must be a positive integer, got ${v}`);
  if (o.condition !== undefined && !(o.condition >= 1))
    throw new RangeError(`condition must be ≥ 1, got ${o.condition}`);
  if (o.condition !== undefined && m < dx)
    throw new RangeError(`a prescribed spectrum needs m ≥ dx (m ${m}, dx ${dx})`);
  const rng = new Rng(o.seed ?? 1);
  const gauss = (r: number, c: number): Mat => {
    const a = zeros(r, c);
    for (let i = 0; i < a.data.length; i++) a.data[i] = rng.normal();
    return a;
  };
  let x: Mat;
  if (o.condition === undefined) x = gauss(dx, m);
  else {
    const u = householderQr(gauss(dx, dx)).q,
      v = householderQr(gauss(m, dx)).q;
    const c = o.condition;
    for (let j = 0; j < dx; j++) {
      const s = Math.sqrt(m) * (dx === 1 ? 1 : c ** (-j / (dx - 1)));
      for (let i = 0; i < dx; i++) u.data[i * dx + j] *= s;
    }
    x = matmul(u, v, { tb: true });
  }
  const wStar = gauss(dy, dx);
  for (let i = 0; i < wStar.data.length; i++) wStar.data[i] /= Math.sqrt(dx);
  const y = matmul(wStar, x);
  if (o.noise) for (let i = 0; i < y.data.length; i++) y.data[i] += o.noise * rng.normal();
  return directProblem(x, y);
}

export interface FashionLsqOptions {
  /** Average-pool the 28×28 images by this factor first (4 gives 7×7 = 49 features); default 1. */
  pool?: number;
  /** Use only the first `count` images (default all). */
  count?: number;
}

/** Pixels/255, average-pooled, as one feature vector per image (sample i's features at i·d). */
function features(ds: ImageDataset, pool: number, count: number): { f: Float64Array; d: number } {
  const [h, w] = ds.sampleShape.slice(-2);
  if (!Number.isInteger(pool) || pool < 1 || h % pool || w % pool)
    throw new RangeError(`pool must be a positive integer dividing the ${h}×${w} image, got ${pool}`);
  const ph = h / pool,
    pw = w / pool,
    d = ph * pw,
    hw = h * w;
  const f = new Float64Array(count * d);
  const s = 1 / (255 * pool * pool);
  for (let n = 0; n < count; n++)
    for (let y = 0; y < h; y++)
      for (let x = 0; x < w; x++)
        f[n * d + ((y / pool) | 0) * pw + ((x / pool) | 0)] += s * ds.images[n * hw + y * w + x];
  return { f, d };
}

/**
 * Spec 01's Fashion-MNIST least squares: X = pixels/255 with every feature centred (raw pixels are badly
 * conditioned), Y = one-hot labels, samples as columns. `form: 'gram'` accumulates XXᵀ, YXᵀ, tr YYᵀ in
 * chunks of 2,000 images without holding X (the full 60,000-image set).
 */
export function fashionProblem(ds: ImageDataset, o: FashionLsqOptions & { form: 'gram' }): GramProblem;
export function fashionProblem(ds: ImageDataset, o?: FashionLsqOptions & { form?: 'direct' }): DirectProblem;
export function fashionProblem(
  ds: ImageDataset,
  o: FashionLsqOptions & { form?: 'direct' | 'gram' } = {},
): DirectProblem | GramProblem {
  const count = o.count ?? ds.count,
    pool = o.pool ?? 1,
    k = ds.classes;
  if (!Number.isInteger(count) || count < 1 || count > ds.count)
    throw new RangeError(`count must be an integer in [1, ${ds.count}], got ${count}`);
  const chunk = o.form === 'gram' ? 2000 : count;
  // Feature means over the images used (first pass), then centred chunks.
  let mean: Float64Array | null = null;
  for (let a = 0; a < count; a += chunk) {
    const { f, d } = features(sliceDs(ds, a, Math.min(count, a + chunk)), pool, Math.min(chunk, count - a));
    mean ??= new Float64Array(d);
    for (let i = 0; i < f.length; i++) mean[i % d] += f[i] / count;
  }
  const d = mean!.length;
  const block = (a: number, b: number) => {
    const { f } = features(sliceDs(ds, a, b), pool, b - a);
    const x = zeros(d, b - a),
      y = zeros(k, b - a);
    for (let n = 0; n < b - a; n++) {
      for (let i = 0; i < d; i++) x.data[i * (b - a) + n] = f[n * d + i] - mean![i];
      y.data[ds.labels[a + n] * (b - a) + n] = 1;
    }
    return { x, y };
  };
  if (o.form !== 'gram') {
    const { x, y } = block(0, count);
    return directProblem(x, y);
  }
  const acc = new GramAccumulator(d, k);
  for (let a = 0; a < count; a += chunk) {
    const { x, y } = block(a, Math.min(count, a + chunk));
    acc.add(x, y);
  }
  return acc.result();
}

function sliceDs(ds: ImageDataset, a: number, b: number): ImageDataset {
  const s = ds.sampleShape.reduce((p, q) => p * q, 1);
  return { ...ds, images: ds.images.subarray(a * s, b * s), labels: ds.labels.subarray(a, b), count: b - a };
}
