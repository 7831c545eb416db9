// The block architecture of Krasteva et al. 2020 (spec 09): [Conv1D(F_i, K_i, relu, 'valid') → MaxPool(2) →
// Dropout(0.3)] × N → GlobalMaxPool → Dense(1, sigmoid), with two parameter-free layers registered here.
import type { Tensor } from '../../core/tensor.js';
import { Tensor as T } from '../../core/tensor.js';
import { concat, max } from '../../ops/index.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { registerLayer, type ModelSpec } from '../../nn/spec.js';
import { registerLayerFields } from '../../nn/spec-plan.js';
import { ECG_HZ, UV_PER_LSB } from './rhythms.js';

/** [N, C, T] → [N, C]: the maximum over time (Keras GlobalMaxPooling1D), so any strip length T works. */
export class GlobalMaxPool1d extends Module {
  forward(x: Tensor): Tensor {
    if (x.rank !== 3) throw new Error(`globalmaxpool1d expects [N, C, T], got [${x.shape.join(', ')}]`);
    return max(x, [2]);
  }
  toSpec(): LayerSpec {
    return { type: 'globalmaxpool1d' };
  }
}

/**
 * [N, 1] → [N, 2] = [0, z]: one sigmoid unit as two-class logits, so cross-entropy over them is binary
 * cross-entropy of σ(z) (softmax([0, z])₁ = σ(z)) and the training loop, metrics and argmax work unchanged.
 * σ(z) is the paper's p, the probability of class 1 (non-shockable). No parameters: the count stays the paper's.
 */
export class SigmoidLogits extends Module {
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== 1) throw new Error(`sigmoidlogits expects [N, 1], got [${x.shape.join(', ')}]`);
    return concat([T.zeros([x.shape[0], 1]), x], 1);
  }
  toSpec(): LayerSpec {
    return { type: 'sigmoidlogits' };
  }
}

registerLayer(
  'globalmaxpool1d',
  () => new GlobalMaxPool1d(),
  (_s, x) => ({
    params: 0,
    out: x && x.length === 2 ? [x[0]] : null,
  }),
);
registerLayer(
  'sigmoidlogits',
  () => new SigmoidLogits(),
  (_s, x) => ({
    params: 0,
    out: x && x.length === 1 && x[0] === 1 ? [2] : null,
  }),
);
registerLayerFields('globalmaxpool1d', {});
registerLayerFields('sigmoidlogits', {});

/** A setting of spec 09's hyperparameters: N blocks with F_i filters of kernel K_i. */
export interface EcgParams {
  filters: number[];
  kernels: number[];
}

/** The best setting of Krasteva et al. 2020 (abstract): N = 5, F = {20, 15, 15, 10, 5}, K = 10 ×5; 7521 parameters. */
export const ECG_PAPER_BEST: EcgParams = { filters: [20, 15, 15, 10, 5], kernels: [10, 10, 10, 10, 10] };

/**
 * Fixed input scale (not trained, not counted): counts / 400, i.e. 1 mV ↦ 1 unit at 2.5 µV/LSB. The paper feeds
 * raw counts (scale ~100–1000); we keep raw counts in the data and state this scaling in the model (spec 09,
 * pitfalls), so Adam's default steps suit the first layer.
 */
export const ECG_INPUT_SCALE = 1000 / UV_PER_LSB;

/** Sequence length before global max-pooling with 'valid' padding: T → ⌊(T − K_i + 1) / 2⌋ per block. */
export function ecgLengths(p: EcgParams, samples = 5 * ECG_HZ): number[] {
  const out: number[] = [];
  let t = samples;
  for (const k of p.kernels) out.push((t = Math.floor((t - k + 1) / 2)));
  return out;
}

/**
 * The fewest input samples a setting accepts under 'valid' padding: m_N = 1, m_{i−1} = 2 m_i + K_i − 1. The paper's
 * best setting (K = 10 ×5) needs 311 (2.49 s at 125 Hz).
 */
export function ecgMinSamples(p: EcgParams): number {
  let m = 1;
  for (let i = p.kernels.length - 1; i >= 0; i--) m = 2 * m + p.kernels[i] - 1;
  return m;
}

/**
 * The network of spec 09 for a setting {N, F_i, K_i}: per block Conv1D(F_i, K_i, bias, 'valid') → ReLU →
 * MaxPool(2) → Dropout(0.3); then GlobalMaxPool → Dense(F_N → 1) → sigmoid. Parameters
 * Σ_i F_i (F_{i−1} K_i + 1) + F_N + 1 with F_0 = 1: the paper's best {F = 20, 15, 15, 10, 5; K = 10 ×5} has 7521.
 *
 * @example
 * const spec = ecgModelSpec({ filters: [20, 15, 15, 10, 5], kernels: [10, 10, 10, 10, 10] });
 * buildModel(spec).parameterCount(); // 7521
 */
export function ecgModelSpec(p: EcgParams, samples = 5 * ECG_HZ): ModelSpec {
  const n = p.filters.length;
  if (n < 1 || n !== p.kernels.length)
    throw new Error(`ecgModelSpec: filters (${n}) and kernels (${p.kernels.length}) must be N ≥ 1 each`);
  for (const k of ['filters', 'kernels'] as const)
    if (p[k].some((v) => !Number.isInteger(v) || v < 1))
      throw new Error(`ecgModelSpec: every entry of ${k} must be an integer ≥ 1, got [${p[k]}]`);
  const len = ecgLengths(p, samples);
  if (len[n - 1] < 1)
    throw new Error(
      `ecgModelSpec: kernels [${p.kernels}] shrink ${samples} samples to ${len.join(' → ')} under 'valid' padding; ` +
        'use smaller kernels or fewer blocks',
    );
  const layers: LayerSpec[] = [{ type: 'normalize', mean: [0], std: [ECG_INPUT_SCALE] }];
  let c = 1;
  p.filters.forEach((f, i) => {
    layers.push(
      { type: 'conv1d', in: c, out: f, kernel: p.kernels[i] },
      { type: 'relu' },
      { type: 'maxpool1d', kernel: 2 },
      { type: 'dropout', p: 0.3 },
    );
    c = f;
  });
  layers.push({ type: 'globalmaxpool1d' }, { type: 'linear', in: c, out: 1 }, { type: 'sigmoidlogits' });
  return { format: 'frugal-model', version: 1, input: [1, samples], layers };
}

/** Trainable parameters of a setting, by the formula above (no model built). */
export function ecgParamCount(p: EcgParams): number {
  let c = 1,
    s = 0;
  p.filters.forEach((f, i) => {
    s += f * (c * p.kernels[i] + 1);
    c = f;
  });
  return s + c + 1;
}
