import { Rng } from '../core/rng.js';

/** One mini-batch's rows, with optional per-sample loss weights (importance sampling's 1/(n·pᵢ)). */
export interface SampledBatch {
  index: Int32Array;
  weight?: Float32Array;
}

/** Per-sample feedback besides the loss. */
export interface SampleFeedback {
  /**
   * ‖softmax(zᵢ) − e_yᵢ‖₂, the norm of the loss's gradient with respect to the logits: an upper
   * bound, up to a constant, of the per-sample gradient norm (Katharopoulos & Fleuret 2018, §3.2).
   */
  gradNormBound?: Float32Array;
}

/** JSON-safe state a sampler keeps across epochs, saved in checkpoints so resume is exact. */
export type SamplerState = unknown;

/**
 * Chooses which rows form each mini-batch (PyTorch's `Sampler` + `BatchSampler`). Batches are
 * drawn lazily, so a sampler that learns from `observe` can steer the rest of the epoch.
 * The batches of epoch e must depend only on (construction arguments, state at the start of
 * e, what observe received during e), so that fit()'s resume reproduces an uninterrupted run.
 */
export interface Sampler {
  /** Batches of epoch `epoch` over `n` rows. */
  batches(epoch: number, n: number, batchSize: number, dropLast: boolean): Iterable<SampledBatch>;
  /** Number of batches per epoch (default: ⌈n / batchSize⌉, or ⌊…⌋ with dropLast). */
  length?(n: number, batchSize: number, dropLast: boolean): number;
  /**
   * Feedback after each training step: the rows just used, their losses (unreduced), and what else
   * the sampler asked for in `wants`.
   */
  observe?(indices: Int32Array, perSampleLoss: Float32Array, extra?: SampleFeedback): void;
  /** Feedback beyond the loss that the step should compute (from the model's outputs, no extra pass). */
  wants?: { gradNormBound?: boolean };
  /** True when the sampler cannot work without observe(): fit() refuses a step that gives no per-sample loss. */
  requiresFeedback?: boolean;
  /** Per-epoch statistics for the training log (e.g. max importance weight, effective sample size). */
  epochStats?(): Record<string, unknown>;
  stateDict?(): SamplerState;
  loadStateDict?(state: SamplerState): void;
}

/** Batches per epoch for a sampler that visits every row once. */
export function epochLength(n: number, batchSize: number, dropLast: boolean): number {
  return dropLast ? Math.floor(n / batchSize) : Math.ceil(n / batchSize);
}

function* cut(order: Int32Array, batchSize: number, dropLast: boolean): Generator<SampledBatch> {
  const count = epochLength(order.length, batchSize, dropLast);
  for (let b = 0; b < count; b++) {
    yield { index: order.subarray(b * batchSize, Math.min(order.length, (b + 1) * batchSize)) };
  }
}

function identity(n: number): Int32Array {
  const idx = new Int32Array(n);
  for (let i = 0; i < n; i++) idx[i] = i;
  return idx;
}

/** Rows in order 0, 1, …, n − 1 every epoch. */
export function sequentialSampler(): Sampler {
  return { batches: (_e, n, bs, dropLast) => cut(identity(n), bs, dropLast), length: epochLength };
}

/** The generator of epoch e of a seeded sampler: a function of (seed, e) only. */
export function epochRng(seed: number, epoch: number): Rng {
  return new Rng((seed * 1000003 + epoch * 7919) >>> 0);
}

/** A fresh seeded permutation every epoch (Fisher–Yates); the order of epoch e depends only on (seed, e). */
export function shuffleSampler(seed = 0): Sampler {
  const order = (epoch: number, n: number) => epochRng(seed, epoch).shuffle(identity(n));
  return { batches: (e, n, bs, dropLast) => cut(order(e, n), bs, dropLast), length: epochLength };
}

export interface WeightedOptions {
  /** Draw with replacement (default true, as PyTorch's WeightedRandomSampler). */
  replacement?: boolean;
  seed?: number;
  /** Rows drawn per epoch (default n, the dataset's size). */
  numSamples?: number;
  /**
   * Attach the importance weight 1/(n·pᵢ) to each drawn row, so that a weighted loss stays an
   * unbiased estimate of the uniform mean (Katharopoulos & Fleuret 2018, eq. 4). Default false.
   */
  unbiased?: boolean;
}

/** Checks a probability vector (non-negative, finite, positive sum) and returns it normalised. */
export function normaliseProbabilities(p: ArrayLike<number>, n?: number): Float64Array {
  if (n !== undefined && p.length !== n) {
    throw new Error(`sampler: ${p.length} probabilities for ${n} rows; give one per training row`);
  }
  let s = 0;
  for (let i = 0; i < p.length; i++) {
    const v = p[i];
    if (!(v >= 0) || !Number.isFinite(v))
      throw new Error(`sampler: probability ${v} at row ${i} is not a finite number ≥ 0`);
    s += v;
  }
  if (!(s > 0)) throw new Error('sampler: the probabilities sum to 0; give at least one row a positive weight');
  const q = new Float64Array(p.length);
  for (let i = 0; i < p.length; i++) q[i] = p[i] / s;
  return q;
}

/** Draw k distinct rows from q by the exponential-race method (Efraimidis & Spirakis 2006). */
function drawWithoutReplacement(q: Float64Array, k: number, rng: Rng): Int32Array {
  const keys: [number, number][] = [];
  for (let i = 0; i < q.length; i++) {
    if (q[i] > 0) keys.push([-Math.log(1 - rng.random()) / q[i], i]);
  }
  if (keys.length < k) throw new Error(`sampler: ${k} rows asked without replacement, only ${keys.length} have p > 0`);
  keys.sort((a, b) => a[0] - b[0]);
  return Int32Array.from(keys.slice(0, k), (e) => e[1]);
}

/** Draw k rows from q with replacement by inverse CDF (binary search on the cumulative sums). */
function drawWithReplacement(cdf: Float64Array, k: number, rng: Rng): Int32Array {
  const out = new Int32Array(k);
  const n = cdf.length;
  for (let j = 0; j < k; j++) {
    const u = rng.random() * cdf[n - 1];
    let lo = 0,
      hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid] > u) hi = mid;
      else lo = mid + 1;
    }
    out[j] = lo;
  }
  return out;
}

/** The rows and weights of one batch drawn from q (shared by the fixed and the adaptive samplers). */
export function drawBatch(q: Float64Array, k: number, rng: Rng, replacement: boolean, unbiased: boolean): SampledBatch {
  let index: Int32Array;
  if (replacement) {
    const cdf = new Float64Array(q.length);
    let s = 0;
    for (let i = 0; i < q.length; i++) cdf[i] = s += q[i];
    index = drawWithReplacement(cdf, k, rng);
  } else {
    index = drawWithoutReplacement(q, k, rng);
  }
  if (!unbiased) return { index };
  const weight = new Float32Array(k),
    n = q.length;
  for (let j = 0; j < k; j++) weight[j] = 1 / (n * q[index[j]]);
  return { index, weight };
}

/**
 * Rows drawn with fixed probabilities p (PyTorch's WeightedRandomSampler). With replacement,
 * every draw is independent; without, the epoch's rows are one draw of numSamples distinct
 * rows (so numSamples ≤ rows with p > 0), cut into batches.
 */
export function weightedSampler(p: ArrayLike<number>, opts: WeightedOptions = {}): Sampler {
  const replacement = opts.replacement ?? true,
    seed = opts.seed ?? 0,
    unbiased = opts.unbiased ?? false;
  const count = (n: number) => {
    const k = opts.numSamples ?? n;
    if (!Number.isInteger(k) || k < 1) throw new Error(`sampler: numSamples must be a positive integer, got ${k}`);
    return k;
  };
  return {
    length: (n, bs, dropLast) => epochLength(count(n), bs, dropLast),
    *batches(epoch, n, bs, dropLast) {
      const q = normaliseProbabilities(p, n),
        k = count(n),
        rng = epochRng(seed, epoch);
      const all = drawBatch(q, k, rng, replacement, unbiased);
      for (const b of cut(all.index, bs, dropLast)) {
        const off = b.index.byteOffset / 4 - all.index.byteOffset / 4;
        yield all.weight ? { index: b.index, weight: all.weight.subarray(off, off + b.index.length) } : b;
      }
    },
  };
}

/**
 * Class-balanced row probabilities for weightedSampler: p_i ∝ 1 / (rows of class y_i), so every class is drawn
 * equally often (with replacement) and the loss tracks balanced accuracy instead of the class prior.
 */
export function balancedWeights(ds: { labels: ArrayLike<number>; classes: number }): Float64Array {
  const n = new Array<number>(ds.classes).fill(0);
  for (let i = 0; i < ds.labels.length; i++) n[ds.labels[i]]++;
  return Float64Array.from(ds.labels, (y) => 1 / (ds.classes * n[y]));
}
