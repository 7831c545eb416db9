// pruneToRate: one training run that ends at a requested compression rate (Qi et al.'s contract).
// [V] paper: "end-to-end training that transfers a redundant neural network to a compact one with
// a specifically targeted compression rate directly". [OURS] the mechanism: the paper's is not
// public to us, so two stand-ins — gradual magnitude pruning (Zhu & Gupta 2017) and channel gates
// (AutoPruner-like, gates.ts) — see shared/papers/05-target-rate-pruning.md.
import type { Tensor } from '../../core/tensor.js';
import type { Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Schedule } from '../../optim/schedule.js';
import type { ImageDataset } from '../../data/dataset.js';
import { fit, type Callback, type CheckpointStore, type FitResult } from '../../train/fit.js';
import type { ProgressSink } from '../../train/progress.js';
import { backprop } from '../../train/step.js';
import { recalibrateBatchNorm } from '../../train/recalibrate.js';
import { analyse, countWeights, type Counts, type PrunableLayer, type Structure } from './graph.js';
import { applyMask, pruneEntry, reapplyMasks, removePruning } from './reparam.js';
import { checkFraction, ones, type Plan } from './plan.js';
import { structuredPlan } from './structured-plan.js';

export { RATE_TOLERANCE } from './plan.js';

export type RateMetric = 'params' | 'flops';

export interface PruneToRateOptions {
  /** Fraction of the conv and linear weights (params) or of their MACs (flops) to remove, in (0, 1). */
  target: number;
  metric?: RateMetric;
  /** Remove whole channels and neurons (channel gates) instead of single weights (magnitude). */
  structured?: boolean;
  /** Shape of one sample, e.g. [1, 28, 28]. */
  input: number[];
  train: ImageDataset;
  validation?: ImageDataset;
  epochs: number;
  batchSize: number;
  seed?: number;
  /**
   * Builds the optimizer once the pruning parameters (gate scores) exist, from the model's parameters; `model`
   * gives its parameter groups (`paramGroups(model, 'sgd', lr)`: circulant layers ask for lr/N under SGD).
   */
  optimizer: (params: Tensor[], model: Module) => Optimizer;
  schedule?: Schedule;
  progress?: ProgressSink;
  checkpoint?: CheckpointStore;
  /** The run's settings, kept in its checkpoints (fit's `config`). */
  config?: Record<string, unknown>;
  resume?: boolean;
  callbacks?: Callback[];
  /** Unstructured: steps between mask updates (Zhu & Gupta's Δt; default 100, fewer for short runs). */
  frequency?: number;
  /**
   * Unstructured: the ramp runs over this share of the steps (default [0.1, 0.5]: ending before the spec's
   * 0.7 leaves a short run time to recover); the mask is frozen after it.
   */
  ramp?: [number, number];
  /** Unstructured: each layer keeps at least this share of its weights (default 0.01). */
  minDensity?: number;
  /** Structured: weight λ of the budget penalty (default 5). */
  penalty?: number;
  /** Structured: share of the steps with soft gates before the hard cut (default 0.5); fine-tuning follows. */
  hardAt?: number;
  /**
   * Structured: kept channel counts are multiples of this (or a whole layer), falling back to
   * single channels when that cannot meet the target within ±0.5 pt (default 4, the kernels'
   * SIMD width; 1 = any count). Like Torch-Pruning's `round_to`: widths the kernels block evenly
   * run faster at the same MAC cut.
   */
  roundTo?: number;
  /** Structured: α grows geometrically from 1 to this at the hard cut (default 50). */
  alphaMax?: number;
  /**
   * Structured: also remove at least this share of the other metric (e.g. target params 0.941
   * with atLeast { flops: 0.762 }); best effort, penalised like the target and met at the hard
   * cut by removing further channels while the target stays within ±0.5 pt.
   */
  atLeast?: { params?: number; flops?: number };
  /** Batches used to re-estimate batch-norm statistics at the end (default 50; 0 skips). */
  recalibrate?: number;
}

export interface PruneToRateResult {
  /** The trained model with the pruning made permanent (same layer sizes; compact() shrinks it). */
  model: Sequential;
  fit: FitResult;
  target: number;
  metric: RateMetric;
  structured: boolean;
  /** Conv and linear weights (biases and batch norm not counted) before and after. */
  dense: Counts;
  final: Counts;
  /** Achieved reductions measured on the final weights: 1 − after/before. */
  achieved: { params: number; flops: number };
  /** Structured: output channels kept per pruned layer. */
  channels?: { layer: number; before: number; after: number }[];
}

/** Zhu & Gupta's cubic sparsity schedule: s_t = s_f + (s_i − s_f)(1 − (t − t0)/(nΔt))^3, clamped to [t0, t0 + nΔt]. */
export function cubicSparsity(
  t: number,
  opts: { initial?: number; final: number; start: number; end: number },
): number {
  const si = opts.initial ?? 0;
  if (t <= opts.start) return si;
  if (t >= opts.end) return opts.final;
  return opts.final + (si - opts.final) * Math.pow(1 - (t - opts.start) / (opts.end - opts.start), 3);
}

const reduction = (before: number, after: number): number => (before > 0 ? 1 - after / before : 0);

/**
 * Train `model` once and end at the requested compression rate. Unstructured (default):
 * global gradual magnitude pruning with the cubic schedule, a mask update every `frequency`
 * steps during the ramp, masks re-applied after every optimizer step; the final sparsity is
 * exact by construction. Structured: channel gates v = sigmoid(α·s) with AutoPruner's penalty
 * λ·Σ_l (mean(v_l) − r)², r the uniform keep ratio that meets the budget, α annealed upward;
 * then a hard cut (per layer the r·C channels with the highest scores, adjusted one channel at
 * a time to ±0.5 pp of the target) and fine-tuning. Rates are measured on the final weights.
 */
export function pruneToRate(model: Sequential, opts: PruneToRateOptions): PruneToRateResult {
  const metric = opts.metric ?? 'params',
    structured = !!opts.structured;
  checkFraction('target', opts.target);
  if (metric !== 'params' && metric !== 'flops')
    throw new Error(`pruneToRate: metric must be 'params' or 'flops', got ${JSON.stringify(metric)}`);
  const s = analyse(model, opts.input);
  if (s.layers.length === 0) throw new Error('pruneToRate: the model has no conv or linear layer to prune');
  const dense = countWeights(s);
  const bpe = Math.ceil(opts.train.count / opts.batchSize),
    total = Math.max(1, opts.epochs * bpe);
  const plan = structured ? structuredPlan(model, s, metric, opts, total) : magnitudePlan(s, metric, opts, total);
  const optimizer = opts.optimizer(model.parameters(), model);
  const cb: Callback = {
    // A run resumed mid-epoch begins at step epoch·bpe + batch.
    onEpochBegin: (epoch, info) => plan.onEpochBegin?.(epoch * bpe + (info?.batch ?? 0)),
    onBatchEnd: ({ epoch, batch }) => {
      plan.afterStep(epoch * bpe + batch);
      reapplyMasks(model);
    },
  };
  const result = fit(model, {
    train: opts.train,
    validation: opts.validation,
    epochs: opts.epochs,
    batchSize: opts.batchSize,
    optimizer,
    seed: opts.seed,
    inputShape: opts.input,
    schedule: opts.schedule,
    progress: opts.progress,
    checkpoint: opts.checkpoint,
    config: opts.config,
    resume: opts.resume,
    callbacks: [cb, ...(opts.callbacks ?? [])],
    step: backprop({ regularizer: plan.regularizer }),
  });
  plan.finish?.();
  const channels = plan.channels?.();
  removePruning(model);
  const nRecal = opts.recalibrate ?? 50;
  if (!(Number.isInteger(nRecal) && nRecal >= 0))
    throw new Error(`pruneToRate: recalibrate must be an integer ≥ 0, got ${nRecal}`);
  if (nRecal > 0)
    recalibrateBatchNorm(model, opts.train, {
      batches: nRecal,
      batchSize: opts.batchSize,
      shape: opts.input,
      seed: opts.seed,
    });
  const final = countWeights(analyse(model, opts.input));
  return {
    model,
    fit: result,
    target: opts.target,
    metric,
    structured,
    dense,
    final,
    achieved: { params: reduction(dense.params, final.nonzero), flops: reduction(dense.macs, final.effectiveMacs) },
    channels,
  };
}

/** Design (a): global gradual magnitude pruning. */
function magnitudePlan(s: Structure, metric: RateMetric, opts: PruneToRateOptions, total: number): Plan {
  const [r0, r1] = opts.ramp ?? [0.1, 0.5];
  if (!(r0 >= 0 && r0 <= r1 && r1 <= 1))
    throw new Error(`pruneToRate: ramp must satisfy 0 ≤ start ≤ end ≤ 1, got [${r0}, ${r1}]`);
  const minDensity = opts.minDensity ?? 0.01;
  if (!(minDensity >= 0 && minDensity < 1))
    throw new Error(`pruneToRate: minDensity must be in [0, 1), got ${minDensity}`);
  const cost = (l: PrunableLayer) => (metric === 'params' ? 1 : l.spatial);
  const sizes = s.layers.map((l) => l.module.weight.size);
  const floors = sizes.map((n) => Math.max(1, Math.ceil(minDensity * n)));
  const totalCost = s.layers.reduce((a, l, i) => a + sizes[i] * cost(l), 0);
  const maxCut = 1 - s.layers.reduce((a, l, i) => a + floors[i] * cost(l), 0) / totalCost;
  if (opts.target > maxCut) {
    throw new Error(
      `pruneToRate: a ${metric} reduction of ${(100 * opts.target).toFixed(1)}% is unreachable: every layer ` +
        `keeps at least ${100 * minDensity}% of its weights, which allows at most ${(100 * maxCut).toFixed(2)}%; ` +
        `lower the target or minDensity`,
    );
  }
  for (const l of s.layers)
    if (!pruneEntry(l.module, 'weight')) applyMask(l.module, 'weight', ones(l.module.weight.size));
  const t0 = Math.round(r0 * total),
    t1 = Math.max(t0 + 1, Math.round(r1 * total));
  const freq = Math.max(1, Math.min(opts.frequency ?? 100, Math.floor((t1 - t0) / 10)));
  const n = Math.max(1, Math.round((t1 - t0) / freq));
  const updates = new Map<number, number>();
  for (let k = 1; k <= n; k++)
    updates.set(t0 + Math.round((k * (t1 - t0)) / n), cubicSparsity(k, { final: opts.target, start: 0, end: n }));

  /** Prune the smallest |w| globally until the pruned cost reaches `sparsity` of the total. */
  const pruneTo = (sparsity: number): void => {
    const entries = s.layers.map((l) => pruneEntry(l.module, 'weight')!);
    const N = sizes.reduce((a, b) => a + b, 0);
    const score = new Float32Array(N),
      layerOf = new Int32Array(N),
      alive = sizes.map(() => 0);
    let o = 0;
    entries.forEach((e, j) => {
      for (let i = 0; i < sizes[j]; i++) {
        score[o + i] = Math.abs(e.orig.data[i] * e.mask.data[i]);
        layerOf[o + i] = j;
        if (e.mask.data[i] !== 0) alive[j]++;
      }
      o += sizes[j];
    });
    const order = Uint32Array.from({ length: N }, (_, i) => i).sort((a, b) => score[a] - score[b] || a - b);
    const need = sparsity * totalCost;
    const masks = sizes.map((k) => ones(k)),
      offsets = sizes.map((_, j) => sizes.slice(0, j).reduce((a, b) => a + b, 0));
    let cut = 0;
    for (const q of order) {
      if (cut >= need) break;
      const j = layerOf[q],
        i = q - offsets[j];
      if (entries[j].mask.data[i] === 0) {
        masks[j][i] = 0;
        cut += cost(s.layers[j]);
        continue;
      }
      if (alive[j] <= floors[j]) continue;
      masks[j][i] = 0;
      alive[j]--;
      cut += cost(s.layers[j]);
    }
    s.layers.forEach((l, j) => applyMask(l.module, 'weight', masks[j]));
  };
  return {
    afterStep(step) {
      const target = updates.get(step);
      if (target !== undefined) pruneTo(target);
    },
    finish() {
      // A run shorter than planned (early stop) still ends at the target.
      pruneTo(opts.target);
    },
  };
}
