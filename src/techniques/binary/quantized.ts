// Training-time binarization (spec 06 section A; BinaryNet, XNOR-Net, Larq): latent float
// weights, binarized with sign on every forward, gradients through the straight-through
// estimator, latent weights clipped to [−clip, clip] after every change.
import { Rng } from '../../core/rng.js';
import { Tensor } from '../../core/tensor.js';
import * as F from '../../ops/index.js';
import { steSign } from './ste.js';
import { uniform_ } from '../../nn/init.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { registerLayer, specInt } from '../../nn/spec.js';
import { convPlan, linearPlan, registerLayerFields, type Fields, type LayerPlan } from '../../nn/spec-plan.js';
import type { CostReport } from '../../report/profile.js';

/** 'ste_sign': sign with the clipped straight-through gradient; 'none': full precision. */
export type Quantizer = 'ste_sign' | 'none';

export interface BinaryOptions {
  /** Quantizer of the layer's input (default 'ste_sign'; 'none' for a full-precision input, e.g. the image). */
  inputQuantizer?: Quantizer;
  /** Quantizer of the weights (default 'ste_sign'). */
  kernelQuantizer?: Quantizer;
  /** Latent weights are kept in [−clip, clip] (default 1, as BinaryNet and Larq); null: no clipping (warned). */
  clip?: number | null;
  /** 'channel': XNOR-Net's α = mean |W| per output channel times sign(W) (default 'none': ±1). */
  scale?: 'none' | 'channel';
  bias?: boolean;
  rng?: Rng;
}

let warnedNoClip = false;
/** Once per process: binary weights without clipping drift and stop flipping sign. */
function warnNoClip(layer: string): void {
  if (warnedNoClip) return;
  warnedNoClip = true;
  console.warn(
    `${layer}: binary weights without clipping (clip: null): latent weights can grow without bound, and a weight ` +
      `far from 0 never flips sign again; BinaryNet and Larq clip them to [−1, 1] (clip: 1)`,
  );
}

function checkQuantizer(layer: string, name: string, q: unknown): Quantizer {
  if (q !== 'ste_sign' && q !== 'none')
    throw new Error(`${layer}: ${name} must be 'ste_sign' or 'none', got ${JSON.stringify(q)}`);
  return q;
}

/** Shared parts of the binarized layers: quantizers, clipping, scaling. */
export abstract class QuantizedLayer extends Module {
  weight!: Tensor;
  bias: Tensor | null = null;
  readonly inputQuantizer: Quantizer;
  readonly kernelQuantizer: Quantizer;
  readonly clip: number | null;
  readonly scale: 'none' | 'channel';
  private clippedVersion = -1;
  constructor(
    readonly kind: string,
    opts: BinaryOptions,
  ) {
    super();
    this.inputQuantizer = checkQuantizer(kind, 'inputQuantizer', opts.inputQuantizer ?? 'ste_sign');
    this.kernelQuantizer = checkQuantizer(kind, 'kernelQuantizer', opts.kernelQuantizer ?? 'ste_sign');
    this.clip = opts.clip === undefined ? 1 : opts.clip;
    if (this.clip !== null && !(this.clip > 0))
      throw new Error(`${kind}: clip must be a positive number or null, got ${this.clip}`);
    this.scale = opts.scale ?? 'none';
    if (this.scale !== 'none' && this.scale !== 'channel')
      throw new Error(`${kind}: scale must be 'none' or 'channel', got ${JSON.stringify(this.scale)}`);
    if (this.clip === null && this.kernelQuantizer === 'ste_sign') warnNoClip(kind);
  }

  /** The weights as the forward uses them: ±1 (times α per output channel with scale 'channel'). */
  quantizedWeight(): Tensor {
    this.clipLatent();
    if (this.kernelQuantizer === 'none') return this.weight;
    const b = steSign(this.weight, this.clip ?? Infinity);
    if (this.scale === 'none') return b;
    const axes = this.weight.shape.map((_, i) => i).slice(1);
    return F.mul(b, F.mean(F.abs(this.weight), axes, true));
  }

  /** The input as the layer sees it: sign(x) with the clipped straight-through gradient, or x. */
  quantizedInput(x: Tensor): Tensor {
    return this.inputQuantizer === 'ste_sign' ? steSign(x, 1) : x;
  }

  /** Keep the latent weights in [−clip, clip]: done before each use when they changed (after every optimizer step). */
  clipLatent(): void {
    if (this.clip === null || this.clippedVersion === this.weight.version) return;
    const w = this.weight.data,
      c = this.clip;
    for (let i = 0; i < w.length; i++) w[i] = w[i] > c ? c : w[i] < -c ? -c : w[i];
    this.clippedVersion = this.weight.markChanged().version;
  }

  /**
   * Cost for profileModel / `frugal info` (Larq's summary): every weight 1 bit when binarized;
   * MACs counted binary when input and weights both are; packed bytes = the weights as a dense
   * bit string (as a packed file stores them; the kernels' word-aligned rows are rebuilt on
   * loading) + α and bias as float32.
   */
  protected binaryCost(macs: number, rows: number): CostReport {
    const w = this.weight.size,
      bias = this.bias?.size ?? 0,
      bin = this.kernelQuantizer === 'ste_sign';
    const packedWeights = bin ? Math.ceil(w / 8) : 4 * w;
    return {
      params: w + bias,
      nonzeroParams: w + bias,
      macs,
      effectiveMacs: macs,
      extras: {
        binaryParams: bin ? w : 0,
        binaryMacs: bin && this.inputQuantizer === 'ste_sign' ? macs : 0,
        packedBytes: packedWeights + 4 * bias + (this.scale === 'channel' ? 4 * rows : 0),
      },
    };
  }

  protected quantSpec(): Record<string, unknown> {
    return {
      inputQuantizer: this.inputQuantizer,
      kernelQuantizer: this.kernelQuantizer,
      clip: this.clip,
      scale: this.scale,
      bias: !!this.bias,
    };
  }
}

/** Pad the last two axes by p with a constant (the ±1 pad value of binary 'same' convolutions). */
export function padConstant(x: Tensor, p: number, value: number): Tensor {
  if (p === 0) return x;
  const [B, C, H, W] = x.shape;
  const rows = Tensor.full([B, C, p, W], value, x.dtype);
  const tall = F.concat([rows, x, rows], 2);
  const cols = Tensor.full([B, C, H + 2 * p, p], value, x.dtype);
  return F.concat([cols, tall, cols], 3);
}

/** y = q(x)·q(W)ᵀ (+ b): a binarized fully connected layer (Larq's QuantDense). */
export class BinaryLinear extends QuantizedLayer {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    opts: BinaryOptions = {},
  ) {
    super('BinaryLinear', opts);
    if (![inFeatures, outFeatures].every((v) => Number.isInteger(v) && v >= 1))
      throw new Error(`BinaryLinear: in and out must be positive integers, got ${inFeatures}, ${outFeatures}`);
    this.weight = this.registerParameter('weight', Tensor.zeros([outFeatures, inFeatures]));
    this.bias = opts.bias ? this.registerParameter('bias', Tensor.zeros([outFeatures])) : null;
    // Latent weights uniform in the clip range, so signs start balanced and all can flip.
    uniform_(this.weight, opts.rng ?? new Rng(0), -(this.clip ?? 1), this.clip ?? 1);
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures)
      throw new Error(
        `BinaryLinear(${this.inFeatures}→${this.outFeatures}) expects [N, ${this.inFeatures}], got [${x.shape}]`,
      );
    const y = F.matmul(this.quantizedInput(x), this.quantizedWeight(), { transB: true });
    return this.bias ? F.add(y, this.bias) : y;
  }
  costReport(out: readonly number[]): CostReport {
    const spatial = out.slice(0, -1).reduce((a, b) => a * b, 1);
    return this.binaryCost(this.outFeatures * this.inFeatures * spatial, this.outFeatures);
  }
  toSpec(): LayerSpec {
    return { type: 'binary-linear', in: this.inFeatures, out: this.outFeatures, ...this.quantSpec() };
  }
}

export interface BinaryConvOptions extends BinaryOptions {
  stride?: number;
  padding?: number;
  /** The value binary inputs are padded with (+1 or −1), the same in training and in the packed kernel (default +1). */
  padValue?: 1 | -1;
}

/**
 * A binarized 2-D convolution (Larq's QuantConv2D): weight [out, in, k, k]. With a binary input
 * the padding is `padValue` (±1: there is no 0 in ±1 arithmetic); a full-precision input is
 * zero-padded as usual.
 */
export class BinaryConv2d extends QuantizedLayer {
  readonly stride: number;
  readonly padding: number;
  readonly padValue: 1 | -1;
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    opts: BinaryConvOptions = {},
  ) {
    super('BinaryConv2d', opts);
    if (![inChannels, outChannels, kernelSize].every((v) => Number.isInteger(v) && v >= 1))
      throw new Error(
        `BinaryConv2d: in, out and kernel must be positive integers, got ${inChannels}, ${outChannels}, ${kernelSize}`,
      );
    this.stride = opts.stride ?? 1;
    this.padding = opts.padding ?? 0;
    this.padValue = opts.padValue ?? 1;
    if (this.padValue !== 1 && this.padValue !== -1)
      throw new Error(`BinaryConv2d: padValue must be +1 or −1 (binary inputs have no 0), got ${opts.padValue}`);
    if (!Number.isInteger(this.stride) || this.stride < 1 || !Number.isInteger(this.padding) || this.padding < 0)
      throw new Error(
        `BinaryConv2d: stride must be ≥ 1 and padding ≥ 0 (integers), got ${this.stride}, ${this.padding}`,
      );
    this.weight = this.registerParameter('weight', Tensor.zeros([outChannels, inChannels, kernelSize, kernelSize]));
    this.bias = opts.bias ? this.registerParameter('bias', Tensor.zeros([outChannels])) : null;
    uniform_(this.weight, opts.rng ?? new Rng(0), -(this.clip ?? 1), this.clip ?? 1);
  }
  forward(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inChannels)
      throw new Error(`BinaryConv2d expects [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    const w = this.quantizedWeight();
    if (this.inputQuantizer === 'none')
      return F.conv2d(x, w, this.bias, { stride: this.stride, padding: this.padding });
    return F.conv2d(padConstant(this.quantizedInput(x), this.padding, this.padValue), w, this.bias, {
      stride: this.stride,
    });
  }
  costReport(out: readonly number[]): CostReport {
    const k2 = this.kernelSize * this.kernelSize;
    return this.binaryCost(this.outChannels * this.inChannels * k2 * out[1] * out[2], this.outChannels);
  }
  toSpec(): LayerSpec {
    return {
      type: 'binary-conv2d',
      in: this.inChannels,
      out: this.outChannels,
      kernel: this.kernelSize,
      stride: this.stride,
      padding: this.padding,
      padValue: this.padValue,
      ...this.quantSpec(),
    };
  }
}

/** Options of a binary layer spec (the fields toSpec writes). */
export function binarySpecOptions(s: LayerSpec, rng: Rng): BinaryOptions {
  const clip = s.clip === null ? null : s.clip === undefined ? 1 : Number(s.clip);
  return {
    inputQuantizer: (s.inputQuantizer ?? 'ste_sign') as Quantizer,
    kernelQuantizer: (s.kernelQuantizer ?? 'ste_sign') as Quantizer,
    clip,
    scale: (s.scale ?? 'none') as 'none' | 'channel',
    bias: s.bias === true,
    rng,
  };
}

registerLayer(
  'binary-linear',
  (s, rng) => new BinaryLinear(specInt(s, 'in'), specInt(s, 'out'), binarySpecOptions(s, rng)),
  (_s, x, f) => {
    const o = f.int('out', undefined, 1);
    return linearPlan(x, o, o * f.int('in', undefined, 1) + 2 * o); // latent weights, at most α and a bias
  },
);
registerLayer(
  'binary-conv2d',
  (s, rng) =>
    new BinaryConv2d(specInt(s, 'in'), specInt(s, 'out'), specInt(s, 'kernel'), {
      ...binarySpecOptions(s, rng),
      stride: specInt(s, 'stride', 1),
      padding: specInt(s, 'padding', 0),
      padValue: (s.padValue ?? 1) as 1 | -1,
    }),
  (_s, x, f) => binaryConvPlan(x, f, f.int('kernel', undefined, 1), 0),
);
/** The fields binarySpecOptions reads, shared by every latent binary layer type. */
export const BINARY_QUANT_FIELDS = {
  inputQuantizer: '"ste_sign" (or "none": full-precision input)',
  kernelQuantizer: '"ste_sign" (or "none")',
  clip: '1 (latent weights clipped to ±clip; null: none)',
  scale: '"none" (or "channel": a per-channel α)',
  bias: 'false',
};
registerLayerFields('binary-linear', { in: 'required', out: 'required', ...BINARY_QUANT_FIELDS });
registerLayerFields('binary-conv2d', {
  in: 'required',
  out: 'required',
  kernel: 'required',
  stride: '1',
  padding: '0',
  padValue: '1 (or -1: the value binary inputs are padded with)',
  ...BINARY_QUANT_FIELDS,
});

/**
 * Plan of a binary convolution (latent, packed or jet): weights as if dense float (an upper bound of
 * packed bits), at most α and a bias per output; the kernel is the spec's or a jet's fixed 3×3.
 */
export function binaryConvPlan(x: number[] | null, f: Fields, kernel: number, padding: number): LayerPlan {
  const o = f.int('out', undefined, 1),
    g = { out: o, kernel, stride: f.int('stride', 1, 1), padding: f.int('padding', padding) };
  return convPlan(x, 2, g, o * f.int('in', undefined, 1) * kernel * kernel + 2 * o);
}
