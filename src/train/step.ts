import type { Tensor } from '../core/tensor.js';
import { add, crossEntropy } from '../ops/index.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Batch } from '../data/dataset.js';

/** What fit() tells a training step about where it is. */
export interface StepContext {
  /** 0-based epoch. */
  epoch: number;
  /** 1-based step within the epoch. */
  step: number;
  /** The optimizer given to fit() as `optimizer`, if any. */
  optimizer?: Optimizer;
  /** Every optimizer given to fit(): `optimizer` under 'default', then `optimizers` by name. */
  optimizers: Record<string, Optimizer>;
  /** True when the sampler learns from per-sample losses: the step should return perSampleLoss. */
  wantsPerSampleLoss: boolean;
  /** True when the sampler also wants each row's gradient-norm bound: return gradNormBound. */
  wantsGradNormBound?: boolean;
  /** Throws fit()'s diagnosis (epoch, step, first bad layer) when a loss is NaN or infinite. */
  checkLoss(loss: number, x: Tensor): void;
}

/** What a step reports. Tensors are read inside the step's pooled scope and not kept. */
export interface StepResult {
  /** The batch's loss (a scalar tensor or its value), averaged over the batch. */
  loss: number | Tensor;
  /** The model's outputs [N, C], to count training accuracy; omit if accuracy has no meaning. */
  output?: Tensor;
  /** Unreduced loss of each row, passed to the sampler's observe(). */
  perSampleLoss?: Float32Array;
  /** ‖softmax(zᵢ) − e_yᵢ‖₂ of each row, for samplers that ask for it (see SampleFeedback). */
  gradNormBound?: Float32Array;
  /** Other per-batch means to average into the epoch log (by sample count). */
  metrics?: Record<string, number>;
}

/**
 * One training step on one batch (Keras's overridable `train_step`): fit() runs it inside a
 * pooled scope and does everything around it (data order, logging, validation, early stopping,
 * checkpoints and resume). A step may update any number of modules with any number of
 * optimizers, or none (closed-form or local updates).
 */
export type TrainStep = (model: Module, batch: Batch, ctx: StepContext) => StepResult;

/** A loss on the model's output for a batch. */
export type LossFn = (output: Tensor, batch: Batch, model: Module) => Tensor;

/** Cross-entropy on the batch's labels, weighted by the batch's per-sample weights when it has them. */
export const crossEntropyLoss: LossFn = (out, b) => crossEntropy(out, b.y, b.weight ? { weights: b.weight } : {});

/** ‖softmax(zᵢ) − e_yᵢ‖₂ of each row of logits [N, C] (no tape): the cross-entropy's gradient norm at the
 * logits. */
export function logitGradNorm(logits: Tensor, labels: ArrayLike<number>): Float32Array {
  const [N, C] = logits.shape,
    d = logits.data,
    out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let m = -Infinity,
      s = 0,
      q = 0;
    for (let c = 0; c < C; c++) m = Math.max(m, d[i * C + c]);
    for (let c = 0; c < C; c++) s += Math.exp(d[i * C + c] - m);
    for (let c = 0; c < C; c++) {
      const p = Math.exp(d[i * C + c] - m) / s - (c === labels[i] ? 1 : 0);
      q += p * p;
    }
    out[i] = Math.sqrt(q);
  }
  return out;
}

/** Unreduced cross-entropy of each row of logits [N, C] (no tape): feedback for samplers. */
export function perSampleCrossEntropy(logits: Tensor, labels: ArrayLike<number>): Float32Array {
  const [N, C] = logits.shape,
    d = logits.data,
    out = new Float32Array(N);
  for (let i = 0; i < N; i++) {
    let m = -Infinity,
      s = 0;
    for (let c = 0; c < C; c++) m = Math.max(m, d[i * C + c]);
    for (let c = 0; c < C; c++) s += Math.exp(d[i * C + c] - m);
    out[i] = m + Math.log(s) - d[i * C + labels[i]];
  }
  return out;
}

export interface BackpropOptions {
  /** The loss (default crossEntropyLoss); distillation(...) for knowledge distillation. */
  loss?: LossFn;
  /** Extra scalar loss added every step (Keras's add_loss), e.g. a pruning penalty. */
  regularizer?: () => Tensor;
  /** Which of fit()'s optimizers steps (default 'default', the one given as `optimizer`). */
  optimizer?: string;
}

/**
 * The default step: forward, loss, backward, one optimizer step. The loss is checked before the
 * backward pass, so a NaN never reaches the weights.
 */
export function backprop(opts: BackpropOptions = {}): TrainStep {
  const lossFn = opts.loss ?? crossEntropyLoss,
    which = opts.optimizer ?? 'default';
  return (model, batch, ctx) => {
    const optimizer = ctx.optimizers[which];
    if (!optimizer) throw new Error(`backprop step: fit() has no optimizer named '${which}'; pass it in fit's options`);
    const output = model.forward(batch.x);
    const base = lossFn(output, batch, model);
    const loss = opts.regularizer ? add(base, opts.regularizer()) : base;
    const v = loss.item();
    ctx.checkLoss(v, batch.x);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad(); // the gradients' arrays go back to the pool with the scope
    return {
      loss: v,
      output,
      ...(ctx.wantsPerSampleLoss ? { perSampleLoss: perSampleCrossEntropy(output, batch.y) } : {}),
      ...(ctx.wantsGradNormBound ? { gradNormBound: logitGradNorm(output, batch.y) } : {}),
    };
  };
}
