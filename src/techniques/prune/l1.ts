// L1 regularisation by proximal soft-thresholding, so that weights reach exactly zero
// (a plain L1 subgradient only makes them oscillate around it).
import type { Tensor } from '../../core/tensor.js';
import type { Module } from '../../nn/module.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { Callback } from '../../train/fit.js';
import { isWeightLayer } from './graph.js';
import { pruneEntry } from './reparam.js';

/** The weight tensors of every conv and linear layer (the trained tensor when pruned). */
function weightsOf(model: Module): Tensor[] {
  return model
    .namedModules()
    .filter(([, m]) => isWeightLayer(m))
    .map(([, m]) => pruneEntry(m, 'weight')?.orig ?? (m as unknown as { weight: Tensor }).weight);
}

/**
 * Soft-thresholding, the proximal map of η·λ·‖w‖₁: w ← sign(w)·max(|w| − η·λ, 0).
 * Returns how many weights are exactly zero afterwards.
 */
export function softThreshold(w: Float32Array, threshold: number): number {
  let zeros = 0;
  for (let i = 0; i < w.length; i++) {
    const v = w[i],
      a = Math.abs(v) - threshold;
    w[i] = a > 0 ? (v > 0 ? a : -a) : 0;
    if (w[i] === 0) zeros++;
  }
  return zeros;
}

/**
 * A fit() callback for L1-regularised training, min L(w) + λ‖w‖₁ over the conv and linear
 * weights (biases and batch norm excluded), by proximal gradient: after each optimizer step
 * with rate η, every weight is soft-thresholded by η·λ.
 */
export function proximalL1(model: Module, opts: { lambda: number; optimizer: Optimizer }): Callback {
  if (!(opts.lambda >= 0) || !Number.isFinite(opts.lambda))
    throw new Error(`L1: lambda must be a finite number ≥ 0, got ${opts.lambda}`);
  const ws = weightsOf(model);
  if (ws.length === 0) throw new Error('L1: the model has no conv or linear weights');
  return {
    onBatchEnd: () => {
      for (const w of ws) {
        softThreshold(w.data as Float32Array, opts.optimizer.rateOf(w) * opts.lambda);
        w.markChanged();
      }
    },
  };
}

/** λ‖w‖₁ over the conv and linear weights (for reporting the regularised objective). */
export function l1Norm(model: Module): number {
  let s = 0;
  for (const { data: w } of weightsOf(model)) for (let i = 0; i < w.length; i++) s += Math.abs(w[i]);
  return s;
}
