import { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';
import { epochLength, sequentialSampler, shuffleSampler, type Sampler } from './sampler.js';

/**
 * An image-classification dataset kept as bytes (N × H·W uint8, 4× smaller than float32);
 * batches are converted to float32 in [0, 1] on demand (x / 255). Features that are not pixels
 * (a CSV's columns, signals) come as a Float32Array, and batches take them as given (no / 255).
 */
export interface ImageDataset {
  images: Uint8Array | Float32Array;
  labels: Uint8Array;
  count: number;
  /** Shape of one sample's pixels, e.g. [1, 28, 28]. */
  sampleShape: number[];
  classes: number;
  /** Names of the classes 0..classes−1, when the data carries them (kept in the model files trained on it). */
  classNames?: string[];
}

export function sampleSize(ds: ImageDataset): number {
  return ds.sampleShape.reduce((a, b) => a * b, 1);
}

/** Rows `idx` of ds as a float32 batch shaped [n, ...shape] (shape defaults to the sample shape). */
export function gatherBatch(ds: ImageDataset, idx: ArrayLike<number>, shape?: number[]): { x: Tensor; y: Int32Array } {
  const s = sampleSize(ds);
  const want = shape ?? ds.sampleShape;
  if (want.reduce((a, b) => a * b, 1) !== s)
    throw new Error(`the model expects samples of shape [${want}], the data has [${ds.sampleShape}]`);
  const x = new Float32Array(idx.length * s);
  const y = new Int32Array(idx.length);
  // Bytes are pixels (scaled to [0, 1]); floats are features, used as they are.
  const inv = ds.images instanceof Float32Array ? 1 : 1 / 255;
  for (let b = 0; b < idx.length; b++) {
    const r = idx[b],
      src = r * s,
      dst = b * s;
    if (!(Number.isInteger(r) && r >= 0 && r < ds.count)) {
      throw new Error(`batch row ${r} is outside the dataset's ${ds.count} rows; check the sampler's indices`);
    }
    for (let k = 0; k < s; k++) x[dst + k] = ds.images[src + k] * inv;
    y[b] = ds.labels[r];
  }
  return { x: new Tensor(x, [idx.length, ...want]), y };
}

/** The subset at the given indices (copies the samples, keeping their type). */
export function subset(ds: ImageDataset, idx: ArrayLike<number>): ImageDataset {
  const s = sampleSize(ds);
  const images = ds.images instanceof Float32Array ? new Float32Array(idx.length * s) : new Uint8Array(idx.length * s),
    labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    images.set(ds.images.subarray(idx[i] * s, (idx[i] + 1) * s), i * s);
    labels[i] = ds.labels[idx[i]];
  }
  const names = ds.classNames ? { classNames: ds.classNames } : {};
  return { images, labels, count: idx.length, sampleShape: ds.sampleShape, classes: ds.classes, ...names };
}

/** Seeded split into train and validation parts; valFraction in [0, 1). */
export function trainValSplit(
  ds: ImageDataset,
  valFraction: number,
  seed = 0,
): { train: ImageDataset; val: ImageDataset } {
  if (!(valFraction >= 0 && valFraction < 1))
    throw new Error(`validation fraction must be in [0, 1), got ${valFraction}`);
  const perm = new Rng(seed).shuffle(Array.from({ length: ds.count }, (_, i) => i));
  const nv = Math.round(ds.count * valFraction);
  return { val: subset(ds, perm.slice(0, nv)), train: subset(ds, perm.slice(nv)) };
}

export interface LoaderOptions {
  batchSize: number;
  /** Which rows form each batch; default shuffleSampler(seed) when shuffle is set, else sequential. */
  sampler?: Sampler;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Sample shape the model expects (e.g. [784] for an MLP). */
  shape?: number[];
}

/** A batch as training sees it: inputs, labels, the rows they came from, optional per-sample weights. */
export interface Batch {
  x: Tensor;
  y: Int32Array;
  index: Int32Array;
  weight?: Float32Array;
}

/**
 * Mini-batches over a dataset, in the order its sampler gives. With the default samplers the
 * order of epoch e depends only on (seed, e), so a run resumed at epoch e sees exactly the
 * batches an uninterrupted run would.
 */
export class DataLoader {
  readonly batchSize: number;
  readonly sampler: Sampler;
  constructor(
    readonly dataset: ImageDataset,
    readonly opts: LoaderOptions,
  ) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) {
      throw new Error(`batch size must be a positive integer, got ${opts.batchSize}`);
    }
    if (opts.sampler && opts.shuffle) throw new Error('DataLoader: give either a sampler or shuffle, not both');
    this.batchSize = opts.batchSize;
    this.sampler = opts.sampler ?? (opts.shuffle ? shuffleSampler(opts.seed ?? 0) : sequentialSampler());
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.count,
      dropLast = !!this.opts.dropLast;
    return this.sampler.length
      ? this.sampler.length(n, this.batchSize, dropLast)
      : epochLength(n, this.batchSize, dropLast);
  }

  *batches(epoch = 0): Generator<Batch> {
    for (const b of this.sampler.batches(epoch, this.dataset.count, this.batchSize, !!this.opts.dropLast)) {
      const batch: Batch = { ...gatherBatch(this.dataset, b.index, this.opts.shape), index: b.index };
      if (b.weight) batch.weight = b.weight;
      yield batch;
    }
  }
}
