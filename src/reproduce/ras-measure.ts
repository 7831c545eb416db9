// Measurements of spec 10's reproduction: the full-data gradient and loss, the variance of each
// sampler's mini-batch gradient against it, and the unbiasedness check on a tiny model.
import {
  crossEntropy,
  crossEntropyLoss,
  gatherBatch,
  kfDistribution,
  kfSampler,
  kfScorer,
  adaptiveSampler,
  Linear,
  Rng,
  withScope,
  type ImageDataset,
  type Module,
  type SampledBatch,
  type Sampler,
} from '../index.js';

/** The model's parameter gradient of `loss()`, copied out of the pooled scope and flattened. */
function gradOf(model: Module, loss: () => { backward(): void }): Float64Array {
  return withScope(() => {
    const params = model.parameters();
    for (const p of params) p.grad = null;
    loss().backward();
    const size = params.reduce((a, p) => a + p.size, 0),
      out = new Float64Array(size);
    let o = 0;
    for (const p of params) {
      const g = p.grad!.data;
      for (let i = 0; i < g.length; i++) out[o + i] = g[i];
      o += p.size;
      p.grad = null;
    }
    return out;
  });
}

/** ∇L = (1/n)Σ∇ℓ_i and L over the whole training set, in chunks (the loss is read from the same pass). */
export function fullGradient(model: Module, ds: ImageDataset, chunk = 500): { grad: Float64Array; loss: number } {
  let grad: Float64Array | null = null,
    loss = 0;
  for (let a = 0; a < ds.count; a += chunk) {
    const idx = Array.from({ length: Math.min(chunk, ds.count - a) }, (_, i) => a + i);
    const g = gradOf(model, () => {
      const { x, y } = gatherBatch(ds, idx);
      const l = crossEntropy(model.forward(x), y, { reduction: 'sum' });
      loss += l.item();
      return l;
    });
    if (!grad) grad = g;
    else for (let i = 0; i < g.length; i++) grad[i] += g[i];
  }
  for (let i = 0; i < grad!.length; i++) grad![i] /= ds.count;
  return { grad: grad!, loss: loss / ds.count };
}

const norm2 = (v: Float64Array) => v.reduce((a, x) => a + x * x, 0);

/** A stratified sample of rows (m per stratum, fewer when the stratum is smaller), with each row's stratum. */
export function stratifiedRows(strata: ArrayLike<number>, m: number, rng: Rng): { rows: number[]; sizes: number[] } {
  const by: number[][] = [];
  for (let i = 0; i < strata.length; i++) (by[strata[i]] ??= []).push(i);
  const rows: number[] = [];
  for (const members of by) if (members) rows.push(...rng.shuffle([...members]).slice(0, m));
  return { rows, sizes: by.map((b) => b?.length ?? 0) };
}

/**
 * The expected squared error E‖ĝ − ∇L‖² of b-row mini-batches drawn with replacement from row
 * probabilities q, at the current parameters. Unbiased samplers weight rows by 1/(n·qᵢ):
 * E‖ĝ − ∇L‖² = (1/b)(Σᵢ ‖∇ℓᵢ‖²/(n²qᵢ) − ‖∇L‖²).
 * A biased sampler (OBS, no weights) adds its bias:
 * (1/b)(Σᵢ qᵢ‖∇ℓᵢ‖² − ‖μ‖²) + ‖μ − ∇L‖², μ = Σᵢ qᵢ∇ℓᵢ.
 * Sums over all rows are estimated from per-row gradients of a stratified sample (each stratum's rows
 * stand for n_k/m_k rows), the same sample for every sampler at a checkpoint, so the comparison between
 * samplers carries little sampling noise. `uniform` is the shuffle sampler's b distinct rows:
 * (1/b)(mean‖∇ℓᵢ‖² − ‖∇L‖²)·(n − b)/(n − 1).
 */
export class VarianceProbe {
  private readonly rows: number[];
  private readonly grads: Float64Array[];
  private readonly scale: number[];
  private readonly gl2: number;
  constructor(
    readonly model: Module,
    readonly ds: ImageDataset,
    readonly full: Float64Array,
    perStratum: number,
    rng: Rng,
  ) {
    const { rows, sizes } = stratifiedRows(ds.labels, perStratum, rng);
    const taken = sizes.map(() => 0);
    for (const r of rows) taken[ds.labels[r]]++;
    this.rows = rows;
    this.scale = rows.map((r) => sizes[ds.labels[r]] / taken[ds.labels[r]]);
    this.grads = rows.map((r) =>
      gradOf(model, () => {
        const { x, y } = gatherBatch(ds, [r]);
        return crossEntropy(model.forward(x), y);
      }),
    );
    this.gl2 = norm2(full);
  }

  /**
   * E‖ĝ − ∇L‖² of the uniform sampler's batches: b distinct rows (the shuffle), or with replacement,
   * which differs by the finite-population factor (n − b)/(n − 1) and isolates the distribution's effect.
   */
  uniform(b: number, replacement = false): number {
    const n = this.ds.count;
    let s = 0;
    this.grads.forEach((g, j) => (s += this.scale[j] * norm2(g)));
    return ((s / n - this.gl2) / b) * (replacement ? 1 : (n - b) / (n - 1));
  }

  /** E‖ĝ − ∇L‖² of b rows drawn with replacement from q, weighted 1/(n·qᵢ) (unbiased) or not (biased). */
  drawn(q: ArrayLike<number>, b: number, biased: boolean): number {
    const n = this.ds.count;
    if (!biased) {
      let s = 0;
      this.grads.forEach((g, j) => (s += (this.scale[j] * norm2(g)) / (n * n * q[this.rows[j]])));
      return (s - this.gl2) / b;
    }
    const mu = new Float64Array(this.full.length);
    let s = 0;
    this.grads.forEach((g, j) => {
      const w = this.scale[j] * q[this.rows[j]];
      s += w * norm2(g);
      for (let c = 0; c < g.length; c++) mu[c] += w * g[c];
    });
    let bias = 0;
    for (let c = 0; c < mu.length; c++) bias += (mu[c] - this.full[c]) ** 2;
    return (s - norm2(mu)) / b + bias;
  }

  /**
   * E‖ĝ − ∇L‖² of KF's importance batches: a presample S of B rows drawn uniformly with replacement, b rows
   * drawn from it ∝ Ĝ and weighted (ΣĜ/B)/Ĝ_j, so E[ĝ | S] = ḡ_S and, by the law of total variance,
   * E‖ĝ − ∇L‖² = E‖ḡ_S − ∇L‖² + E_S[(1/b)(Σ_{j∈S} ‖∇ℓ_j‖²/(B²p_j) −
   * ‖ḡ_S‖²)]. The first term is the uniform variance of B rows with replacement; the second is averaged over
   * `presamples` draws of S from the probe's rows (each drawn ∝ the rows it stands for), with Ĝ from `score`, the
   * sampler's own extra forward pass.
   */
  kf(b: number, B: number, score: (rows: Int32Array) => Float32Array, presamples: number, rng: Rng): number {
    const G = score(Int32Array.from(this.rows)),
      g2 = this.grads.map(norm2);
    const cdf = new Float64Array(this.rows.length);
    let tot = 0;
    this.scale.forEach((w, j) => (cdf[j] = tot += w));
    const pick = () => {
      const u = rng.random() * tot;
      let lo = 0,
        hi = cdf.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cdf[mid] > u) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    const dim = this.full.length,
      mean = new Float64Array(dim);
    let cond = 0;
    for (let t = 0; t < presamples; t++) {
      const S = Array.from({ length: B }, pick);
      const { p } = kfDistribution(S.map((j) => G[j]));
      mean.fill(0);
      let s = 0;
      S.forEach((j, k) => {
        s += g2[j] / (B * B * p[k]);
        const g = this.grads[j];
        for (let c = 0; c < dim; c++) mean[c] += g[c] / B;
      });
      cond += (s - norm2(mean)) / b;
    }
    return this.uniform(B, true) + cond / presamples;
  }
}

/** The gradient the default step takes on one sampled batch: the ω-weighted batch mean. */
export function batchGradient(model: Module, ds: ImageDataset, b: SampledBatch, dropWeights = false): Float64Array {
  return gradOf(model, () => {
    const { x, y } = gatherBatch(ds, b.index);
    const weight = dropWeights ? undefined : b.weight;
    return crossEntropyLoss(model.forward(x), { x, y, index: b.index, ...(weight ? { weight } : {}) }, model);
  });
}

/**
 * The largest |z| over coordinates of (mean of T mini-batch gradients − ∇L), with the batches' own
 * standard error: below 3 when the weighted estimate is unbiased (spec 10, criterion 1).
 */
export function biasZ(model: Module, ds: ImageDataset, sampler: Sampler, T: number, bs: number, drop = false): number {
  const full = fullGradient(model, ds).grad;
  const sum = new Float64Array(full.length),
    sum2 = new Float64Array(full.length);
  let t = 0;
  for (const b of sampler.batches(0, ds.count, bs, true)) {
    const g = batchGradient(model, ds, b, drop);
    for (let c = 0; c < g.length; c++) {
      sum[c] += g[c];
      sum2[c] += g[c] * g[c];
    }
    if (++t === T) break;
  }
  let worst = 0;
  for (let c = 0; c < full.length; c++) {
    const mean = sum[c] / t,
      sd = Math.sqrt(Math.max(1e-30, sum2[c] / t - mean * mean));
    worst = Math.max(worst, Math.abs(mean - full[c]) / (sd / Math.sqrt(t)));
  }
  return worst;
}

/** Three imbalanced classes (40/15/5 rows) of 6 features: the tiny problem of criterion 1. */
export function tinyProblem(): { ds: ImageDataset; model: Module } {
  const sizes = [40, 15, 5],
    d = 6,
    n = 60,
    rng = new Rng(3);
  const images = new Uint8Array(n * d),
    labels = new Uint8Array(n);
  let i = 0;
  sizes.forEach((c, k) => {
    for (let r = 0; r < c; r++, i++) {
      labels[i] = k;
      for (let j = 0; j < d; j++) images[i * d + j] = Math.floor(255 * rng.random() * (j % 3 === k ? 1 : 0.4));
    }
  });
  return {
    ds: { images, labels, count: n, sampleShape: [d], classes: 3 },
    model: new Linear(d, 3, { rng: new Rng(5) }),
  };
}

/**
 * Criterion 1 on the tiny problem: max |z| of AS, RAS-R1, RAS-R2 (each from a skewed side-information
 * state, so the test has teeth) and KF (importance sampling forced on), over `draws` batches of 8;
 * and the same for RAS with its weights dropped, a biased control that should exceed 3.
 */
export function unbiasednessCheck(draws = 2000): { z: Record<string, number>; biasedControlZ: number } {
  const { ds, model } = tinyProblem(),
    numSamples = draws * 8;
  const skewed = { g2: [4, 0.01, 1], lastHit: [0, 0, 0], steps: 0 };
  const strat = (regularizer: 'none' | 'mixture' | 'kl') => {
    const s = adaptiveSampler({ strata: ds.labels, regularizer, seed: 2, numSamples });
    s.loadStateDict!(skewed);
    return s;
  };
  const z: Record<string, number> = {
    as: biasZ(model, ds, strat('none'), draws, 8),
    'ras-r1': biasZ(model, ds, strat('mixture'), draws, 8),
    'ras-r2': biasZ(model, ds, strat('kl'), draws, 8),
    kf: biasZ(model, ds, kfSampler({ score: kfScorer(model, ds), seed: 2, tauThreshold: 0, numSamples }), draws, 8),
  };
  return { z, biasedControlZ: biasZ(model, ds, strat('mixture'), draws, 8, true) };
}
