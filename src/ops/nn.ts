import type { FArray } from '../core/dtype.js';
import { scopedEmpty, scopedEmptyLike, scopedLike, scopedZeros } from '../core/arena.js';
import { fmt, normAxis } from '../core/shape.js';
import type { Rng } from '../core/rng.js';
import { isGradEnabled, Tensor } from '../core/tensor.js';
import { exp, mul, pow, sub } from './elementwise.js';
import { mean, sum } from './reduce.js';
import { transpose } from './shape.js';
import { needs, record, type Rule } from './tape.js';
import { backendFor } from '../backend/index.js';

function lastAxisLogSoftmax(x: Tensor): Tensor {
  const C = x.shape[x.rank - 1],
    R = x.size / C;
  const out = scopedZeros(x.shape, x.dtype);
  const d = x.data,
    o = out.data;
  for (let r = 0; r < R; r++) {
    const base = r * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (d[base + c] > m) m = d[base + c];
    let s = 0;
    for (let c = 0; c < C; c++) s += Math.exp(d[base + c] - m);
    const lse = m + Math.log(s);
    for (let c = 0; c < C; c++) o[base + c] = d[base + c] - lse;
  }
  return record(out, 'logSoftmax', [x]);
}

function alongAxis(x: Tensor, axis: number, f: (t: Tensor) => Tensor): Tensor {
  const a = normAxis(axis, x.rank);
  if (a === x.rank - 1) return f(x);
  const perm = x.shape.map((_, i) => i);
  perm[a] = x.rank - 1;
  perm[x.rank - 1] = a;
  return transpose(f(transpose(x, perm)), perm);
}

/** log softmax(x) along an axis (default last), computed with the max shift for stability. */
export const logSoftmax = (x: Tensor, axis = -1): Tensor => alongAxis(x, axis, lastAxisLogSoftmax);

/** softmax(x) = exp(logSoftmax(x)). */
export const softmax = (x: Tensor, axis = -1): Tensor => exp(logSoftmax(x, axis));

export interface CrossEntropyOptions {
  /** Per-sample weights wᵢ (importance sampling, class balancing). */
  weights?: ArrayLike<number>;
  /** 'mean': Σ wᵢ·ℓᵢ / N (unbiased under importance weights); 'sum': Σ wᵢ·ℓᵢ. */
  reduction?: 'mean' | 'sum';
}

/**
 * Cross-entropy of logits [N, C] against integer labels: ℓᵢ = −log softmax(xᵢ)[yᵢ].
 * Fused with log-softmax: gradient (softmax(xᵢ) − onehot(yᵢ))·wᵢ·scale.
 */
export function crossEntropy(logits: Tensor, labels: ArrayLike<number>, opts: CrossEntropyOptions = {}): Tensor {
  if (logits.rank !== 2) throw new Error(`crossEntropy expects logits [N, C], got ${fmt(logits.shape)}`);
  const [N, C] = logits.shape;
  if (labels.length !== N) throw new Error(`crossEntropy: ${labels.length} labels for ${N} rows of logits`);
  const w = opts.weights;
  if (w && w.length !== N) throw new Error(`crossEntropy: ${w.length} weights for ${N} samples`);
  const reduction = opts.reduction ?? 'mean';
  const scale = reduction === 'mean' ? 1 / N : 1;
  const d = logits.data;
  const probs = scopedLike(d, N * C);
  let total = 0;
  for (let i = 0; i < N; i++) {
    const y = labels[i];
    if (!Number.isInteger(y) || y < 0 || y >= C)
      throw new Error(`crossEntropy: label ${y} at row ${i} is outside 0..${C - 1}`);
    const base = i * C;
    let m = -Infinity;
    for (let c = 0; c < C; c++) if (d[base + c] > m) m = d[base + c];
    let s = 0;
    for (let c = 0; c < C; c++) {
      const e = Math.exp(d[base + c] - m);
      probs[base + c] = e;
      s += e;
    }
    for (let c = 0; c < C; c++) probs[base + c] /= s;
    const li = m + Math.log(s) - d[base + y];
    total += (w ? w[i] : 1) * li;
  }
  const out = Tensor.from([total * scale], [], logits.dtype);
  return record(out, 'crossEntropy', [logits], {
    probs,
    labels: Array.from(labels),
    w: w ? Array.from(w) : null,
    scale,
  });
}

/** Mean (or summed) squared error. */
export function mse(pred: Tensor, target: Tensor, reduction: 'mean' | 'sum' = 'mean'): Tensor {
  if (pred.size !== target.size)
    throw new Error(`mse: prediction ${fmt(pred.shape)} and target ${fmt(target.shape)} differ in size`);
  const sq = pow(sub(pred, target), 2);
  return reduction === 'mean' ? mean(sq) : sum(sq);
}

/** Inverted dropout: zero each element with probability p, scale survivors by 1/(1−p). Identity when not training. */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (!(p >= 0 && p < 1)) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  if (!training || p === 0) return x;
  const mask = scopedLike(x.data, x.size);
  rng.bernoulliMask(mask, p, 1 / (1 - p));
  const xd = x.data,
    od = scopedLike(xd, x.size);
  for (let i = 0; i < mask.length; i++) od[i] = xd[i] * mask[i];
  return record(new Tensor(od, x.shape), 'dropout', [x], { mask });
}

export interface BatchNormOptions {
  training: boolean;
  /** Running-average factor (PyTorch convention): r ← (1−m)·r + m·batch. */
  momentum?: number;
  eps?: number;
}

/**
 * Batch normalisation over channel axis 1 of [N, C] or [N, C, H, W] (Ioffe & Szegedy, Alg. 1):
 * y = γ·(x − μ)/√(σ² + ε) + β. Training uses batch statistics (biased σ² to normalise,
 * unbiased to update the running variance); eval uses the running statistics.
 */
export function batchNorm(
  x: Tensor,
  gamma: Tensor,
  beta: Tensor,
  runningMean: Tensor,
  runningVar: Tensor,
  opts: BatchNormOptions,
): Tensor {
  if (x.rank !== 2 && x.rank !== 4) throw new Error(`batchNorm expects [N, C] or [N, C, H, W], got ${fmt(x.shape)}`);
  const N = x.shape[0],
    C = x.shape[1],
    S = x.rank === 4 ? x.shape[2] * x.shape[3] : 1;
  if (gamma.size !== C || beta.size !== C || runningMean.size !== C || runningVar.size !== C) {
    throw new Error(`batchNorm: parameters must have ${C} entries (one per channel)`);
  }
  const eps = opts.eps ?? 1e-5,
    momentum = opts.momentum ?? 0.1;
  const d = x.data,
    cnt = N * S,
    be = backendFor(x.dtype);
  const meanArr = scopedLike(d, C),
    invStd = scopedLike(d, C);
  if (opts.training) {
    if (cnt < 2)
      throw new Error('batchNorm in training needs more than one value per channel; use a larger batch or eval mode');
    const v = scopedLike(d, C);
    be.bnStats(d, N, S, meanArr, v);
    for (let c = 0; c < C; c++) {
      invStd[c] = 1 / Math.sqrt(v[c] + eps);
      runningMean.data[c] = (1 - momentum) * runningMean.data[c] + momentum * meanArr[c];
      runningVar.data[c] = (1 - momentum) * runningVar.data[c] + (momentum * v[c] * cnt) / (cnt - 1);
    }
  } else {
    for (let c = 0; c < C; c++) {
      meanArr[c] = runningMean.data[c];
      invStd[c] = 1 / Math.sqrt(runningVar.data[c] + eps);
    }
  }
  // Every element is written; x̂ is kept only for a backward pass (not under noGrad).
  const out = scopedEmpty(x.shape, x.dtype),
    o = out.data;
  const xhat = isGradEnabled() ? scopedEmptyLike(d, d.length) : null;
  if (!xhat && !opts.training) {
    // Inference: one multiply and one add per value, y = x·(γ/σ) + (β − μ·γ/σ), in the backend.
    const scale = scopedLike(d, C),
      shift = scopedLike(d, C);
    for (let c = 0; c < C; c++) {
      scale[c] = gamma.data[c] * invStd[c];
      shift[c] = beta.data[c] - meanArr[c] * scale[c];
    }
    be.channelAffine(d, scale, shift, N, S, o);
    return record(out, 'batchNorm', [x, gamma, beta], { xhat, invStd, training: opts.training, N, C, S });
  }
  be.bnNormalize(d, N, S, meanArr, invStd, gamma.data, beta.data, xhat, o);
  return record(out, 'batchNorm', [x, gamma, beta], { xhat, invStd, training: opts.training, N, C, S });
}

export const nnRules: { logSoftmax: Rule; crossEntropy: Rule; dropout: Rule; batchNorm: Rule } = {
  logSoftmax: (_n, o, gy) => {
    // dx = gy − softmax · Σ gy (per row)
    const C = o.shape[o.rank - 1],
      R = o.size / C;
    const g = scopedLike(gy, gy.length);
    for (let r = 0; r < R; r++) {
      const b = r * C;
      let s = 0;
      for (let c = 0; c < C; c++) s += gy[b + c];
      for (let c = 0; c < C; c++) g[b + c] = gy[b + c] - Math.exp(o.data[b + c]) * s;
    }
    return [g];
  },
  crossEntropy: (n, _o, gy) => {
    const { probs, labels, w, scale } = n.saved as {
      probs: FArray;
      labels: number[];
      w: number[] | null;
      scale: number;
    };
    const C = n.inputs[0].shape[1];
    const g = scopedLike(probs, probs.length);
    for (let i = 0; i < labels.length; i++) {
      const f = gy[0] * scale * (w ? w[i] : 1);
      for (let c = 0; c < C; c++) g[i * C + c] = probs[i * C + c] * f;
      g[i * C + labels[i]] -= f;
    }
    return [g];
  },
  dropout: (n, _o, gy) => {
    const mask = n.saved.mask as FArray;
    const g = scopedLike(gy, gy.length);
    for (let i = 0; i < g.length; i++) g[i] = gy[i] * mask[i];
    return [g];
  },
  batchNorm: (n, _o, gy) => {
    const { xhat, invStd, training, N, C, S } = n.saved as {
      xhat: FArray;
      invStd: FArray;
      training: boolean;
      N: number;
      C: number;
      S: number;
    };
    const gamma = n.inputs[1].data,
      be = backendFor(n.inputs[0].dtype);
    const dg = scopedLike(gy, C),
      db = scopedLike(gy, C);
    be.bnGradSums(gy, xhat, N, S, db, dg);
    let dx: FArray | null = null;
    if (needs(n, 0)) {
      dx = scopedEmptyLike(gy, gy.length);
      const k = scopedLike(gy, C);
      for (let c = 0; c < C; c++) k[c] = gamma[c] * invStd[c];
      if (training) {
        // dx = γ/σ · (gy − mean(gy) − x̂·mean(gy·x̂))
        const cnt = N * S,
          mg = scopedLike(gy, C),
          mgx = scopedLike(gy, C);
        for (let c = 0; c < C; c++) {
          mg[c] = db[c] / cnt;
          mgx[c] = dg[c] / cnt;
        }
        be.bnInputGrad(gy, xhat, N, S, k, mg, mgx, dx);
      } else {
        be.channelAffine(gy, k, null, N, S, dx);
      }
    }
    return [dx, needs(n, 1) ? dg : null, needs(n, 2) ? db : null];
  },
};
