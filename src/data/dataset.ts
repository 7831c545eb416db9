import { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';

/**
 * An image-classification dataset kept as bytes (N × H·W uint8, 4× smaller than float32);
 * batches are converted to float32 in [0, 1] on demand.
 */
export interface ImageDataset {
  images: Uint8Array;
  labels: Uint8Array;
  count: number;
  /** Shape of one sample's pixels, e.g. [1, 28, 28]. */
  sampleShape: number[];
  classes: number;
}

export function sampleSize(ds: ImageDataset): number {
  return ds.sampleShape.reduce((a, b) => a * b, 1);
}

/** Rows `idx` of ds as a float32 batch shaped [n, ...shape] (shape defaults to the sample shape). */
export function gatherBatch(ds: ImageDataset, idx: ArrayLike<number>, shape?: number[]): { x: Tensor; y: Int32Array } {
  const s = sampleSize(ds);
  const want = shape ?? ds.sampleShape;
  if (want.reduce((a, b) => a * b, 1) !== s) throw new Error(`the model expects samples of shape [${want}], the data has [${ds.sampleShape}]`);
  const x = new Float32Array(idx.length * s);
  const y = new Int32Array(idx.length);
  const inv = 1 / 255;
  for (let b = 0; b < idx.length; b++) {
    const r = idx[b], src = r * s, dst = b * s;
    for (let k = 0; k < s; k++) x[dst + k] = ds.images[src + k] * inv;
    y[b] = ds.labels[r];
  }
  return { x: new Tensor(x, [idx.length, ...want]), y };
}

/** The subset at the given indices (copies bytes). */
export function subset(ds: ImageDataset, idx: ArrayLike<number>): ImageDataset {
  const s = sampleSize(ds);
  const images = new Uint8Array(idx.length * s), labels = new Uint8Array(idx.length);
  for (let i = 0; i < idx.length; i++) {
    images.set(ds.images.subarray(idx[i] * s, (idx[i] + 1) * s), i * s);
    labels[i] = ds.labels[idx[i]];
  }
  return { images, labels, count: idx.length, sampleShape: ds.sampleShape, classes: ds.classes };
}

/** Seeded split into train and validation parts; valFraction in [0, 1). */
export function trainValSplit(ds: ImageDataset, valFraction: number, seed = 0): { train: ImageDataset; val: ImageDataset } {
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`validation fraction must be in [0, 1), got ${valFraction}`);
  const perm = new Rng(seed).shuffle(Array.from({ length: ds.count }, (_, i) => i));
  const nv = Math.round(ds.count * valFraction);
  return { val: subset(ds, perm.slice(0, nv)), train: subset(ds, perm.slice(nv)) };
}

export interface LoaderOptions {
  batchSize: number;
  shuffle?: boolean;
  seed?: number;
  dropLast?: boolean;
  /** Sample shape the model expects (e.g. [784] for an MLP). */
  shape?: number[];
}

/**
 * Mini-batches over a dataset. The order of epoch e depends only on (seed, e), so a run
 * resumed at epoch e sees exactly the batches an uninterrupted run would.
 */
export class DataLoader {
  readonly batchSize: number;
  constructor(readonly dataset: ImageDataset, readonly opts: LoaderOptions) {
    if (!Number.isInteger(opts.batchSize) || opts.batchSize < 1) throw new Error(`batch size must be a positive integer, got ${opts.batchSize}`);
    this.batchSize = opts.batchSize;
  }

  /** Number of batches per epoch. */
  get length(): number {
    const n = this.dataset.count;
    return this.opts.dropLast ? Math.floor(n / this.batchSize) : Math.ceil(n / this.batchSize);
  }

  order(epoch: number): Int32Array {
    const idx = new Int32Array(this.dataset.count);
    for (let i = 0; i < idx.length; i++) idx[i] = i;
    if (this.opts.shuffle) new Rng(((this.opts.seed ?? 0) * 1000003 + epoch * 7919) >>> 0).shuffle(idx);
    return idx;
  }

  *batches(epoch = 0): Generator<{ x: Tensor; y: Int32Array; index: Int32Array }> {
    const order = this.order(epoch);
    for (let b = 0; b < this.length; b++) {
      const index = order.subarray(b * this.batchSize, Math.min(order.length, (b + 1) * this.batchSize));
      yield { ...gatherBatch(this.dataset, index, this.opts.shape), index };
    }
  }
}
