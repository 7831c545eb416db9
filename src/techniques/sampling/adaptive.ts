// Adaptive sampling over strata (AS) and its regularised form (RAS, Rojas-Domínguez et al.): spec
// shared/papers/10-ras-importance-sampling.md. Rows are drawn stratum first (k ~ p), then uniformly
// within the stratum, with replacement; each drawn row carries ω = w_k / p_k, so the weighted mean
// gradient stays an unbiased estimate of the full one. [OURS]: the strata (class labels by default),
// the side-information update, and the regularisers R1/R2.
import { epochRng, type SampledBatch, type Sampler, type SampleFeedback } from '../../data/sampler.js';
import { checkScores, WeightTally } from './stats.js';

export type Regularizer = 'none' | 'mixture' | 'kl' | 'floor';

export interface AdaptiveOptions {
  /** Stratum of each training row (e.g. the class labels); strata are the integers 0 … K − 1. */
  strata: ArrayLike<number>;
  seed?: number;
  /**
   * 'none' is AS (p ∝ w_k·G_k); 'mixture' is RAS-R1, (1 − λ)·p* + λ·w; 'kl' is RAS-R2; 'floor' is RAS-R3,
   * p_k ≥ λ·w_k on the final distribution (spec 10).
   */
  regularizer?: Regularizer;
  /** λ ∈ [0, 1] (default 0.2): the share of the uniform distribution (R1), the KL weight (R2), the floor (R3). */
  lambda?: number;
  /** EMA rate β of the per-stratum squared-score estimates (default 0.1). */
  beta?: number;
  /** Side information: the logits' gradient-norm bound (default) or the loss itself. */
  score?: 'gradNorm' | 'loss';
  /** Rows drawn per epoch (default: the dataset's size). */
  numSamples?: number;
}

/** What an adaptive sampler carries across epochs (saved in checkpoints). */
export interface AdaptiveState {
  /** G_k², the running mean squared score of each stratum. */
  g2: number[];
  /** The step at which each stratum's estimate was last refreshed. */
  lastHit: number[];
  steps: number;
}

/** Checks λ ∈ [0, 1] with a message that names the fix. */
export function checkLambda(lambda: number): number {
  if (!(lambda >= 0 && lambda <= 1)) throw new Error(`sampler: lambda must lie in [0, 1], got ${lambda}`);
  return lambda;
}

/** Stratum sizes n_k, checked: integers 0 … K − 1, one per row. */
function stratumSizes(strata: ArrayLike<number>): number[] {
  const sizes: number[] = [];
  for (let i = 0; i < strata.length; i++) {
    const k = strata[i];
    if (!Number.isInteger(k) || k < 0 || k > 1e6) {
      throw new Error(`sampler: stratum ${k} of row ${i} is not an integer in 0 … 10⁶`);
    }
    while (sizes.length <= k) sizes.push(0);
    sizes[k]++;
  }
  return sizes;
}

/** p_k(μ) of R2: the positive root of μp² − λw_kp − w_k²G_k² = 0. */
const klRoot = (w: number, g2: number, lambda: number, mu: number) =>
  (w * (lambda + Math.sqrt(lambda * lambda + 4 * mu * g2))) / (2 * mu);

/**
 * The minimum-variance distribution over strata and its regularised forms (spec 10):
 * - AS: p*_k ∝ w_k·G_k, the minimiser of Σ_k w_k²G_k²/p_k subject to Σ p_k = 1;
 * - R1: p = (1 − λ)·p* + λ·w, so p_k ≥ λ·w_k and every row keeps p_i ≥ λ/n (ω ≤ 1/λ);
 * - R2: argmin Σ w_k²G_k²/p_k + λ·KL(w‖p). Stationarity gives μp_k² − λw_kp_k − w_k²G_k² = 0, so
 *   p_k(μ) = w_k(λ + √(λ² + 4μG_k²))/(2μ), with μ found by bisection so that Σ p_k = 1. G is first
 *   scaled so that Σ w_kG_k = 1 (the variance at p* is then 1), which makes λ unit-free: the same λ
 *   regularises as strongly whether the scores are gradient norms or losses. Summing p_k times the
 *   stationarity condition gives μ = λ + V(p), hence the floor p_k ≥ λ·w_k/(λ + V(p)) > 0.
 * - R3: p_k = max(λ·w_k, c·p*_k) with c set so that Σ p_k = 1 (clip and redistribute: the strata under the floor
 *   sit on it, the others share the rest in proportion to p*), so the floor holds on the final p.
 * w: stratum shares n_k/n; g2: G_k². Strata with w_k = 0 get p_k = 0.
 */
export function stratumProbabilities(
  w: ArrayLike<number>,
  g2: ArrayLike<number>,
  reg: Regularizer,
  lambda: number,
): Float64Array {
  const K = w.length,
    p = new Float64Array(K);
  let s = 0;
  for (let k = 0; k < K; k++) s += p[k] = w[k] * Math.sqrt(g2[k]);
  if (!(s > 0) || !Number.isFinite(s)) {
    // No usable side information (all scores 0): sample as uniform over instances.
    for (let k = 0; k < K; k++) p[k] = w[k];
    return p;
  }
  for (let k = 0; k < K; k++) p[k] /= s;
  if (reg === 'mixture') for (let k = 0; k < K; k++) p[k] = (1 - lambda) * p[k] + lambda * w[k];
  if (reg === 'floor') floorAt(p, w, lambda);
  if (reg === 'kl' && lambda > 0) {
    const g2n = Array.from(g2, (v) => v / (s * s));
    const sumAt = (mu: number) => {
      let t = 0;
      for (let k = 0; k < K; k++) t += klRoot(w[k], g2n[k], lambda, mu);
      return t;
    };
    // Σ p_k(μ) falls from +∞ to 0 as μ grows; bisect on log μ (μ = λ + V lies in [λ, λ + max G̃²/…]).
    let lo = -60,
      hi = 60;
    for (let it = 0; it < 120; it++) {
      const mid = (lo + hi) / 2;
      if (sumAt(Math.exp(mid)) > 1) lo = mid;
      else hi = mid;
    }
    const mu = Math.exp((lo + hi) / 2);
    for (let k = 0; k < K; k++) p[k] = klRoot(w[k], g2n[k], lambda, mu);
  }
  let total = 0;
  for (let k = 0; k < K; k++) total += p[k];
  for (let k = 0; k < K; k++) p[k] /= total;
  return p;
}

/**
 * R3 in place: p_k ← max(λw_k, c·p_k) with Σ = 1. Strata join the floor in order of p_k/w_k until the rest, scaled
 * to the mass left, all clear it (at most K rounds; λ ≤ 1 and Σ w = 1 leave mass for the rest).
 */
function floorAt(p: Float64Array, w: ArrayLike<number>, lambda: number): void {
  const K = p.length,
    onFloor = new Array<boolean>(K).fill(false);
  for (let round = 0; round <= K; round++) {
    let left = 1,
      free = 0;
    for (let k = 0; k < K; k++) {
      if (onFloor[k]) left -= lambda * w[k];
      else free += p[k];
    }
    const c = free > 0 ? left / free : 0;
    let changed = false;
    for (let k = 0; k < K; k++) {
      if (!onFloor[k] && c * p[k] < lambda * w[k]) onFloor[k] = changed = true;
    }
    if (!changed) {
      for (let k = 0; k < K; k++) p[k] = onFloor[k] ? lambda * w[k] : c * p[k];
      return;
    }
  }
}

/** A sampler that also reports its distribution (for logs and tests). */
export interface AdaptiveSampler extends Sampler {
  /** The current distribution over strata. */
  probabilities(): Float64Array;
  /** Each row's draw probability, p_k / n_k for a row of stratum k (sums to 1). */
  rowProbabilities(): Float64Array;
  /** The weights are importance weights: the weighted mean gradient is unbiased. */
  readonly biased: false;
}

/**
 * AS (regularizer 'none') or RAS ('mixture', the default R1, or 'kl', R2) over the given strata:
 * draw stratum k ~ p, then a row uniformly within k, with weight ω = w_k/p_k, so that
 * E[ω∇ℓ] = Σ_k p_k (w_k/p_k) mean_{i∈k} ∇ℓ_i = ∇L. After each step the strata hit in the batch
 * refresh G_k² ← (1 − β)G_k² + β·mean(s_i²), s_i = ‖softmax(z_i) − e_{y_i}‖ (Katharopoulos &
 * Fleuret's bound, which fit()'s default step returns) or the loss. G_k starts at 1 (p = w).
 * ```ts
 * const sampler = rasSampler({ strata: train.labels, lambda: 0.2, seed: 1 });
 * fit(model, { train, epochs: 10, batchSize: 64, optimizer, sampler }); // history[i].sampler: max ω, p, ages
 * ```
 */
export function adaptiveSampler(opts: AdaptiveOptions): AdaptiveSampler {
  const reg = opts.regularizer ?? 'mixture',
    lambda = checkLambda(opts.lambda ?? 0.2),
    beta = opts.beta ?? 0.1;
  if (!['none', 'mixture', 'kl'].includes(reg)) {
    throw new Error(`sampler: regularizer must be none, mixture or kl, got ${reg}`);
  }
  if (!(beta > 0 && beta <= 1)) throw new Error(`sampler: beta must lie in (0, 1], got ${beta}`);
  if (opts.numSamples !== undefined && !(Number.isInteger(opts.numSamples) && opts.numSamples >= 1)) {
    throw new Error(`sampler: numSamples must be a positive integer, got ${opts.numSamples}`);
  }
  const scoreBy = opts.score ?? 'gradNorm',
    seed = opts.seed ?? 0;
  const sizes = stratumSizes(opts.strata),
    K = sizes.length,
    n = opts.strata.length;
  if (n === 0) throw new Error('sampler: no rows to sample from');
  const members: Int32Array[] = sizes.map((c) => new Int32Array(c));
  const fill = new Array(K).fill(0);
  for (let i = 0; i < n; i++) members[opts.strata[i]][fill[opts.strata[i]]++] = i;
  const w = sizes.map((c) => c / n);
  let st: AdaptiveState = { g2: new Array(K).fill(1), lastHit: new Array(K).fill(0), steps: 0 };
  let tally = new WeightTally();
  const probabilities = () => stratumProbabilities(w, st.g2, reg, reg === 'none' ? 0 : lambda);
  const perEpoch = (rows: number) => opts.numSamples ?? rows;

  function draw(rng: ReturnType<typeof epochRng>, count: number): SampledBatch {
    const p = probabilities(),
      cdf = new Float64Array(K);
    let s = 0;
    for (let k = 0; k < K; k++) cdf[k] = s += p[k];
    const index = new Int32Array(count),
      weight = new Float32Array(count);
    for (let j = 0; j < count; j++) {
      const u = rng.random() * s;
      let k = 0;
      while (k < K - 1 && cdf[k] <= u) k++;
      // Rounding can land u on a trailing stratum with p = 0; step back to one that can be drawn.
      while (p[k] === 0 || sizes[k] === 0) k--;
      const m = members[k];
      index[j] = m[rng.int(m.length)];
      weight[j] = w[k] / p[k];
      tally.add(weight[j]);
    }
    return { index, weight };
  }

  return {
    biased: false,
    requiresFeedback: true,
    wants: { gradNormBound: scoreBy === 'gradNorm' },
    probabilities,
    rowProbabilities() {
      const p = probabilities(),
        q = new Float64Array(n);
      for (let i = 0; i < n; i++) q[i] = p[opts.strata[i]] / sizes[opts.strata[i]];
      return q;
    },
    length: (rows, bs, dropLast) => (dropLast ? Math.floor : Math.ceil)(perEpoch(rows) / bs),
    *batches(epoch, rows, bs, dropLast) {
      if (rows !== n) {
        throw new Error(
          `sampler: built for ${n} rows (strata), the dataset has ${rows}; pass one stratum per training row`,
        );
      }
      const total = perEpoch(rows),
        rng = epochRng(seed, epoch);
      tally = new WeightTally();
      for (let done = 0; done < total; done += bs) {
        const count = Math.min(bs, total - done);
        if (count < bs && dropLast) return;
        yield draw(rng, count);
      }
    },
    observe(indices: Int32Array, loss: Float32Array, extra?: SampleFeedback) {
      const s = scoreBy === 'loss' ? loss : extra?.gradNormBound;
      if (!s) {
        throw new Error(
          'sampler: no gradient-norm bound was given; use a step that returns gradNormBound, or score: "loss"',
        );
      }
      checkScores(s, scoreBy === 'loss' ? 'loss' : 'gradient-norm bound');
      const sum = new Float64Array(K),
        cnt = new Int32Array(K);
      for (let j = 0; j < indices.length; j++) {
        const k = opts.strata[indices[j]];
        sum[k] += s[j] * s[j];
        cnt[k]++;
      }
      st.steps++;
      for (let k = 0; k < K; k++) {
        if (!cnt[k]) continue;
        st.g2[k] = (1 - beta) * st.g2[k] + beta * (sum[k] / cnt[k]);
        st.lastHit[k] = st.steps;
      }
    },
    epochStats() {
      const p = probabilities();
      return {
        ...tally.summary(),
        stratumP: Array.from(p, (v) => +v.toFixed(6)),
        stratumG: st.g2.map((v) => +Math.sqrt(v).toFixed(6)),
        estimateAge: st.lastHit.map((h) => st.steps - h),
      };
    },
    stateDict: () => ({ g2: [...st.g2], lastHit: [...st.lastHit], steps: st.steps }),
    loadStateDict(s: unknown) {
      const v = s as AdaptiveState;
      const ok =
        v &&
        Array.isArray(v.g2) &&
        Array.isArray(v.lastHit) &&
        v.g2.length === K &&
        v.lastHit.length === K &&
        v.g2.every((x) => Number.isFinite(x) && x >= 0) &&
        Number.isInteger(v.steps);
      if (!ok) {
        throw new Error(
          `sampler: saved state does not fit this sampler (${K} strata with finite estimates); ` +
            'resume with the same training data and sampler',
        );
      }
      st = { g2: [...v.g2], lastHit: [...v.lastHit], steps: v.steps };
    },
  };
}

/**
 * AS: the unregularised minimum-variance distribution over strata, p_k ∝ w_k·G_k (Papa et al. 2015,
 * as spec 10 reads the paper's base method). Its drawback: a stratum with small G_k is rarely drawn,
 * so its estimate goes stale and its weight w_k/p_k is huge when it is finally hit.
 */
export function asSampler(opts: Omit<AdaptiveOptions, 'regularizer' | 'lambda'>): AdaptiveSampler {
  return adaptiveSampler({ ...opts, regularizer: 'none' });
}

/**
 * RAS (Rojas-Domínguez et al., Soft Computing 2022): AS regularised toward the instances' uniform
 * distribution, R1 p = (1 − λ)p* + λw by default (λ = 0.2, ω ≤ 1/λ), or R2 with regularizer 'kl'.
 * The paper's own regulariser is not public; these are spec 10's [OURS].
 */
export function rasSampler(opts: AdaptiveOptions): AdaptiveSampler {
  return adaptiveSampler({ ...opts, regularizer: opts.regularizer ?? 'mixture' });
}
