import { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';
import * as F from '../ops/index.js';
import { kaimingUniform_, uniform_, fans } from './init.js';
import { Module, type LayerSpec } from './module.js';
import { fusedForward, fusing } from './fuse.js';

function checkInt(layer: string, name: string, v: unknown, min = 1): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min) {
    throw new Error(`${layer}: ${name} must be an integer ≥ ${min}, got ${JSON.stringify(v)}`);
  }
  return v;
}

/** y = x·Wᵀ + b with W [out, in] (PyTorch layout). Init: PyTorch's default U(±1/√in). */
export class Linear extends Module {
  weight: Tensor;
  bias: Tensor | null;
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: { bias?: boolean; rng?: Rng } = {},
  ) {
    super();
    checkInt('Linear', 'in', inFeatures);
    checkInt('Linear', 'out', outFeatures);
    this.weight = this.registerParameter('weight', Tensor.zeros([outFeatures, inFeatures]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outFeatures]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  resetParameters(rng: Rng): void {
    kaimingUniform_(this.weight, rng, Math.sqrt(5));
    if (this.bias) {
      const b = 1 / Math.sqrt(this.inFeatures);
      uniform_(this.bias, rng, -b, b);
    }
  }
  forward(x: Tensor): Tensor {
    if (x.shape[x.rank - 1] !== this.inFeatures) {
      throw new Error(
        `Linear(${this.inFeatures}→${this.outFeatures}) got input with last dimension ${x.shape[x.rank - 1]} ` +
          `(shape [${x.shape}])`,
      );
    }
    const y = F.matmul(x, this.weight, { transB: true });
    return this.bias ? F.add(y, this.bias) : y;
  }
  toSpec(): LayerSpec {
    return { type: 'linear', in: this.inFeatures, out: this.outFeatures, bias: !!this.bias };
  }
}

export interface ConvOptions {
  stride?: number;
  padding?: number;
  dilation?: number;
  bias?: boolean;
  rng?: Rng;
}

/** Shared parts of Conv1d and Conv2d: weight [out, in, k] or [out, in, k, k], PyTorch's default init. */
abstract class ConvLayer extends Module {
  weight: Tensor;
  bias: Tensor | null;
  readonly stride: number;
  readonly padding: number;
  readonly dilation: number;
  constructor(
    readonly dims: 1 | 2,
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: ConvOptions,
  ) {
    super();
    const name = `Conv${dims}d`;
    checkInt(name, 'in', inChannels);
    checkInt(name, 'out', outChannels);
    checkInt(name, 'kernel', kernelSize);
    this.stride = checkInt(name, 'stride', opts.stride ?? 1);
    this.padding = checkInt(name, 'padding', opts.padding ?? 0, 0);
    this.dilation = checkInt(name, 'dilation', opts.dilation ?? 1);
    const k = dims === 2 ? [kernelSize, kernelSize] : [kernelSize];
    this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels, ...k]));
    this.bias = opts.bias === false ? null : this.registerParameter('bias', Tensor.zeros([outChannels]));
    this.resetParameters(opts.rng ?? new Rng(0));
  }
  resetParameters(rng: Rng): void {
    kaimingUniform_(this.weight, rng, Math.sqrt(5));
    if (this.bias) {
      const b = 1 / Math.sqrt(fans(this.weight.shape).fanIn);
      uniform_(this.bias, rng, -b, b);
    }
  }
  toSpec(): LayerSpec {
    return {
      type: `conv${this.dims}d`,
      in: this.inChannels,
      out: this.outChannels,
      kernel: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      dilation: this.dilation,
      bias: !!this.bias,
    };
  }
}

/** 2-D convolution layer; weight [out, in, k, k]. */
export class Conv2d extends ConvLayer {
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvOptions = {}) {
    super(2, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return F.conv2d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }
}

/** 1-D convolution layer over [N, C, L]; weight [out, in, k]. */
export class Conv1d extends ConvLayer {
  constructor(inChannels: number, outChannels: number, kernelSize: number, opts: ConvOptions = {}) {
    super(1, inChannels, outChannels, kernelSize, opts);
  }
  forward(x: Tensor): Tensor {
    return F.conv1d(x, this.weight, this.bias, { stride: this.stride, padding: this.padding, dilation: this.dilation });
  }
}

export class MaxPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride = kernelSize,
    readonly padding = 0,
  ) {
    super();
    checkInt('MaxPool2d', 'kernel', kernelSize);
    checkInt('MaxPool2d', 'stride', stride);
  }
  forward(x: Tensor): Tensor {
    return F.maxPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  toSpec(): LayerSpec {
    return { type: 'maxpool2d', kernel: this.kernelSize, stride: this.stride, padding: this.padding };
  }
}

export class AvgPool2d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride = kernelSize,
    readonly padding = 0,
  ) {
    super();
    checkInt('AvgPool2d', 'kernel', kernelSize);
    checkInt('AvgPool2d', 'stride', stride);
  }
  forward(x: Tensor): Tensor {
    return F.avgPool2d(x, this.kernelSize, { stride: this.stride, padding: this.padding });
  }
  toSpec(): LayerSpec {
    return { type: 'avgpool2d', kernel: this.kernelSize, stride: this.stride, padding: this.padding };
  }
}

export class MaxPool1d extends Module {
  constructor(
    readonly kernelSize: number,
    readonly stride = kernelSize,
  ) {
    super();
    checkInt('MaxPool1d', 'kernel', kernelSize);
    checkInt('MaxPool1d', 'stride', stride);
  }
  forward(x: Tensor): Tensor {
    return F.maxPool1d(x, this.kernelSize, { stride: this.stride });
  }
  toSpec(): LayerSpec {
    return { type: 'maxpool1d', kernel: this.kernelSize, stride: this.stride };
  }
}

/** [N, C, H, W] → [N, C] by average or max. */
export class GlobalPool2d extends Module {
  constructor(readonly mode: 'avg' | 'max' = 'avg') {
    super();
    if (mode !== 'avg' && mode !== 'max')
      throw new Error(`GlobalPool2d: mode must be 'avg' or 'max', got ${JSON.stringify(mode)}`);
  }
  forward(x: Tensor): Tensor {
    return this.mode === 'avg' ? F.globalAvgPool2d(x) : F.globalMaxPool2d(x);
  }
  toSpec(): LayerSpec {
    return { type: 'globalpool2d', mode: this.mode };
  }
}

/** Batch norm over channels of [N, C] (1d) or [N, C, H, W] (2d), with affine γ, β and running statistics. */
export class BatchNorm extends Module {
  weight: Tensor;
  bias: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
  constructor(
    readonly numFeatures: number,
    readonly dims: 1 | 2,
    readonly momentum = 0.1,
    readonly eps = 1e-5,
  ) {
    super();
    checkInt(`BatchNorm${dims}d`, 'features', numFeatures);
    if (!(momentum >= 0 && momentum <= 1)) throw new Error(`BatchNorm: momentum must be in [0, 1], got ${momentum}`);
    if (!(eps > 0)) throw new Error(`BatchNorm: eps must be positive, got ${eps}`);
    this.weight = this.registerParameter('weight', Tensor.ones([numFeatures]));
    this.bias = this.registerParameter('bias', Tensor.zeros([numFeatures]));
    this.runningMean = this.registerBuffer('runningMean', Tensor.zeros([numFeatures]));
    this.runningVar = this.registerBuffer('runningVar', Tensor.ones([numFeatures]));
  }
  forward(x: Tensor): Tensor {
    const want = this.dims === 1 ? 2 : 4;
    if (x.rank !== want) throw new Error(`BatchNorm${this.dims}d expects rank-${want} input, got [${x.shape}]`);
    return F.batchNorm(x, this.weight, this.bias, this.runningMean, this.runningVar, {
      training: this.training,
      momentum: this.momentum,
      eps: this.eps,
    });
  }
  toSpec(): LayerSpec {
    return { type: `batchnorm${this.dims}d`, features: this.numFeatures, momentum: this.momentum, eps: this.eps };
  }
}

export class BatchNorm1d extends BatchNorm {
  constructor(numFeatures: number, momentum?: number, eps?: number) {
    super(numFeatures, 1, momentum, eps);
  }
}
export class BatchNorm2d extends BatchNorm {
  constructor(numFeatures: number, momentum?: number, eps?: number) {
    super(numFeatures, 2, momentum, eps);
  }
}

/** Inverted dropout, active in training mode only. */
export class Dropout extends Module {
  private rng: Rng;
  constructor(
    readonly p = 0.5,
    seed = 0,
  ) {
    super();
    if (!(p >= 0 && p < 1)) throw new Error(`Dropout: p must be in [0, 1), got ${p}`);
    this.rng = new Rng(seed);
  }
  forward(x: Tensor): Tensor {
    return F.dropout(x, this.p, this.rng, this.training);
  }
  /** Stream state, saved in checkpoints so a resumed run draws the same masks. */
  rngState(): number[] {
    return this.rng.getState();
  }
  setRngState(s: number[]): void {
    this.rng.setState(s);
  }
  toSpec(): LayerSpec {
    return { type: 'dropout', p: this.p };
  }
}

/**
 * Fixed input standardisation y = (x − mean_c) / std_c over the channel axis 1 (one value
 * each, or one for all channels), like torchvision's `Normalize` or Keras' `Normalization`
 * with given statistics. No trainable parameters; the statistics live in the model spec, so a
 * saved model normalises its own inputs wherever it is evaluated.
 */
export class Normalize extends Module {
  readonly mean: number[];
  readonly std: number[];
  private consts = new Map<string, [Tensor, Tensor]>();
  constructor(mean: number | number[], std: number | number[]) {
    super();
    const m = typeof mean === 'number' ? [mean] : mean,
      s = typeof std === 'number' ? [std] : std;
    if (!Array.isArray(m) || m.length === 0 || m.some((v) => typeof v !== 'number' || !Number.isFinite(v)))
      throw new Error(
        `Normalize: mean must be a finite number or a non-empty array of them, got ${JSON.stringify(mean)}`,
      );
    if (!Array.isArray(s) || s.some((v) => typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)))
      throw new Error(`Normalize: std must be positive finite numbers, got ${JSON.stringify(std)}`);
    if (m.length !== s.length)
      throw new Error(
        `Normalize: mean has ${m.length} values but std has ${s.length}; give one per channel, or one of each`,
      );
    this.mean = [...m];
    this.std = [...s];
  }
  forward(x: Tensor): Tensor {
    const C = this.mean.length;
    if (x.rank < 2) throw new Error(`Normalize expects a batch [N, C, ...], got [${x.shape}]`);
    if (C !== 1 && x.shape[1] !== C)
      throw new Error(
        `Normalize has statistics for ${C} channels but the input has ${x.shape[1]} (shape [${x.shape}])`,
      );
    // y = x·(1/std) + (−mean/std), broadcast over [1, C, 1, …] (a scalar when C = 1).
    const shape = C === 1 ? [1] : [C, ...new Array(x.rank - 2).fill(1)];
    const key = shape.join(',');
    let k = this.consts.get(key);
    if (!k) {
      k = [
        new Tensor(
          Float32Array.from(this.std, (s) => 1 / s),
          shape,
        ),
        new Tensor(
          Float32Array.from(this.mean, (m, c) => -m / this.std[c]),
          shape,
        ),
      ];
      this.consts.set(key, k);
    }
    return F.add(F.mul(x, k[0]), k[1]);
  }
  toSpec(): LayerSpec {
    return { type: 'normalize', mean: [...this.mean], std: [...this.std] };
  }
}

export class Flatten extends Module {
  forward(x: Tensor): Tensor {
    return F.flatten(x, 1);
  }
  toSpec(): LayerSpec {
    return { type: 'flatten' };
  }
}

type ActName = 'relu' | 'sigmoid' | 'tanh' | 'leakyrelu' | 'hardtanh' | 'softmax' | 'logsoftmax';

/** Parameter-free activation layer. */
export class Activation extends Module {
  constructor(
    readonly kind: ActName,
    readonly slope = 0.01,
  ) {
    super();
    if (!['relu', 'sigmoid', 'tanh', 'leakyrelu', 'hardtanh', 'softmax', 'logsoftmax'].includes(kind)) {
      throw new Error(`unknown activation ${JSON.stringify(kind)}`);
    }
  }
  forward(x: Tensor): Tensor {
    switch (this.kind) {
      case 'relu':
        return F.relu(x);
      case 'sigmoid':
        return F.sigmoid(x);
      case 'tanh':
        return F.tanh(x);
      case 'leakyrelu':
        return F.leakyRelu(x, this.slope);
      case 'hardtanh':
        return F.hardtanh(x);
      case 'softmax':
        return F.softmax(x);
      case 'logsoftmax':
        return F.logSoftmax(x);
    }
  }
  toSpec(): LayerSpec {
    return this.kind === 'leakyrelu' ? { type: this.kind, slope: this.slope } : { type: this.kind };
  }
}

export const ReLU = (): Activation => new Activation('relu');
export const Sigmoid = (): Activation => new Activation('sigmoid');
export const Tanh = (): Activation => new Activation('tanh');
export const LeakyReLU = (slope = 0.01): Activation => new Activation('leakyrelu', slope);
export const Hardtanh = (): Activation => new Activation('hardtanh');

/** Layers applied in order; children are named '0', '1', …. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(...layers: Module[]) {
    super();
    this.layers = layers;
    layers.forEach((l, i) => this.registerModule(String(i), l));
  }
  /** In eval mode under noGrad, a layer followed by a ReLU runs as one fused kernel (nn/fuse.ts; same bits). */
  forward(x: Tensor): Tensor {
    if (fusing(this.training)) return fusedForward(this.layers, x);
    for (const l of this.layers) x = l.forward(x);
    return x;
  }
  /**
   * Forward that reports the first layer whose output holds a NaN or ±∞
   * (used to name the culprit when a loss goes non-finite).
   */
  firstNonFinite(x: Tensor): { index: number; layer: string } | null {
    for (let i = 0; i < this.layers.length; i++) {
      x = this.layers[i].forward(x);
      for (let k = 0; k < x.size; k++)
        if (!Number.isFinite(x.data[k])) return { index: i, layer: this.layers[i].toSpec().type };
    }
    return null;
  }
  toSpec(): LayerSpec {
    return { type: 'sequential', layers: this.layers.map((l) => l.toSpec()) };
  }
}
