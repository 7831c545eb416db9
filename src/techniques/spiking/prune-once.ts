// One-shot magnitude pruning of an L1-trained network, with no retraining (Lee et al.: "applying L1
// regularization eliminates the need for a re-training procedure"). The threshold rule is ours (spec 07):
// the largest θ whose validation accuracy drop is ≤ 0.1 pt.
import type { Module } from '../../nn/module.js';
import type { ImageDataset } from '../../data/dataset.js';
import { evaluate } from '../../train/metrics.js';
import { weightLayers } from './device.js';

/** What a threshold removed: connections of conv and linear weights, per layer and in total. */
export interface PruneResult {
  threshold: number;
  removed: number;
  total: number;
  /** Share of connections that are zero afterwards (including those the L1 training already zeroed). */
  fraction: number;
  perLayer: { total: number; zero: number }[];
}

function zeros(model: Module): PruneResult {
  const perLayer = weightLayers(model).map((l) => {
    let z = 0;
    for (const v of l.weight.data) if (v === 0) z++;
    return { total: l.weight.size, zero: z };
  });
  const total = perLayer.reduce((a, l) => a + l.total, 0),
    zero = perLayer.reduce((a, l) => a + l.zero, 0);
  return { threshold: 0, removed: 0, total, fraction: total ? zero / total : 0, perLayer };
}

/**
 * Zero every conv/linear weight with |w| < θ (weights with |w| ≥ θ are untouched). Refuses, changing
 * nothing, when θ would remove every weight of a layer (the network would be cut in two).
 */
export function pruneByThreshold(model: Module, threshold: number): PruneResult {
  if (!(threshold >= 0) || !Number.isFinite(threshold))
    throw new Error(`prune: threshold must be a finite number ≥ 0, got ${threshold}`);
  const ls = weightLayers(model);
  if (!ls.length) throw new Error('prune: the model has no conv or linear weights');
  ls.forEach((l, i) => {
    let kept = 0;
    for (const v of l.weight.data) if (Math.abs(v) >= threshold) kept++;
    if (kept === 0)
      throw new Error(
        `prune: threshold ${threshold} removes every weight of weight layer ${i} (${l.toSpec().type}, ` +
          `${l.weight.size} weights, largest |w| below it); choose a smaller threshold`,
      );
  });
  let removed = 0;
  for (const l of ls) {
    const w = l.weight.data;
    for (let i = 0; i < w.length; i++)
      if (w[i] !== 0 && Math.abs(w[i]) < threshold) {
        w[i] = 0;
        removed++;
      }
    l.weight.markChanged();
  }
  return { ...zeros(model), threshold, removed };
}

/** One point of the validation accuracy against the share pruned. */
export interface PrunePoint {
  threshold: number;
  fraction: number;
  valAccuracy: number;
}

/**
 * Choose θ by the spec's rule: among thresholds at quantiles of |w| (shares 5%, 7.5%, … 95%, then 96% …
 * 99.5%), the largest whose validation accuracy is at most `maxDrop` (default 0.001 = 0.1 pt) below the
 * unpruned model's; prunes the model with it and returns the curve. A candidate that would empty a layer is
 * skipped.
 */
export function autoPrune(
  model: Module,
  val: ImageDataset,
  opts: { input: number[]; maxDrop?: number; shares?: number[] },
): { result: PruneResult; baseValAccuracy: number; valAccuracy: number; curve: PrunePoint[] } {
  const maxDrop = opts.maxDrop ?? 0.001;
  const ls = weightLayers(model);
  if (!ls.length) throw new Error('prune: the model has no conv or linear weights');
  const saved = ls.map((l) => Float32Array.from(l.weight.data));
  const restore = () =>
    ls.forEach((l, i) => {
      l.weight.data.set(saved[i]);
      l.weight.markChanged();
    });
  const mags = Float32Array.from(saved.flatMap((w) => Array.from(w, Math.abs))).sort();
  // Shares pruned every 2.5 pt from 5% to 95%, then finer near the end where accuracy falls fast.
  const shares = opts.shares ?? [
    ...Array.from({ length: 37 }, (_, k) => 0.05 + 0.025 * k),
    0.96,
    0.97,
    0.98,
    0.99,
    0.995,
  ];
  const thresholds = [
    ...new Set(shares.map((s) => mags[Math.min(mags.length - 1, Math.floor(s * mags.length))])),
  ].filter((t) => t > 0);
  const acc = () => evaluate(model, val, { shape: opts.input }).accuracy;
  const base = acc();
  const curve: PrunePoint[] = [];
  let best: PrunePoint | null = null;
  for (const t of thresholds) {
    let r: PruneResult;
    try {
      r = pruneByThreshold(model, t);
    } catch {
      continue; // empties a layer
    }
    const a = acc();
    curve.push({ threshold: t, fraction: r.fraction, valAccuracy: a });
    if (base - a <= maxDrop && (!best || t > best.threshold))
      best = { threshold: t, fraction: r.fraction, valAccuracy: a };
    restore();
  }
  const result = best ? pruneByThreshold(model, best.threshold) : { ...zeros(model), threshold: 0, removed: 0 };
  return { result, baseValAccuracy: base, valAccuracy: best?.valAccuracy ?? base, curve };
}
