// Upper-bound importance sampling (Katharopoulos & Fleuret, "Not all samples are created equal",
// ICML 2018, arXiv 1803.00942; reference code github.com/idiap/importance-sampling), an anchor of
// spec 10: presample B = 3b rows uniformly, score them with an extra forward pass, draw b ∝ score.
import { noGrad, type Tensor } from '../../core/tensor.js';
import { withScope } from '../../core/arena.js';
import { epochRng, type SampledBatch, type Sampler, type SampleFeedback } from '../../data/sampler.js';
import { gatherBatch, type ImageDataset } from '../../data/dataset.js';
import type { Module } from '../../nn/module.js';
import { logitGradNorm, perSampleCrossEntropy } from '../../train/step.js';
import { checkScores, WeightTally } from './stats.js';

/** Scores rows of the training set (larger = more important), e.g. by kfScorer. */
export type RowScorer = (indices: Int32Array) => Float32Array;

export interface KfOptions {
  /** The extra forward pass: Ĝ_i for the given rows (kfScorer builds it from a model and the data). */
  score: RowScorer;
  seed?: number;
  /** B/b, the presample factor (default 3, idiap's `presample=3.0`). */
  presample?: number;
  /** EMA momentum of τ (default 0.9). */
  momentum?: number;
  /** τ_th: sample by importance only while the EMA of τ exceeds it (default (B + 3b)/(3b); 0 = always). */
  tauThreshold?: number;
  /** Rows drawn per epoch (default: the dataset's size). */
  numSamples?: number;
}

/**
 * One importance draw from a presample's scores: p_j = Ĝ_j/ΣĜ and weight (ΣĜ/B)/Ĝ_j
 * (idiap `BiasedReweightingPolicy(k=1)`), so that E_j[w_j ∇ℓ_j] = (1/B)Σ_j ∇ℓ_j, the presample's
 * mean, itself unbiased for the full gradient. A zero score gets a tiny floor so p > 0 everywhere.
 */
export function kfDistribution(scores: ArrayLike<number>): { p: Float64Array; weight: Float64Array } {
  const B = scores.length,
    g = new Float64Array(B);
  let s = 0;
  for (let j = 0; j < B; j++) s += g[j] = scores[j];
  const floor = s > 0 ? (1e-6 * s) / B : 1;
  s = 0;
  for (let j = 0; j < B; j++) s += g[j] = Math.max(g[j], floor);
  const p = new Float64Array(B),
    weight = new Float64Array(B);
  for (let j = 0; j < B; j++) {
    p[j] = g[j] / s;
    weight[j] = s / B / g[j];
  }
  return { p, weight };
}

/**
 * τ = 1/√(1 − ‖g − u‖²/‖g‖²) with g = Ĝ/ΣĜ and u = 1/B (Katharopoulos & Fleuret eq. 29): how much
 * importance sampling by these scores would cut the variance (1 for uniform scores).
 */
export function kfTau(scores: ArrayLike<number>): number {
  const B = scores.length;
  let s = 0;
  for (let j = 0; j < B; j++) s += scores[j];
  if (!(s > 0)) return 1;
  let d = 0,
    n2 = 0;
  for (let j = 0; j < B; j++) {
    const g = scores[j] / s;
    d += (g - 1 / B) ** 2;
    n2 += g * g;
  }
  return 1 / Math.sqrt(Math.max(1e-12, 1 - d / n2));
}

/** The KF sampler, with its state for logs and tests. */
export interface KfSampler extends Sampler {
  readonly biased: false;
  /** The EMA of τ and whether importance sampling is on. */
  tau(): { ema: number; on: boolean };
}

/**
 * Katharopoulos & Fleuret's upper-bound importance sampling. Each step: presample B = 3b rows
 * uniformly (with replacement), score them with `score` (Ĝ_i = ‖softmax(z_i) − e_{y_i}‖, an upper
 * bound of the per-sample gradient norm up to a constant, from an extra forward pass), draw b of them
 * with replacement ∝ Ĝ and weight each (ΣĜ/B)/Ĝ_i. While the EMA of τ (fed by the scores of every
 * step) is below τ_th the batch is uniform (weights 1) and costs no extra pass. epochStats counts the
 * extra forward rows, so the overhead is visible.
 * ```ts
 * const sampler = kfSampler({ score: kfScorer(model, train), seed: 1 });
 * fit(model, { train, epochs: 10, batchSize: 64, optimizer, sampler });
 * ```
 */
export function kfSampler(opts: KfOptions): KfSampler {
  const factor = opts.presample ?? 3,
    momentum = opts.momentum ?? 0.9,
    seed = opts.seed ?? 0;
  if (!(factor >= 1) || !Number.isFinite(factor)) throw new Error(`sampler: presample must be ≥ 1, got ${factor}`);
  if (!(momentum >= 0 && momentum < 1)) throw new Error(`sampler: momentum must lie in [0, 1), got ${momentum}`);
  if (typeof opts.score !== 'function') throw new Error('sampler: kf needs score(indices), e.g. kfScorer(model, data)');
  if (opts.numSamples !== undefined && !(Number.isInteger(opts.numSamples) && opts.numSamples >= 1)) {
    throw new Error(`sampler: numSamples must be a positive integer, got ${opts.numSamples}`);
  }
  let tauEma = 1;
  let tally = new WeightTally(),
    extraRows = 0,
    isSteps = 0,
    steps = 0;
  const perEpoch = (rows: number) => opts.numSamples ?? rows;
  const threshold = (b: number) => opts.tauThreshold ?? (Math.round(factor * b) + 3 * b) / (3 * b);
  const update = (scores: ArrayLike<number>) => (tauEma = momentum * tauEma + (1 - momentum) * kfTau(scores));

  function draw(rng: ReturnType<typeof epochRng>, rows: number, b: number, full: number): SampledBatch {
    steps++;
    if (tauEma <= threshold(full)) {
      const index = new Int32Array(b);
      for (let j = 0; j < b; j++) index[j] = rng.int(rows);
      for (let j = 0; j < b; j++) tally.add(1);
      return { index, weight: new Float32Array(b).fill(1) };
    }
    isSteps++;
    const B = Math.max(b, Math.round(factor * b)),
      pre = new Int32Array(B);
    for (let j = 0; j < B; j++) pre[j] = rng.int(rows);
    const scores = opts.score(pre);
    if (scores.length !== B) throw new Error(`sampler: score() gave ${scores.length} scores for ${B} rows`);
    checkScores(scores, 'score');
    extraRows += B;
    update(scores);
    const { p, weight: wj } = kfDistribution(scores);
    const cdf = new Float64Array(B);
    let s = 0;
    for (let j = 0; j < B; j++) cdf[j] = s += p[j];
    const index = new Int32Array(b),
      weight = new Float32Array(b);
    for (let j = 0; j < b; j++) {
      const u = rng.random() * s;
      let lo = 0,
        hi = B - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      index[j] = pre[lo];
      weight[j] = wj[lo];
      tally.add(weight[j]);
    }
    return { index, weight };
  }

  let onLastBatch = false;
  return {
    biased: false,
    requiresFeedback: true,
    wants: { gradNormBound: true },
    tau: () => ({ ema: tauEma, on: onLastBatch }),
    length: (rows, bs, dropLast) => (dropLast ? Math.floor : Math.ceil)(perEpoch(rows) / bs),
    *batches(epoch, rows, bs, dropLast) {
      const total = perEpoch(rows),
        rng = epochRng(seed, epoch);
      tally = new WeightTally();
      extraRows = isSteps = steps = 0;
      for (let done = 0; done < total; done += bs) {
        const count = Math.min(bs, total - done);
        if (count < bs && dropLast) return;
        const before = isSteps;
        const batch = draw(rng, rows, count, bs);
        onLastBatch = isSteps > before;
        yield batch;
      }
    },
    observe(_indices: Int32Array, _loss: Float32Array, extra?: SampleFeedback) {
      // A uniform step's own outputs feed τ at no cost; an importance step already fed its presample's.
      if (onLastBatch) return;
      const g = extra?.gradNormBound;
      if (!g) throw new Error('sampler: kf needs gradNormBound from the step (backprop() returns it)');
      checkScores(g, 'gradient-norm bound');
      update(g);
    },
    epochStats: () => ({
      ...tally.summary(),
      tau: tauEma,
      importanceSteps: isSteps,
      steps,
      extraForwardRows: extraRows,
    }),
    stateDict: () => ({ tauEma }),
    loadStateDict(v: unknown) {
      const t = (v as { tauEma?: number })?.tauEma;
      if (typeof t !== 'number' || !Number.isFinite(t)) throw new Error('sampler: saved KF state has no finite tau');
      tauEma = t;
    },
  };
}

/** Options of the row scorers: the model's input shape per sample, and rows per forward pass. */
export interface ScorerOptions {
  shape?: number[];
  chunk?: number;
}

/** One forward pass without gradients over the given rows, in chunks, mapped per row by `f`. */
function rowScorer(
  model: Module,
  data: ImageDataset,
  f: (logits: Tensor, labels: ArrayLike<number>) => Float32Array,
  opts: ScorerOptions,
): RowScorer {
  const chunk = opts.chunk ?? 256;
  return (indices: Int32Array): Float32Array => {
    const out = new Float32Array(indices.length);
    for (let a = 0; a < indices.length; a += chunk) {
      const idx = indices.subarray(a, Math.min(indices.length, a + chunk));
      withScope(() =>
        noGrad(() => {
          const { x, y } = gatherBatch(data, idx, opts.shape);
          out.set(f(model.forward(x), y), a);
        }),
      );
    }
    return out;
  };
}

/**
 * The score function of kfSampler from a model and its training data: one forward pass without
 * gradients over the given rows, returning ‖softmax(z_i) − e_{y_i}‖₂ per row. The model should have
 * no batch norm or dropout in training mode (they distort the scores, as the reference code warns).
 */
export function kfScorer(model: Module, data: ImageDataset, opts: ScorerOptions = {}): RowScorer {
  return rowScorer(model, data, logitGradNorm, opts);
}

/** Each row's current cross-entropy loss, by one forward pass without gradients: OBS's periodic re-ranking. */
export function lossScorer(model: Module, data: ImageDataset, opts: ScorerOptions = {}): RowScorer {
  return rowScorer(model, data, perSampleCrossEntropy, opts);
}
