// Knowledge distillation (Hinton, Vinyals & Dean 2015): the student also matches the teacher's
// softened class probabilities. Used to fine-tune a compressed model (a circulant conversion,
// a pruned net) from the dense model it came from.
import { noGrad, Tensor } from '../core/tensor.js';
import { add, crossEntropy, logSoftmax, mul, softmax, sum } from '../ops/index.js';
import type { Module } from '../nn/module.js';
import type { LossFn } from './step.js';

export interface DistillOptions {
  /** The trained model to imitate; run in eval mode without gradients. */
  teacher: Module;
  /** Softening temperature T ≥ 1 (default 4). */
  temperature?: number;
  /** Weight α ∈ [0, 1] of the teacher term; 1 − α goes to the labels (default 0.5). */
  alpha?: number;
}

export function checkDistill(d: DistillOptions): { T: number; alpha: number } {
  const T = d.temperature ?? 4,
    alpha = d.alpha ?? 0.5;
  if (!(T >= 1) || !Number.isFinite(T))
    throw new Error(`distill: temperature must be a finite number ≥ 1, got ${d.temperature}`);
  if (!(alpha >= 0 && alpha <= 1)) throw new Error(`distill: alpha must lie in [0, 1], got ${d.alpha}`);
  return { T, alpha };
}

/**
 * (1 − α)·CE(logits, labels) + α·T²·KL(p_T ‖ q_T), with p_T = softmax(teacher(x)/T) and
 * q_T = softmax(logits/T), averaged over the batch. T² keeps the soft term's gradient on the
 * scale of the hard term's as T grows (Hinton et al., §2).
 */
export function distillLoss(logits: Tensor, labels: ArrayLike<number>, x: Tensor, d: DistillOptions): Tensor {
  const { T, alpha } = checkDistill(d);
  const p = noGrad(() => {
    const was = d.teacher.training;
    d.teacher.eval();
    const t = softmax(mul(d.teacher.forward(x), 1 / T));
    if (was) d.teacher.train();
    return t;
  });
  if (p.shape[0] !== logits.shape[0] || p.shape[1] !== logits.shape[1])
    throw new Error(`distill: the teacher gives [${p.shape}] where the model gives [${logits.shape}]`);
  // KL = Σ p·log p − Σ p·log q; the first sum is a constant (no gradient).
  let plogp = 0;
  for (const v of p.data) if (v > 0) plogp += v * Math.log(v);
  const n = logits.shape[0];
  const cross = mul(sum(mul(p, logSoftmax(mul(logits, 1 / T)))), -1 / n);
  const kl = add(cross, plogp / n);
  return add(mul(crossEntropy(logits, labels), 1 - alpha), mul(kl, alpha * T * T));
}

/**
 * Distillation as the loss of the backprop step: `fit(student, { step: backprop({ loss: distillation({ teacher }) })
 * })`.
 * Per-sample batch weights are not applied to it.
 */
export function distillation(d: DistillOptions): LossFn {
  checkDistill(d);
  return (out, b) => distillLoss(out, b.y, b.x, d);
}
