// packBinary: a trained binarized model → an inference model whose binary layers run as
// XNOR-popcount on packed bits, with batch norm + sign folded into integer thresholds (spec 06
// section B). Its integer pre-activations equal the float ±1 simulation's exactly, and so do
// its predictions: each threshold is found by evaluating the model's own batch norm on every
// integer the layer can produce, so float rounding at the boundary is reproduced too. With
// XNOR-Net scaling (scale 'channel') the simulation sums ±α terms where the packed layer
// computes α·z: equal up to float rounding, not bit for bit.
import { Tensor, noGrad } from '../../core/tensor.js';
import { backendFor } from '../../backend/index.js';
import type { ConvGeom } from '../../backend/types.js';
import * as F from '../../ops/index.js';
import { BatchNorm, Dropout, Flatten, MaxPool2d, Sequential } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { BinaryConv2d, BinaryLinear, QuantizedLayer } from './quantized.js';
import { NeuralJetConv2d, jetTree } from './jets.js';

const words32 = (K: number) => 2 * Math.ceil(K / 64);

/** Only layers with binary inputs and weights run as XNOR-popcount. */
function checkPackable(l: QuantizedLayer, i: number): void {
  if (l.kernelQuantizer !== 'ste_sign' || l.inputQuantizer !== 'ste_sign') {
    throw new Error(`packBinary: layer ${i} (${l.kind}) has a full-precision ${l.kernelQuantizer !== 'ste_sign' ? 'kernel' : 'input'}; only layers with binary inputs and weights run as XNOR-popcount (keep a full-precision first layer as a float layer before them)`);
  }
}

/** Per output channel α (1 without scaling) and bias (0 without). */
function affine(l: QuantizedLayer, out: number): { alpha: Float32Array; bias: Float32Array } {
  const alpha = new Float32Array(out).fill(1), bias = new Float32Array(out);
  if (l.scale === 'channel') {
    const w = l.weight.data, per = w.length / out;
    for (let o = 0; o < out; o++) { let s = 0; for (let k = 0; k < per; k++) s += Math.abs(w[o * per + k]); alpha[o] = s / per; }
  }
  if (l.bias) bias.set(l.bias.data);
  return { alpha, bias };
}

/** Packed ±1 weights: rows [out × words], laid out as the patches (per tap, channel words) for convolutions. */
function packWeights(l: BinaryConv2d | BinaryLinear): Int32Array {
  const be = backendFor('float32'), w = l.weight.data as Float32Array;
  if (l instanceof BinaryLinear) {
    const out = new Int32Array(l.outFeatures * words32(l.inFeatures));
    be.packSigns(w, l.outFeatures, l.inFeatures, out);
    return out;
  }
  const C = l.inChannels, taps = l.kernelSize * l.kernelSize, wc = words32(C), t = new Float32Array(C), out = new Int32Array(l.outChannels * taps * wc);
  for (let o = 0; o < l.outChannels; o++) for (let k = 0; k < taps; k++) {
    for (let c = 0; c < C; c++) t[c] = w[(o * C + c) * taps + k];
    be.packSigns(t, 1, C, out.subarray((o * taps + k) * wc, (o * taps + k + 1) * wc));
  }
  return out;
}

/**
 * A binary layer at inference: the signs of its input packed to bits, XNOR-popcount against the
 * packed weights, then α·z + b per output channel (z the integer ±1 product). `integers` gives z.
 */
export class PackedBinaryLayer extends Module {
  readonly packed: Int32Array;
  readonly alpha: Float32Array; readonly bias: Float32Array;
  readonly K: number; readonly outputs: number;
  constructor(readonly source: BinaryConv2d | BinaryLinear) {
    super();
    this.packed = packWeights(source);
    this.outputs = source instanceof BinaryLinear ? source.outFeatures : source.outChannels;
    this.K = source instanceof BinaryLinear ? source.inFeatures : source.inChannels * source.kernelSize * source.kernelSize;
    ({ alpha: this.alpha, bias: this.bias } = affine(source, this.outputs));
  }
  /** Integer ±1 pre-activations z: [N, out] or [N, out, OH, OW] (as float32, exact). */
  integers(x: Tensor): Tensor {
    const s = this.source, be = backendFor('float32');
    if (s instanceof BinaryLinear) {
      if (x.rank !== 2 || x.shape[1] !== s.inFeatures) throw new Error(`packed BinaryLinear expects [N, ${s.inFeatures}], got [${x.shape}]`);
      const N = x.shape[0], A = new Int32Array(N * words32(s.inFeatures)), C = new Int32Array(N * this.outputs);
      be.packSigns(x.data as Float32Array, N, s.inFeatures, A);
      be.bgemm(A, this.packed, N, this.outputs, this.K, C);
      return new Tensor(Float32Array.from(C), [N, this.outputs]);
    }
    if (x.rank !== 4 || x.shape[1] !== s.inChannels) throw new Error(`packed BinaryConv2d expects [N, ${s.inChannels}, H, W], got [${x.shape}]`);
    const [B, C, H, W] = x.shape, k = s.kernelSize, p = s.padding, st = s.stride;
    const OH = Math.floor((H + 2 * p - k) / st) + 1, OW = Math.floor((W + 2 * p - k) / st) + 1;
    const g: ConvGeom = { B, C, H, W, Co: this.outputs, kh: k, kw: k, sh: st, sw: st, ph: p, pw: p, dh: 1, dw: 1, OH, OW };
    const row = k * k * words32(C), P = new Int32Array(B * OH * OW * row), Z = new Int32Array(B * OH * OW * this.outputs);
    be.packPatches(x.data as Float32Array, g, s.padValue, P);
    be.bgemm(P, this.packed, B * OH * OW, this.outputs, this.K, Z, row / 2);
    // [B·OH·OW × out] → NCHW.
    const y = new Float32Array(Z.length), hw = OH * OW;
    for (let b = 0; b < B; b++) for (let q = 0; q < hw; q++) for (let o = 0; o < this.outputs; o++) y[(b * this.outputs + o) * hw + q] = Z[(b * hw + q) * this.outputs + o];
    return new Tensor(y, [B, this.outputs, OH, OW]);
  }
  forward(x: Tensor): Tensor { return applyAffine(this, this.integers(x)); }
  /** Every value z can take: −K, −K+2, …, K. */
  candidates(): number[] { return Array.from({ length: this.K + 1 }, (_, i) => -this.K + 2 * i); }
  toSpec(): LayerSpec { return { ...this.source.toSpec(), packed: true }; }
}

/**
 * A neural-jet layer at inference: the signs of its input (padded with padValue), the nine jet
 * maps of every channel by the shared add/subtract tree (exact integers), and each output as the
 * ±1 combination of them (one matrix product over exact small integers).
 */
export class PackedJetLayer extends Module {
  readonly outputs: number;
  readonly alpha: Float32Array; readonly bias: Float32Array;
  private readonly coef: Tensor;
  constructor(readonly source: NeuralJetConv2d) {
    super();
    if (source.inputQuantizer !== 'ste_sign') throw new Error('packBinary: a jet layer with a full-precision input is not binary; keep it as a float layer');
    this.outputs = source.outChannels;
    this.coef = noGrad(() => { const c = source.coefficients(); return new Tensor(Float32Array.from(c.data), [source.outChannels, source.inChannels * 9]); });
    this.alpha = new Float32Array(this.outputs).fill(1); this.bias = new Float32Array(this.outputs);
    if (source.bias) this.bias.set(source.bias.data);
  }
  integers(x: Tensor): Tensor {
    const s = this.source;
    if (x.rank !== 4 || x.shape[1] !== s.inChannels) throw new Error(`packed NeuralJetConv2d expects [N, ${s.inChannels}, H, W], got [${x.shape}]`);
    const [B, C, H, W] = x.shape, p = s.padding, st = s.stride, Hp = H + 2 * p, Wp = W + 2 * p, OHf = Hp - 2, OWf = Wp - 2;
    const OH = Math.floor((Hp - 3) / st) + 1, OW = Math.floor((Wp - 3) / st) + 1;
    const img = new Float32Array(C * Hp * Wp), out = new Float32Array(B * this.outputs * OH * OW);
    for (let b = 0; b < B; b++) {
      img.fill(s.padValue);
      for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) img[(c * Hp + r + p) * Wp + q + p] = x.data[((b * C + c) * H + r) * W + q] >= 0 ? 1 : -1;
      const J = jetTree(img, C, Hp, Wp); // [C·9, OHf·OWf]
      let Js = J;
      if (st > 1) {
        Js = new Float32Array(C * 9 * OH * OW);
        for (let k = 0; k < C * 9; k++) for (let r = 0; r < OH; r++) for (let q = 0; q < OW; q++) Js[(k * OH + r) * OW + q] = J[(k * OHf + r * st) * OWf + q * st];
      }
      const z = noGrad(() => F.matmul(this.coef, new Tensor(Js, [C * 9, OH * OW])));
      out.set(z.data, b * this.outputs * OH * OW);
    }
    return new Tensor(out, [B, this.outputs, OH, OW]);
  }
  forward(x: Tensor): Tensor { return applyAffine(this, this.integers(x)); }
  /** Every integer between ±100·C (the nine jets' absolute sums total 100 per input channel). */
  candidates(): number[] { const m = 100 * this.source.inChannels; return Array.from({ length: 2 * m + 1 }, (_, i) => i - m); }
  toSpec(): LayerSpec { return { ...this.source.toSpec(), packed: true }; }
}

/**
 * sign(batchNorm(α·z + b)) for integer z as per-channel thresholds: +1 where z ≥ t (or z ≤ t
 * when the channel's γ is negative). Output ±1.
 */
export class SignThreshold extends Module {
  constructor(readonly threshold: Float64Array, readonly upward: Uint8Array, readonly channels: number) { super(); }
  forward(z: Tensor): Tensor {
    const per = z.size / z.shape[0] / this.channels, y = new Float32Array(z.size), d = z.data;
    for (let i = 0; i < z.size; i++) {
      const c = Math.floor(i / per) % this.channels, v = d[i];
      y[i] = (this.upward[c] ? v >= this.threshold[c] : v <= this.threshold[c]) ? 1 : -1;
    }
    return new Tensor(y, z.shape);
  }
  toSpec(): LayerSpec { return { type: 'sign-threshold', channels: this.channels }; }
}

/** Thresholds reproducing sign(bn(α·z + b)) on every integer z the layer can produce. */
function foldThresholds(layer: PackedBinaryLayer | PackedJetLayer, bn: BatchNorm): SignThreshold {
  const C = layer.outputs, zs = layer.candidates(), n = zs.length;
  const shape = bn.dims === 2 ? [n, C, 1, 1] : [n, C];
  const zt = new Float32Array(n * C);
  for (let i = 0; i < n; i++) zt.fill(zs[i], i * C, (i + 1) * C);
  const y = noGrad(() => bn.forward(applyAffine(layer, new Tensor(zt, shape)))).data;
  const threshold = new Float64Array(C), upward = new Uint8Array(C);
  for (let c = 0; c < C; c++) {
    const pos = zs.map((_, i) => y[i * C + c] >= 0);
    const first = pos.indexOf(true), last = pos.lastIndexOf(true);
    if (first < 0) { threshold[c] = Infinity; upward[c] = 1; continue; }
    // Monotone in z: the +1 set is a suffix (γ > 0) or a prefix (γ < 0).
    if (last === n - 1 && pos.slice(first).every(Boolean)) { threshold[c] = zs[first]; upward[c] = 1; }
    else if (first === 0 && pos.slice(0, last + 1).every(Boolean)) { threshold[c] = zs[last]; upward[c] = 0; }
    else throw new Error(`packBinary: batch norm channel ${c} is not monotone in its input (γ = ${bn.weight.data[c]}); cannot fold it into a threshold`);
  }
  return new SignThreshold(threshold, upward, C);
}

function applyAffine(layer: PackedBinaryLayer | PackedJetLayer, z: Tensor): Tensor {
  if ((layer instanceof PackedJetLayer || layer.source.scale === 'none') && !layer.source.bias) return z;
  const shape = z.rank === 4 ? [1, layer.outputs, 1, 1] : [1, layer.outputs];
  return F.add(F.mul(z, new Tensor(layer.alpha, shape)), new Tensor(layer.bias, shape));
}

/** Layers that commute with sign on their way to the next binary layer. */
const signTransparent = (l: Module) => l instanceof MaxPool2d || l instanceof Flatten || l instanceof Dropout;

export interface PackReport { packed: number[]; folded: number[]; keptFloat: number[] }

/**
 * The inference model of a trained binarized Sequential: every BinaryConv2d / BinaryLinear
 * (binary input and weights) becomes a PackedBinaryLayer, every NeuralJetConv2d a PackedJetLayer;
 * a batch norm after one whose output only reaches a binary layer's input (through max-pooling,
 * flatten, dropout) becomes a SignThreshold. Full-precision layers are kept. Eval mode.
 */
export function packBinary(model: Module): { model: Sequential; report: PackReport } {
  if (!(model instanceof Sequential)) throw new Error('packBinary works on a Sequential model (as built from a model spec)');
  model.eval();
  const src = model.layers, out: Module[] = [], report: PackReport = { packed: [], folded: [], keptFloat: [] };
  for (let i = 0; i < src.length; i++) {
    const l = src[i];
    if (l instanceof BinaryConv2d || l instanceof BinaryLinear || l instanceof NeuralJetConv2d) {
      const p = l instanceof NeuralJetConv2d ? new PackedJetLayer(l) : (checkPackable(l, i), new PackedBinaryLayer(l));
      out.push(p); report.packed.push(i);
      const bn = src[i + 1];
      if (bn instanceof BatchNorm) {
        let j = i + 2;
        while (j < src.length && signTransparent(src[j])) j++;
        const next = src[j];
        if (next instanceof QuantizedLayer && next.inputQuantizer === 'ste_sign') {
          // z → ±1 directly; pre-activations feed the BN only through this threshold.
          out.push(foldThresholds(p, bn)); report.folded.push(i + 1); i++;
        }
      }
      continue;
    }
    out.push(l); report.keptFloat.push(i);
  }
  const packed = new Sequential(...out);
  packed.eval();
  return { model: packed, report };
}
