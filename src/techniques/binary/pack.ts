// packBinary: a trained binarized model → an inference model whose binary layers run as
// XNOR-popcount on packed bits, with batch norm + sign folded into integer thresholds (spec 06
// section B). Its integer pre-activations equal the float ±1 simulation's exactly, and so do
// its predictions: each threshold is found by evaluating the model's own batch norm on every
// integer the layer can produce, so float rounding at the boundary is reproduced too. A folded
// layer then outputs z itself (its α and bias live in the threshold): the comparison is on exact
// integers, with no multiply-add per output. With XNOR-Net scaling (scale 'channel') the
// simulation sums ±α terms where the threshold was found on α·z: equal up to float rounding, so
// a sign can differ only where the float batch norm is within rounding of 0 (an exact tie).
// Packed models save their weights as bit strings (model files' raw entries) and load back to
// the same layers.
import { Tensor, noGrad } from '../../core/tensor.js';
import { scopedEmpty } from '../../core/arena.js';
import { backendFor } from '../../backend/index.js';
import type { ConvGeom } from '../../backend/types.js';
import { sparseKernels, type Csr } from '../prune/kernels/index.js';
import { binaryKernels } from './kernels/index.js';
import { toCsr } from '../prune/sparse.js';
import * as F from '../../ops/index.js';
import { BatchNorm, Dropout, Flatten, MaxPool2d, Sequential } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { registerLayer, specInt } from '../../nn/spec.js';
import type { CostReport } from '../../report/profile.js';
import { BinaryConv2d, BinaryLinear, QuantizedLayer, binaryConvPlan } from './quantized.js';
import { linearPlan, registerLayerFields } from '../../nn/spec-plan.js';
import { NeuralJetConv2d, jetCost } from './jets.js';

type Raw = Record<string, Uint8Array | Int8Array | Int32Array>;
const words32 = (K: number) => 2 * Math.ceil(K / 64);
/** Scratch integers from the op arena: in the kernels' memory, so no call copies them (freed with the scope). */
const scratchInts = (n: number) => {
  const f = scopedEmpty([n], 'float32').data;
  return new Int32Array(f.buffer, f.byteOffset, n);
};

/** ±1 values → a dense bit string (1 for +1), and back. */
export function toBits(signs: ArrayLike<number>): Uint8Array {
  const out = new Uint8Array(Math.ceil(signs.length / 8));
  for (let i = 0; i < signs.length; i++) if (signs[i] >= 0) out[i >> 3] |= 1 << (i & 7);
  return out;
}
export function fromBits(bits: Uint8Array, n: number): Float32Array {
  if (bits.length !== Math.ceil(n / 8))
    throw new Error(
      `expected ${Math.ceil(n / 8)} bytes of packed bits for ${n} weights, got ${bits.length} (truncated or not ` +
        `this layer's)`,
    );
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = (bits[i >> 3] >> (i & 7)) & 1 ? 1 : -1;
  return out;
}

export interface PackedConfig {
  kind: 'conv' | 'linear';
  inputs: number;
  outputs: number;
  kernel: number;
  stride: number;
  padding: number;
  padValue: 1 | -1;
  /** XNOR-Net α per output channel; a bias. */
  scaled: boolean;
  bias: boolean;
}

/**
 * A binary layer at inference: the signs of its input packed to bits, XNOR-popcount against the
 * packed weights, then α·z + b per output channel (z the integer ±1 product; `integers` gives z).
 */
export class PackedBinaryLayer extends Module {
  private kernel = new Int32Array(0);
  private signs: Float32Array = new Float32Array(0);
  readonly alpha: Tensor | null;
  readonly bias: Tensor | null;
  readonly K: number;
  get outputs(): number {
    return this.cfg.outputs;
  }
  constructor(readonly cfg: PackedConfig) {
    super();
    const c = cfg;
    if (
      ![c.inputs, c.outputs, c.kernel, c.stride].every((v) => Number.isInteger(v) && v >= 1) ||
      !(c.padding >= 0) ||
      (c.padValue !== 1 && c.padValue !== -1)
    ) {
      throw new Error(`packed binary layer: bad configuration ${JSON.stringify(cfg)}`);
    }
    this.K = c.inputs * c.kernel * c.kernel;
    this.setSigns(new Float32Array(c.outputs * this.K).fill(1)); // until weights are given (from / a file)
    this.alpha = c.scaled ? this.registerBuffer('alpha', Tensor.ones([c.outputs])) : null;
    this.bias = c.bias ? this.registerBuffer('bias', Tensor.zeros([c.outputs])) : null;
  }
  /** From a trained BinaryConv2d / BinaryLinear (binary input and weights). */
  static from(l: BinaryConv2d | BinaryLinear): PackedBinaryLayer {
    const conv = l instanceof BinaryConv2d;
    const p = new PackedBinaryLayer({
      kind: conv ? 'conv' : 'linear',
      inputs: conv ? l.inChannels : l.inFeatures,
      outputs: conv ? l.outChannels : l.outFeatures,
      kernel: conv ? l.kernelSize : 1,
      stride: conv ? l.stride : 1,
      padding: conv ? l.padding : 0,
      padValue: conv ? l.padValue : 1,
      scaled: l.scale === 'channel',
      bias: !!l.bias,
    });
    p.setSigns(Float32Array.from(l.weight.data, (v) => (v >= 0 ? 1 : -1)));
    if (p.alpha) {
      const w = l.weight.data,
        per = w.length / p.outputs;
      for (let o = 0; o < p.outputs; o++) {
        let s = 0;
        for (let k = 0; k < per; k++) s += Math.abs(w[o * per + k]);
        p.alpha.data[o] = s / per;
      }
    }
    if (p.bias && l.bias) p.bias.data.set(l.bias.data);
    return p;
  }
  /** The same weights without α and bias: outputs the integer z (for a layer whose threshold holds them). */
  integerOnly(): PackedBinaryLayer {
    const p = new PackedBinaryLayer({ ...this.cfg, scaled: false, bias: false });
    p.setSigns(this.signs);
    return p;
  }
  /** Convolutions over fewer than 64 channels pack their taps back to back (no word per tap). */
  get dense(): boolean {
    return this.cfg.kind === 'conv' && this.cfg.inputs < 64;
  }
  /** 32-bit words per kernel row, as the patches are laid out. */
  private get rowInts(): number {
    const c = this.cfg;
    return c.kind === 'linear' || this.dense ? words32(this.K) : c.kernel * c.kernel * words32(c.inputs);
  }
  /** ±1 weights [out, in, k, k] → the kernel's rows: per tap, the channel bits (in whole words unless dense). */
  private setSigns(signs: Float32Array): void {
    const c = this.cfg,
      taps = c.kernel * c.kernel,
      wc = words32(c.inputs),
      bk = binaryKernels.for('float32');
    this.signs = signs;
    this.kernel = new Int32Array(c.outputs * this.rowInts);
    if (c.kind === 'linear') {
      bk.packSigns(signs, c.outputs, c.inputs, this.kernel);
      return;
    }
    // Tap-major, channel-minor order.
    const t = new Float32Array(taps * c.inputs);
    for (let o = 0; o < c.outputs; o++) {
      for (let k = 0; k < taps; k++)
        for (let i = 0; i < c.inputs; i++) t[k * c.inputs + i] = signs[(o * c.inputs + i) * taps + k];
      if (this.dense) bk.packSigns(t, 1, this.K, this.kernel.subarray(o * this.rowInts, (o + 1) * this.rowInts));
      else
        for (let k = 0; k < taps; k++)
          bk.packSigns(
            t.subarray(k * c.inputs, (k + 1) * c.inputs),
            1,
            c.inputs,
            this.kernel.subarray((o * taps + k) * wc, (o * taps + k + 1) * wc),
          );
    }
  }
  override rawEntries(): Raw {
    return { bits: toBits(this.signs) };
  }
  override loadRawEntries(e: Raw): void {
    if (!(e.bits instanceof Uint8Array))
      throw new Error('packed binary layer: the file has no packed weight bits (entry "bits")');
    this.setSigns(fromBits(e.bits, this.cfg.outputs * this.K));
  }
  /** Integer ±1 pre-activations z: [N, out] or [N, out, OH, OW] (as float32, exact). */
  integers(x: Tensor): Tensor {
    const c = this.cfg,
      be = backendFor('float32'),
      bk = binaryKernels.for('float32');
    if (c.kind === 'linear') {
      if (x.rank !== 2 || x.shape[1] !== c.inputs)
        throw new Error(`packed binary linear expects [N, ${c.inputs}], got [${x.shape}]`);
      const N = x.shape[0],
        A = scratchInts(N * words32(c.inputs)),
        Z = scratchInts(N * c.outputs);
      bk.packSigns(x.data as Float32Array, N, c.inputs, A);
      bk.bgemm(A, this.kernel, N, c.outputs, this.K, Z);
      const out = scopedEmpty([N, c.outputs], 'float32');
      out.data.set(Z);
      return out;
    }
    if (x.rank !== 4 || x.shape[1] !== c.inputs)
      throw new Error(`packed binary conv expects [N, ${c.inputs}, H, W], got [${x.shape}]`);
    const [B, C, H, W] = x.shape,
      k = c.kernel,
      p = c.padding,
      st = c.stride;
    const OH = Math.floor((H + 2 * p - k) / st) + 1,
      OW = Math.floor((W + 2 * p - k) / st) + 1;
    const g: ConvGeom = { B, C, H, W, Co: c.outputs, kh: k, kw: k, sh: st, sw: st, ph: p, pw: p, dh: 1, dw: 1, OH, OW };
    const row = this.rowInts,
      P = scratchInts(B * OH * OW * row),
      Z = scratchInts(B * OH * OW * c.outputs);
    bk.packPatches(x.data as Float32Array, g, c.padValue, P, this.dense);
    bk.bgemm(P, this.kernel, B * OH * OW, c.outputs, this.K, Z, row / 2);
    // [B·OH·OW × out] → NCHW, one transpose per image.
    const hw = OH * OW,
      n = c.outputs,
      zf = scopedEmpty([Z.length], 'float32').data,
      out = scopedEmpty([B, n, OH, OW], 'float32');
    zf.set(Z);
    for (let b = 0; b < B; b++)
      be.transpose(zf.subarray(b * hw * n, (b + 1) * hw * n), hw, n, out.data.subarray(b * hw * n, (b + 1) * hw * n));
    return out;
  }
  forward(x: Tensor): Tensor {
    return applyAffine(this.alpha, this.bias, this.integers(x));
  }
  /** Every value z can take: −K, −K+2, …, K. */
  candidates(): number[] {
    return Array.from({ length: this.K + 1 }, (_, i) => -this.K + 2 * i);
  }
  costReport(out: readonly number[]): CostReport {
    const w = this.cfg.outputs * this.K,
      extra = (this.alpha ? this.cfg.outputs : 0) + (this.bias ? this.cfg.outputs : 0);
    const macs = w * out.slice(1).reduce((a, b) => a * b, 1); // [out] or [out, OH, OW]: w MACs per position
    return {
      params: w + extra,
      nonzeroParams: w + extra,
      macs,
      effectiveMacs: macs,
      extras: { binaryParams: w, binaryMacs: macs, packedBytes: Math.ceil(w / 8) + 4 * extra },
    };
  }
  toSpec(): LayerSpec {
    const c = this.cfg;
    return c.kind === 'linear'
      ? { type: 'packed-binary-linear', in: c.inputs, out: c.outputs, scaled: c.scaled, bias: c.bias }
      : {
          type: 'packed-binary-conv2d',
          in: c.inputs,
          out: c.outputs,
          kernel: c.kernel,
          stride: c.stride,
          padding: c.padding,
          padValue: c.padValue,
          scaled: c.scaled,
          bias: c.bias,
        };
  }
}

/**
 * A neural-jet layer at inference: the signs of its input (padded with padValue), the nine jet
 * maps of every channel by the shared add/subtract tree (exact integers), and each output as the
 * ±1 combination of them (one product of exact small integers). Stored: one bit per coefficient,
 * or for the constrained layer one byte per pair (sign and jet index).
 */
export class PackedJetLayer extends Module {
  private coef: Float32Array = new Float32Array(0);
  /** Constrained layers: the coefficients as CSR (one non-zero per input–output pair), built on first use. */
  private csr: Csr | null = null;
  readonly bias: Tensor | null;
  constructor(
    readonly inputs: number,
    readonly outputs: number,
    readonly stride: number,
    readonly padding: number,
    readonly padValue: 1 | -1,
    readonly constrained: boolean,
    hasBias: boolean,
  ) {
    super();
    this.bias = hasBias ? this.registerBuffer('bias', Tensor.zeros([outputs])) : null;
    this.coef = new Float32Array(outputs * inputs * 9); // until coefficients are given (from / a file)
  }
  static from(l: NeuralJetConv2d): PackedJetLayer {
    if (l.inputQuantizer !== 'ste_sign')
      throw new Error('packBinary: a jet layer with a full-precision input is not binary; keep it as a float layer');
    const p = new PackedJetLayer(l.inChannels, l.outChannels, l.stride, l.padding, l.padValue, l.constrained, !!l.bias);
    p.coef = Float32Array.from(noGrad(() => l.coefficients()).data);
    if (p.bias && l.bias) p.bias.data.set(l.bias.data);
    return p;
  }
  /** The same coefficients without the bias: outputs the integer z (for a layer whose threshold holds it). */
  integerOnly(): PackedJetLayer {
    const c = this.constrained,
      p = new PackedJetLayer(this.inputs, this.outputs, this.stride, this.padding, this.padValue, c, false);
    p.coef = this.coef;
    return p;
  }
  override rawEntries(): Raw {
    if (!this.constrained) return { bits: toBits(this.coef) };
    // Constrained: per pair, sign·(index + 1).
    const pairs = this.outputs * this.inputs,
      jet = new Int8Array(pairs);
    for (let i = 0; i < pairs; i++)
      for (let j = 0; j < 9; j++)
        if (this.coef[i * 9 + j] !== 0) jet[i] = (this.coef[i * 9 + j] > 0 ? 1 : -1) * (j + 1);
    return { jet };
  }
  override loadRawEntries(e: Raw): void {
    const pairs = this.outputs * this.inputs;
    if (!this.constrained) {
      if (!(e.bits instanceof Uint8Array))
        throw new Error('packed jet layer: the file has no coefficient bits (entry "bits")');
      this.coef = fromBits(e.bits, pairs * 9);
      this.csr = null;
      return;
    }
    if (!(e.jet instanceof Int8Array) || e.jet.length !== pairs || e.jet.some((v) => v === 0 || Math.abs(v) > 9))
      throw new Error(`packed jet layer: entry "jet" must hold ${pairs} values ±1 … ±9`);
    this.coef = new Float32Array(pairs * 9);
    e.jet.forEach((v, i) => {
      this.coef[i * 9 + Math.abs(v) - 1] = Math.sign(v);
    });
    this.csr = null;
  }
  integers(x: Tensor): Tensor {
    if (x.rank !== 4 || x.shape[1] !== this.inputs)
      throw new Error(`packed jet layer expects [N, ${this.inputs}, H, W], got [${x.shape}]`);
    const [B, C, H, W] = x.shape,
      p = this.padding,
      st = this.stride,
      Hp = H + 2 * p,
      Wp = W + 2 * p,
      OHf = Hp - 2,
      OWf = Wp - 2;
    const OH = Math.floor((Hp - 3) / st) + 1,
      OW = Math.floor((Wp - 3) / st) + 1;
    const bk = binaryKernels.for('float32'),
      img = scopedEmpty([C * Hp * Wp], 'float32').data,
      J = scopedEmpty([C * 9 * OHf * OWf], 'float32').data;
    const out = new Float32Array(B * this.outputs * OH * OW),
      coef = new Tensor(this.coef, [this.outputs, C * 9]);
    for (let b = 0; b < B; b++) {
      bk.signPad(x.data.subarray(b * C * H * W, (b + 1) * C * H * W), C, H, W, p, this.padValue, img);
      bk.jetTree(img, C, Hp, Wp, J); // [C·9, OHf·OWf]
      let Js = J;
      if (st > 1) {
        Js = new Float32Array(C * 9 * OH * OW);
        for (let k = 0; k < C * 9; k++)
          for (let r = 0; r < OH; r++)
            for (let q = 0; q < OW; q++) Js[(k * OH + r) * OW + q] = J[(k * OHf + r * st) * OWf + q * st];
      }
      const n = OH * OW,
        o = b * this.outputs * n;
      // Constrained: Cin additions per output pixel (one jet of nine per pair) as a sparse product,
      // instead of a dense one that multiplies eight zeros for every term. Integer sums: exact either way.
      if (this.constrained)
        sparseKernels
          .for('float32')
          .spmm((this.csr ??= toCsr(this.coef, this.outputs, C * 9)), Js, n, out.subarray(o, o + this.outputs * n));
      else out.set(noGrad(() => F.matmul(coef, new Tensor(Js, [C * 9, n]))).data, o);
    }
    return new Tensor(out, [B, this.outputs, OH, OW]);
  }
  forward(x: Tensor): Tensor {
    return applyAffine(null, this.bias, this.integers(x));
  }
  /** Every integer between ±100·C (the nine jets' absolute sums total 100 per input channel). */
  candidates(): number[] {
    const m = 100 * this.inputs;
    return Array.from({ length: 2 * m + 1 }, (_, i) => i - m);
  }
  costReport(out: readonly number[]): CostReport {
    const b = this.bias ? this.outputs : 0,
      params = (this.constrained ? 1 : 9) * this.outputs * this.inputs + b;
    return {
      params,
      nonzeroParams: params,
      ...jetCost(this.inputs, this.outputs, this.stride, this.constrained, b, out),
    };
  }
  toSpec(): LayerSpec {
    return {
      type: 'packed-jet-conv2d',
      in: this.inputs,
      out: this.outputs,
      stride: this.stride,
      padding: this.padding,
      padValue: this.padValue,
      constrained: this.constrained,
      bias: !!this.bias,
    };
  }
}

function applyAffine(alpha: Tensor | null, bias: Tensor | null, z: Tensor): Tensor {
  const n = z.shape[1],
    shape = z.rank === 4 ? [1, n, 1, 1] : [1, n];
  let y = z;
  if (alpha) y = F.mul(y, F.reshape(alpha, shape));
  if (bias) y = F.add(y, F.reshape(bias, shape));
  return y;
}

/**
 * sign(batchNorm(α·z + b)) for integer z as per-channel thresholds on z itself: +1 where z ≥ t
 * (or z ≤ t when the channel's γ·α is negative). Output ±1. Its input is the integer z: packBinary
 * makes the packed layer before it output z (α and b are folded into t, not applied).
 */
export class SignThreshold extends Module {
  readonly threshold: Tensor;
  readonly upward: Tensor;
  constructor(readonly channels: number) {
    super();
    this.threshold = this.registerBuffer('threshold', Tensor.zeros([channels]));
    this.upward = this.registerBuffer('upward', Tensor.ones([channels]));
  }
  forward(z: Tensor): Tensor {
    if (z.shape[1] !== this.channels) throw new Error(`SignThreshold(${this.channels}) got [${z.shape}]`);
    const out = scopedEmpty(z.shape, 'float32'),
      per = z.size / z.shape[0] / this.channels,
      y = out.data,
      d = z.data,
      t = this.threshold.data,
      u = this.upward.data;
    for (let i0 = 0, c = 0; i0 < z.size; i0 += per, c = (c + 1) % this.channels) {
      const th = t[c];
      if (u[c]) {
        for (let i = i0; i < i0 + per; i++) y[i] = d[i] >= th ? 1 : -1;
      } else {
        for (let i = i0; i < i0 + per; i++) y[i] = d[i] <= th ? 1 : -1;
      }
    }
    return out;
  }
  toSpec(): LayerSpec {
    return { type: 'sign-threshold', channels: this.channels };
  }
}

/** Thresholds reproducing sign(bn(α·z + b)) on every integer z the layer can produce. */
function foldThresholds(layer: PackedBinaryLayer | PackedJetLayer, bn: BatchNorm): SignThreshold {
  const C = layer.outputs,
    zs = layer.candidates(),
    n = zs.length;
  const zt = new Float32Array(n * C);
  for (let i = 0; i < n; i++) zt.fill(zs[i], i * C, (i + 1) * C);
  const z = new Tensor(zt, bn.dims === 2 ? [n, C, 1, 1] : [n, C]);
  const y = noGrad(() =>
    bn.forward(
      layer instanceof PackedBinaryLayer ? applyAffine(layer.alpha, layer.bias, z) : applyAffine(null, layer.bias, z),
    ),
  ).data;
  const out = new SignThreshold(C),
    threshold = out.threshold.data,
    upward = out.upward.data;
  for (let c = 0; c < C; c++) {
    const pos = zs.map((_, i) => y[i * C + c] >= 0);
    const first = pos.indexOf(true),
      last = pos.lastIndexOf(true);
    if (first < 0) {
      threshold[c] = Infinity;
      upward[c] = 1;
      continue;
    }
    // Monotone in z: the +1 set is a suffix (γ > 0) or a prefix (γ < 0).
    if (last === n - 1 && pos.slice(first).every(Boolean)) {
      threshold[c] = zs[first];
      upward[c] = 1;
    } else if (first === 0 && pos.slice(0, last + 1).every(Boolean)) {
      threshold[c] = zs[last];
      upward[c] = 0;
    } else
      throw new Error(
        `packBinary: batch norm channel ${c} is not monotone in its input (γ = ${bn.weight.data[c]}); cannot ` +
          `fold it into a threshold`,
      );
  }
  return out;
}

/** Layers that commute with sign on their way to the next binary layer. */
const signTransparent = (l: Module) => l instanceof MaxPool2d || l instanceof Flatten || l instanceof Dropout;

export interface PackReport {
  packed: number[];
  folded: number[];
  keptFloat: number[];
}

/**
 * The inference model of a trained binarized Sequential: every BinaryConv2d / BinaryLinear
 * (binary input and weights) becomes a PackedBinaryLayer, every NeuralJetConv2d a PackedJetLayer;
 * a batch norm after one whose output only reaches a binary layer's input (through max-pooling,
 * flatten, dropout) becomes a SignThreshold. Full-precision layers are kept. Eval mode.
 */
export function packBinary(model: Module): { model: Sequential; report: PackReport } {
  if (!(model instanceof Sequential))
    throw new Error('packBinary works on a Sequential model (as built from a model spec)');
  model.eval();
  const src = model.layers,
    out: Module[] = [],
    report: PackReport = { packed: [], folded: [], keptFloat: [] };
  for (let i = 0; i < src.length; i++) {
    const l = src[i];
    if (l instanceof BinaryConv2d || l instanceof BinaryLinear || l instanceof NeuralJetConv2d) {
      if (!(l instanceof NeuralJetConv2d) && (l.kernelQuantizer !== 'ste_sign' || l.inputQuantizer !== 'ste_sign')) {
        throw new Error(
          `packBinary: layer ${i} (${l.kind}) has a full-precision ` +
            `${l.kernelQuantizer !== 'ste_sign' ? 'kernel' : 'input'}; only layers with binary inputs and ` +
            `weights run as XNOR-popcount (keep a full-precision first layer as a float layer before them)`,
        );
      }
      const p = l instanceof NeuralJetConv2d ? PackedJetLayer.from(l) : PackedBinaryLayer.from(l);
      report.packed.push(i);
      const bn = src[i + 1];
      let j = i + 2;
      while (j < src.length && signTransparent(src[j])) j++;
      const next = src[j];
      if (bn instanceof BatchNorm && next instanceof QuantizedLayer && next.inputQuantizer === 'ste_sign') {
        // z → ±1 directly; pre-activations feed the BN only through this threshold. The thresholds are
        // found on z with α and b applied, so the layer outputs z itself: exact integer comparisons.
        out.push(p.integerOnly(), foldThresholds(p, bn));
        report.folded.push(i + 1);
        i++;
      } else out.push(p);
      continue;
    }
    out.push(l);
    report.keptFloat.push(i);
  }
  const packed = new Sequential(...out);
  packed.eval();
  return { model: packed, report };
}

const pad = (s: LayerSpec) => (s.padValue ?? 1) as 1 | -1;
registerLayer(
  'packed-binary-conv2d',
  (s) =>
    new PackedBinaryLayer({
      kind: 'conv',
      inputs: specInt(s, 'in'),
      outputs: specInt(s, 'out'),
      kernel: specInt(s, 'kernel'),
      stride: specInt(s, 'stride', 1),
      padding: specInt(s, 'padding', 0),
      padValue: pad(s),
      scaled: s.scaled === true,
      bias: s.bias === true,
    }),
  (_s, x, f) => binaryConvPlan(x, f, f.int('kernel', undefined, 1), 0),
);
registerLayer(
  'packed-binary-linear',
  (s) =>
    new PackedBinaryLayer({
      kind: 'linear',
      inputs: specInt(s, 'in'),
      outputs: specInt(s, 'out'),
      kernel: 1,
      stride: 1,
      padding: 0,
      padValue: 1,
      scaled: s.scaled === true,
      bias: s.bias === true,
    }),
  (_s, x, f) => {
    const o = f.int('out', undefined, 1);
    return linearPlan(x, o, o * f.int('in', undefined, 1) + 2 * o);
  },
);
registerLayer(
  'packed-jet-conv2d',
  (s) =>
    new PackedJetLayer(
      specInt(s, 'in'),
      specInt(s, 'out'),
      specInt(s, 'stride', 1),
      specInt(s, 'padding', 1),
      pad(s),
      s.constrained === true,
      s.bias === true,
    ),
  (_s, x, f) => binaryConvPlan(x, f, 3, 1),
);
registerLayer(
  'sign-threshold',
  (s) => new SignThreshold(specInt(s, 'channels')),
  (_s, x, f) => ({ params: f.int('channels', undefined, 1), out: x }),
);
const packedFields = { scaled: 'false (true: a per-channel α)', bias: 'false' };
registerLayerFields('packed-binary-linear', { in: 'required', out: 'required', ...packedFields });
registerLayerFields('packed-binary-conv2d', {
  in: 'required',
  out: 'required',
  kernel: 'required',
  stride: '1',
  padding: '0',
  padValue: '1 (or -1)',
  ...packedFields,
});
registerLayerFields('packed-jet-conv2d', {
  in: 'required',
  out: 'required',
  stride: '1',
  padding: '1',
  padValue: '1 (or -1)',
  constrained: 'false',
  bias: 'false',
});
registerLayerFields('sign-threshold', { channels: 'required (thresholds come from the weights file)' });
