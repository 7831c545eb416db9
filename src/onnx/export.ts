// Frugal model → ONNX ModelProto. Every layer becomes standard ONNX operators (domain ai.onnx) with its
// weights as float32 initialisers, in eval-mode semantics; layers ONNX cannot express are refused by
// index, type and reason. Browser-safe: no file access (the CLI writes the bytes).
import { noGrad, Tensor } from '../core/tensor.js';
import {
  Activation,
  AvgPool2d,
  BatchNorm,
  Conv1d,
  Conv2d,
  Dropout,
  Flatten,
  GlobalPool2d,
  Linear,
  MaxPool1d,
  MaxPool2d,
  Normalize,
  Sequential,
} from '../nn/layers.js';
import { Module } from '../nn/module.js';
import { specOf, type ModelSpec } from '../nn/spec.js';
import { SparseConv2d, SparseLinear } from '../techniques/prune/sparse.js';
import { CircConv2d, CircLinear } from '../techniques/circulant/layers.js';
import { BinaryConv2d, BinaryLinear } from '../techniques/binary/quantized.js';
import { PackedBinaryLayer, SignThreshold, fromBits } from '../techniques/binary/pack.js';
import { Residual } from '../techniques/hsic/residual.js';
import { attr, GraphBuilder } from './graph.js';
import { CIRCULANT_EXPORTS, circulantWeight, type CirculantExport } from './circulant.js';
import { DT, encodeModel, type DimMsg, type ModelMsg } from './schema.js';

/** Opsets this exporter writes (13: Softmax over one axis; up to 21, the newest ONNX Runtime 1.31 reads). */
export const ONNX_OPSETS = { min: 13, max: 21, default: 13 } as const;

export class OnnxExportError extends Error {}

export interface ToOnnxOptions {
  /** ai.onnx opset version (default 13). */
  opset?: number;
  /** Graph name (default 'frugal'). */
  name?: string;
  /**
   * Shape of one sample, without the batch axis. Default: the spec's when given a loaded model, else the
   * first layer's input features (linear) or channels with free height and width (convolutions).
   */
  input?: number[];
  /** Extra string pairs for metadata_props. */
  metadata?: Record<string, string>;
  /**
   * Block-circulant layers (circlinear, circconv2d): 'dense' (default) writes the expanded weights;
   * 'blocks' stores only the defining vectors (N× fewer floats) and builds each layer's weight in the
   * graph with a Gather by the constant index (i − j) mod N, then the same Gemm / Conv (FFT-free).
   */
  circulant?: CirculantExport;
}

/** What toOnnx takes: a built model (buildModel) or what loadModel returns. */
export type OnnxExportable = Module | { model: Module; spec?: ModelSpec; training?: Record<string, unknown> };

/** IR version for an opset (onnx/onnx docs/Versioning.md): opset ≤ 18 → IR 8, 19–20 → 9, 21 → 10. */
const irFor = (opset: number) => (opset <= 18 ? 8 : opset <= 20 ? 9 : 10);

interface Ctx {
  g: GraphBuilder;
  /** Rank of the value flowing between layers (batch axis included). */
  rank: number;
  circulant: CirculantExport;
}

const refuse = (path: string, l: Module, why: string): never => {
  throw new OnnxExportError(`ONNX export: layer ${path} (${l.toSpec().type}) cannot be expressed in ONNX: ${why}`);
};

/** x ≥ 0 → +1, else −1 (Frugal's sign, with sign(0) = +1; ONNX's Sign gives 0 there). */
function binarize(c: Ctx, x: string, stem: string): string {
  const ge = c.g.node('GreaterOrEqual', [x, c.g.scalar(0)], [], `${stem}_ge0`);
  return c.g.node('Where', [ge, c.g.scalar(1), c.g.scalar(-1)], [], `${stem}_sign`);
}

/**
 * y = x·Wᵀ + b for W [out, in] (values, or the name of a graph value that computes it): Gemm on rank-2
 * input, MatMul (+ Add) otherwise.
 */
function dense(
  c: Ctx,
  x: string,
  stem: string,
  w: Float32Array | string,
  out: number,
  inp: number,
  b: Tensor | null,
): string {
  const W = typeof w === 'string' ? w : c.g.floats(`${stem}_weight`, w, [out, inp]);
  const B = b ? c.g.floats(`${stem}_bias`, b.data, [out]) : null;
  if (c.rank === 2) return c.g.node('Gemm', B ? [x, W, B] : [x, W], [attr.int('transB', 1)], stem);
  let WT: string;
  if (typeof w === 'string') WT = c.g.node('Transpose', [W], [attr.ints('perm', [1, 0])], `${stem}_weightT`);
  else {
    const wt = new Float32Array(w.length);
    for (let o = 0; o < out; o++) for (let i = 0; i < inp; i++) wt[i * out + o] = w[o * inp + i];
    WT = c.g.floats(`${stem}_weightT`, wt, [inp, out]);
  }
  const y = c.g.node('MatMul', [x, WT], [], `${stem}_mm`);
  return B ? c.g.node('Add', [y, B], [], stem) : y;
}

interface ConvGeo {
  out: number;
  inp: number;
  kernel: number;
  stride: number;
  padding: number;
  dilation: number;
  dims: 1 | 2;
}
function conv(c: Ctx, x: string, stem: string, w: Float32Array | string, g: ConvGeo, b: Tensor | null): string {
  const k = new Array(g.dims).fill(g.kernel);
  const W = typeof w === 'string' ? w : c.g.floats(`${stem}_weight`, w, [g.out, g.inp, ...k]);
  const ins = b ? [x, W, c.g.floats(`${stem}_bias`, b.data, [g.out])] : [x, W];
  return c.g.node(
    'Conv',
    ins,
    [
      attr.ints('kernel_shape', k),
      attr.ints('strides', new Array(g.dims).fill(g.stride)),
      attr.ints('pads', new Array(2 * g.dims).fill(g.padding)),
      attr.ints('dilations', new Array(g.dims).fill(g.dilation)),
    ],
    stem,
  );
}

/** Constant padding of the two spatial axes of [N, C, H, W] (binary inputs are padded with ±1, not 0). */
function padConst(c: Ctx, x: string, stem: string, p: number, value: number): string {
  if (p === 0) return x;
  const pads = c.g.int64s(`${stem}_pads`, [0, 0, p, p, 0, 0, p, p]);
  return c.g.node('Pad', [x, pads, c.g.scalar(value)], [], `${stem}_pad`);
}

/** Per-channel constant broadcast over [N, C, ...] at the current rank. */
const perChannel = (c: Ctx, v: ArrayLike<number>): number[] => [v.length, ...new Array(c.rank - 2).fill(1)];

/** A circulant layer's weight: the dense expansion, or (circulant 'blocks') the FFT-free block product's graph. */
function circulantOf(c: Ctx, stem: string, l: CircLinear | CircConv2d, out: number, inp: number, taps: number[]) {
  if (c.circulant !== 'blocks') return Float32Array.from(noGrad(() => l.expand()).data);
  const weight = Float32Array.from(l.weight.data);
  return circulantWeight(c.g, stem, weight, { S: l.outBlocks, R: l.inBlocks, N: l.blockSize, out, inp, taps });
}

function layer(c: Ctx, l: Module, x: string, path: string): string {
  const stem = `l${path.replace(/\./g, '_')}`;
  if (l instanceof Sequential) return chain(c, l.layers, x, `${path}.`);
  if (l instanceof Residual) {
    const y = layer(c, l.inner, x, `${path}.inner`);
    return c.g.node('Add', [x, y], [], `${stem}_residual`);
  }
  if (l instanceof Linear) return dense(c, x, stem, l.weight.data as Float32Array, l.outFeatures, l.inFeatures, l.bias);
  if (l instanceof Conv2d || l instanceof Conv1d) {
    const g = { out: l.outChannels, inp: l.inChannels, kernel: l.kernelSize, dims: l.dims };
    const geo = { ...g, stride: l.stride, padding: l.padding, dilation: l.dilation };
    return conv(c, x, stem, l.weight.data as Float32Array, geo, l.bias);
  }
  if (l instanceof MaxPool2d || l instanceof AvgPool2d || l instanceof MaxPool1d) {
    const d = l instanceof MaxPool1d ? 1 : 2,
      p = l instanceof MaxPool1d ? 0 : l.padding;
    const a = [
      attr.ints('kernel_shape', new Array(d).fill(l.kernelSize)),
      attr.ints('strides', new Array(d).fill(l.stride)),
      attr.ints('pads', new Array(2 * d).fill(p)),
    ];
    // Frugal's average pooling counts padded positions in the divisor (PyTorch's default).
    if (l instanceof AvgPool2d) return c.g.node('AveragePool', [x], [...a, attr.int('count_include_pad', 1)], stem);
    return c.g.node('MaxPool', [x], a, stem);
  }
  if (l instanceof GlobalPool2d) {
    const y = c.g.node(l.mode === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [x], [], `${stem}_pool`);
    c.rank = 2;
    return c.g.node('Flatten', [y], [attr.int('axis', 1)], stem);
  }
  if (l instanceof BatchNorm) {
    const f = l.numFeatures,
      ins = [
        x,
        ...[l.weight, l.bias, l.runningMean, l.runningVar].map((t, i) =>
          c.g.floats(`${stem}_${['scale', 'bias', 'mean', 'var'][i]}`, t.data, [f]),
        ),
      ];
    return c.g.node('BatchNormalization', ins, [attr.float('epsilon', l.eps)], stem);
  }
  if (l instanceof Dropout) return c.g.node('Identity', [x], [], stem); // eval mode: dropout is the identity
  if (l instanceof Normalize) {
    // Frugal computes x·(1/std) + (−mean/std) with these float32 constants: the same two operations here.
    const dims = l.mean.length === 1 ? [1] : perChannel(c, l.mean);
    const s = c.g.floats(
      `${stem}_scale`,
      l.std.map((v) => 1 / v),
      dims,
    );
    const t = c.g.floats(
      `${stem}_shift`,
      l.mean.map((m, i) => -m / l.std[i]),
      dims,
    );
    return c.g.node('Add', [c.g.node('Mul', [x, s], [], `${stem}_mul`), t], [], stem);
  }
  if (l instanceof Flatten) {
    c.rank = 2;
    return c.g.node('Flatten', [x], [attr.int('axis', 1)], stem);
  }
  if (l instanceof Activation) {
    switch (l.kind) {
      case 'relu':
        return c.g.node('Relu', [x], [], stem);
      case 'sigmoid':
        return c.g.node('Sigmoid', [x], [], stem);
      case 'tanh':
        return c.g.node('Tanh', [x], [], stem);
      case 'leakyrelu':
        return c.g.node('LeakyRelu', [x], [attr.float('alpha', l.slope)], stem);
      case 'hardtanh':
        return c.g.node('Clip', [x, c.g.scalar(-1), c.g.scalar(1)], [], stem);
      case 'softmax':
        return c.g.node('Softmax', [x], [attr.int('axis', -1)], stem);
      case 'logsoftmax':
        return c.g.node('LogSoftmax', [x], [attr.int('axis', -1)], stem);
    }
  }
  if (l instanceof SparseLinear) return dense(c, x, stem, l.toDense(), l.outFeatures, l.inFeatures, l.bias);
  if (l instanceof SparseConv2d) {
    const g = { out: l.outChannels, inp: l.inChannels, kernel: l.kernelSize, dims: 2 as const, ...l.opts };
    return conv(c, x, stem, l.toDense(), g, l.bias);
  }
  if (l instanceof CircLinear) {
    const w = circulantOf(c, stem, l, l.outFeatures, l.inFeatures, []);
    return dense(c, x, stem, w, l.outFeatures, l.inFeatures, l.bias);
  }
  if (l instanceof CircConv2d) {
    const k = l.kernelSize;
    const w = circulantOf(c, stem, l, l.outChannels, l.inChannels, [k, k]);
    const g = { out: l.outChannels, inp: l.inChannels, kernel: l.kernelSize, dims: 2 as const };
    return conv(c, x, stem, w, { ...g, stride: l.stride, padding: l.padding, dilation: l.dilation }, l.bias);
  }
  if (l instanceof BinaryLinear || l instanceof BinaryConv2d) {
    // The forward's own quantized weights (±1, or ±α per output channel), so the arithmetic is the same.
    const w = Float32Array.from(noGrad(() => l.quantizedWeight()).data);
    const binIn = l.inputQuantizer === 'ste_sign';
    const xin = binIn ? binarize(c, x, stem) : x;
    if (l instanceof BinaryLinear) {
      if (c.rank !== 2) refuse(path, l, 'a binary linear layer takes [N, features] input');
      return dense(c, xin, stem, w, l.outFeatures, l.inFeatures, l.bias);
    }
    const g = { out: l.outChannels, inp: l.inChannels, kernel: l.kernelSize, dims: 2 as const, dilation: 1 };
    if (!binIn) return conv(c, xin, stem, w, { ...g, stride: l.stride, padding: l.padding }, l.bias);
    const padded = padConst(c, xin, stem, l.padding, l.padValue);
    return conv(c, padded, stem, w, { ...g, stride: l.stride, padding: 0 }, l.bias);
  }
  if (l instanceof PackedBinaryLayer) return packed(c, l, x, stem);
  if (l instanceof SignThreshold) {
    // +1 where z ≥ t (upward) or z ≤ t: as s·z ≥ s·t with s = ±1 per channel (exact for the integer z).
    const s = Float32Array.from(l.upward.data, (u) => (u ? 1 : -1));
    const st = Float32Array.from(l.threshold.data, (t, i) => s[i] * t);
    const dims = perChannel(c, s);
    const sz = c.g.node('Mul', [x, c.g.floats(`${stem}_dir`, s, dims)], [], `${stem}_dir`);
    const ge = c.g.node('GreaterOrEqual', [sz, c.g.floats(`${stem}_threshold`, st, dims)], [], `${stem}_ge`);
    return c.g.node('Where', [ge, c.g.scalar(1), c.g.scalar(-1)], [], stem);
  }
  const type = l.toSpec().type;
  if (type === 'packed-jet-conv2d' || type === 'jet-conv2d')
    return refuse(
      path,
      l,
      'neural-jet layers combine nine jet maps computed by a fixed add/subtract tree; ' +
        'their ONNX form is not written yet (export the model before converting to jets)',
    );
  return refuse(
    path,
    l,
    'no ONNX mapping for this layer type (supported: dense, pooling, normalisation, ' +
      'activation, sparse, circulant and binary layers)',
  );
}

/** Layers in order; a packed binary layer with its sign threshold is written as one integer comparison. */
function chain(c: Ctx, layers: Module[], x: string, prefix: string): string {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i],
      t = layers[i + 1];
    if (l instanceof PackedBinaryLayer && t instanceof SignThreshold) {
      x = packedThreshold(c, l, t, x, `l${prefix.replace(/\./g, '_')}${i}`, `${prefix}${i}`);
      i++;
    } else x = layer(c, l, x, `${prefix}${i}`);
  }
  return x;
}

/**
 * A packed layer and its sign threshold, as a threshold on the integer z itself. packBinary folds α and b into
 * the threshold and makes the layer output z (no α, no bias), so this is the threshold as it stands. A packed
 * layer that still carries α or b before a threshold (a file packed before that fix) makes Frugal compare its
 * float32 α·z + b with it: the +1 set of every channel is found on each integer z the layer can produce
 * (−K, −K+2, …, K) with that same float arithmetic, so the export reproduces Frugal's output either way, and
 * ONNX Runtime compares exact integer sums, whatever it fuses (it folds a constant Mul into the Conv's weights,
 * which moves α·z by an ulp at the boundary). Re-packing such a file from its float model fixes its thresholds.
 */
function packedThreshold(c: Ctx, l: PackedBinaryLayer, t: SignThreshold, x: string, stem: string, path: string) {
  const C = l.outputs,
    K = l.K,
    dir = new Float32Array(C),
    th = new Float32Array(C);
  for (let ch = 0; ch < C; ch++) {
    const a = l.alpha ? l.alpha.data[ch] : 1,
      b = l.bias ? l.bias.data[ch] : 0,
      up = t.upward.data[ch] !== 0,
      tc = t.threshold.data[ch];
    const pos: boolean[] = [];
    for (let z = -K; z <= K; z += 2) {
      let v = l.alpha ? Math.fround(z * a) : z;
      if (l.bias) v = Math.fround(v + b);
      pos.push(up ? v >= tc : v <= tc);
    }
    const first = pos.indexOf(true),
      last = pos.lastIndexOf(true),
      n = pos.length;
    if (first < 0) [dir[ch], th[ch]] = [1, Infinity];
    else if (last === n - 1 && pos.slice(first).every(Boolean)) [dir[ch], th[ch]] = [1, -K + 2 * first];
    else if (first === 0 && pos.slice(0, last + 1).every(Boolean)) [dir[ch], th[ch]] = [-1, K - 2 * last];
    else refuse(path, l, `channel ${ch}'s threshold is not monotone in the integer pre-activation`);
  }
  const z = packed(c, l, x, stem, false);
  const dims = perChannel(c, dir);
  const sz = c.g.node('Mul', [z, c.g.floats(`${stem}_dir`, dir, dims)], [], `${stem}_dir`);
  const ge = c.g.node('GreaterOrEqual', [sz, c.g.floats(`${stem}_threshold`, th, dims)], [], `${stem}_ge`);
  return c.g.node('Where', [ge, c.g.scalar(1), c.g.scalar(-1)], [], `${stem}_sign`);
}

/** A packed binary layer: sign, ±1 padding, the ±1 weights as Conv / Gemm, then α·z + b (applyAffine's order). */
function packed(c: Ctx, l: PackedBinaryLayer, x: string, stem: string, affine = true): string {
  const cfg = l.cfg,
    w = fromBits(l.rawEntries().bits as Uint8Array, cfg.outputs * l.K);
  const s = binarize(c, x, stem);
  let z: string;
  if (cfg.kind === 'linear') z = dense(c, s, stem, w, cfg.outputs, cfg.inputs, null);
  else {
    const g = { out: cfg.outputs, inp: cfg.inputs, kernel: cfg.kernel, stride: cfg.stride, padding: 0, dilation: 1 };
    z = conv(c, padConst(c, s, stem, cfg.padding, cfg.padValue), stem, w, { ...g, dims: 2 }, null);
  }
  if (!affine) return z;
  const shape = [1, ...perChannel(c, new Array(cfg.outputs))];
  if (l.alpha) z = c.g.node('Mul', [z, c.g.floats(`${stem}_alpha`, l.alpha.data, shape)], [], `${stem}_alpha`);
  if (l.bias) z = c.g.node('Add', [z, c.g.floats(`${stem}_bias`, l.bias.data, shape)], [], `${stem}_bias`);
  return z;
}

/** One sample's shape from the first layer that fixes it (free spatial sizes as named dimensions). */
function guessInput(l: Module): (number | string)[] | null {
  if (l instanceof Sequential || l instanceof Residual) {
    // Shape-keeping layers without sizes (normalize, activations, dropout) defer to the next one.
    for (const m of (l instanceof Residual ? l.inner : l).layers) {
      const g = guessInput(m);
      if (g || !(m instanceof Normalize || m instanceof Activation || m instanceof Dropout)) return g;
    }
    return null;
  }
  const s = l.toSpec();
  if (/linear$/.test(s.type) && typeof s.in === 'number') return [s.in];
  if (/conv1d$/.test(s.type) && typeof s.in === 'number') return [s.in, 'length'];
  if (/conv2d$/.test(s.type) && typeof s.in === 'number') return [s.in, 'height', 'width'];
  return null;
}

/**
 * Write a Frugal model as an ONNX model (ModelProto bytes), in eval-mode semantics: dense, pooling,
 * batch-norm, dropout (identity), activation, softmax and normalisation layers map to their ONNX
 * operators; compacted CSR layers are written with their dense weights, circulant layers too, or with
 * `circulant: 'blocks'` as their defining vectors gathered into blocks in the graph (N× smaller); binary
 * layers as sign (x ≥ 0 → +1, else −1, i.e. GreaterOrEqual + Where), ±1 padding (Pad) and ±1 weights in
 * Conv / Gemm, with folded batch norms as per-channel thresholds. The spec and metadata go into
 * metadata_props (`frugal.spec`, `frugal.training`). Throws OnnxExportError naming the first layer
 * ONNX cannot express.
 *
 * @example
 * const { model, spec } = loadModel('cnn.safetensors');
 * const bytes = toOnnx({ model, spec }, { opset: 13 }); // onnxruntime.InferenceSession.create(bytes)
 */
export function toOnnx(model: OnnxExportable, options: ToOnnxOptions = {}): Uint8Array {
  const m = model instanceof Module ? { model } : model;
  const net = m.model as Module;
  const opset = options.opset ?? ONNX_OPSETS.default;
  if (!Number.isInteger(opset) || opset < ONNX_OPSETS.min || opset > ONNX_OPSETS.max)
    throw new OnnxExportError(
      `ONNX export: opset must be an integer from ${ONNX_OPSETS.min} to ${ONNX_OPSETS.max}, got ${opset}`,
    );
  const circulant = options.circulant ?? 'dense';
  if (!CIRCULANT_EXPORTS.includes(circulant))
    throw new OnnxExportError(
      `ONNX export: circulant must be ${CIRCULANT_EXPORTS.map((v) => `'${v}'`).join(' or ')}, got '${circulant}'`,
    );
  const spec = (m as { spec?: ModelSpec }).spec;
  const input: (number | string)[] | null = options.input ?? spec?.input ?? guessInput(net);
  if (!input)
    throw new OnnxExportError(
      'ONNX export: cannot tell the input shape from the first layer; pass options.input (one sample, e.g. [784])',
    );
  if (input.some((d) => typeof d === 'number' && !(Number.isInteger(d) && d >= 1)))
    throw new OnnxExportError(`ONNX export: input must be one sample's shape of positive integers, got [${input}]`);
  const wasTraining = net.training;
  net.eval();
  try {
    const c: Ctx = { g: new GraphBuilder(), rank: input.length + 1, circulant };
    const x = c.g.fresh('input');
    let y = chain(c, net instanceof Sequential ? net.layers : [net], x, '');
    // The graph output always has the same name, whatever the last layer is.
    y = c.g.node('Identity', [y], [], 'output');
    const fixed = input.every((d) => typeof d === 'number');
    let outDims: (number | string)[] = new Array(c.rank - 1).fill(null).map((_, i) => `out_${i + 1}`);
    if (fixed) {
      const probe = noGrad(() => net.forward(Tensor.zeros([1, ...(input as number[])])));
      outDims = probe.shape.slice(1);
    }
    const dim = (d: number | string): DimMsg => (typeof d === 'number' ? { dimValue: d } : { dimParam: d });
    const vi = (name: string, dims: (number | string)[]) => ({
      name,
      type: { tensorType: { elemType: DT.FLOAT, shape: { dim: ['batch', ...dims].map(dim) } } },
    });
    const meta: Record<string, string> = { ...(options.metadata ?? {}) };
    if (net instanceof Sequential && fixed)
      meta['frugal.spec'] = JSON.stringify(spec ?? specOf(net, input as number[]));
    const training = (m as { training?: Record<string, unknown> }).training;
    if (training) meta['frugal.training'] = JSON.stringify(training);
    const msg: ModelMsg = {
      irVersion: irFor(opset),
      opsetImport: [{ domain: '', version: opset }],
      producerName: 'frugal',
      producerVersion: '0.1.0',
      graph: {
        name: options.name ?? 'frugal',
        node: c.g.nodes,
        initializer: c.g.initializers,
        input: [vi(x, input)],
        output: [vi(y, outDims)],
      },
      metadataProps: Object.entries(meta).map(([key, value]) => ({ key, value })),
    };
    return encodeModel(msg);
  } finally {
    net.train(wasTraining);
  }
}
