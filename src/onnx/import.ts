// ONNX ModelProto → Frugal model spec and weights, for graphs that are a chain of layers Frugal's spec
// expresses (Gemm/MatMul+Add, Conv, pools, Flatten/Reshape, BatchNormalization, activations, Softmax,
// an input standardisation). Anything else is refused naming the node, its operator and the reason.
import { LIMITS } from '../core/limits.js';
import { Tensor } from '../core/tensor.js';
import type { Sequential } from '../nn/layers.js';
import type { LayerSpec } from '../nn/module.js';
import { buildModel, validateSpec, type ModelSpec } from '../nn/spec.js';
import { planLayers } from '../nn/spec-plan.js';
import { decodeModel, DT, type ModelMsg, type NodeMsg } from './schema.js';
import { Attrs, OnnxImportError, readTensor, typeName, type Const } from './tensors.js';
import { checkCirculantBlock, matchCirculant, type CirculantMatch } from './circulant.js';

export { OnnxImportError };

/** What fromOnnx returns: the model built from the spec with the file's weights, and the file's metadata. */
export interface FromOnnxResult {
  model: Sequential;
  spec: ModelSpec;
  /** State-dict entries by the built model's names ('1.weight', …). */
  weights: Record<string, Tensor>;
  /** metadata_props, and producer_name / producer_version under 'onnx.producer' / 'onnx.producerVersion'. */
  metadata: Record<string, string>;
  /** ai.onnx opset of the file. */
  opset: number;
}

const SUPPORTED =
  'Gemm, MatMul (+ Add), Conv, Relu, LeakyRelu, Sigmoid, Tanh, Clip(−1, 1), Softmax, LogSoftmax, MaxPool, ' +
  'AveragePool, GlobalAveragePool/GlobalMaxPool + Flatten, Flatten, Reshape (as flatten), BatchNormalization, ' +
  'Sub/Div/Mul/Add by constants (input standardisation), Dropout, Identity, Pad by zero, and Gemm / Conv ' +
  'weights gathered into circulant blocks (frugal export --circulant blocks)';

interface Step {
  spec: LayerSpec;
  weights: Record<string, Float32Array>;
}

/** Decoding and the graph's overall form; the per-node work is in Chain. */
function decode(bytes: Uint8Array): ModelMsg {
  if (!(bytes instanceof Uint8Array) || bytes.length === 0)
    throw new OnnxImportError('ONNX import: the file is empty; give an .onnx model file');
  try {
    return decodeModel(bytes);
  } catch (e) {
    throw new OnnxImportError(
      `ONNX import: not a readable ONNX model (protobuf decoding failed: ${(e as Error).message}); ` +
        'the file is truncated or not an .onnx file',
    );
  }
}

class Chain {
  private consts = new Map<string, Const | (() => Const)>();
  private producers = new Map<string, number>();
  private consumers = new Map<string, number[]>();
  readonly layers: Step[] = [];
  /** One sample's shape (no batch axis) of the value flowing through the chain. */
  shape: number[];
  constructor(
    readonly nodes: NodeMsg[],
    private readonly opset: number,
    inits: Map<string, () => Const>,
    input: number[],
  ) {
    this.shape = input;
    for (const [k, v] of inits) this.consts.set(k, v);
    nodes.forEach((n, i) => {
      for (const o of n.output ?? []) this.producers.set(o, i);
      for (const x of n.input ?? []) if (x) this.consumers.set(x, [...(this.consumers.get(x) ?? []), i]);
    });
  }
  producerOf(name: string): number | null {
    return this.producers.get(name) ?? null;
  }
  /** Where a computed value comes from: its producer and the operators behind it (for error messages). */
  origin(name: string): string {
    const ops = new Set<string>(),
      todo = [name];
    for (let k = 0; k < todo.length && k < 16; k++) {
      const p = this.producerOf(todo[k]);
      if (p === null) continue;
      ops.add(this.nodes[p].opType ?? '');
      todo.push(...(this.nodes[p].input ?? []).filter(Boolean));
    }
    const p = this.producerOf(name);
    return `'${name}' (computed by ${p === null ? 'nothing' : this.where(p)}; operators ${[...ops].join(', ')})`;
  }
  where(i: number): string {
    const n = this.nodes[i];
    return `node ${i}${n.name ? ` '${n.name}'` : ''} (${n.opType || 'no operator'})`;
  }
  /** A constant input (initialiser or Constant node output), decoded on first use; null when it is computed. */
  constant(name: string | undefined): Const | null {
    if (!name) return null;
    const c = this.consts.get(name);
    if (!c) return null;
    if (typeof c === 'function') {
      const v = c();
      this.consts.set(name, v);
      return v;
    }
    return c;
  }
  /** A required constant float input of a node, with its dims checked against `want` (null: any). */
  floats(i: number, k: number, what: string, want?: number[]): Float32Array {
    const name = this.nodes[i].input?.[k];
    const c = this.constant(name);
    if (!c?.floats)
      throw new OnnxImportError(
        `ONNX import: ${this.where(i)}: input ${k} (${what}) must be a float constant (an initialiser); ` +
          `'${name ?? ''}' is ${c ? 'an integer tensor' : 'computed by the graph'}`,
      );
    if (want && (c.dims.length !== want.length || c.dims.some((d, j) => d !== want[j])))
      throw new OnnxImportError(
        `ONNX import: ${this.where(i)}: ${what} '${name}' has dims [${c.dims.join(', ')}], ` +
          `expected [${want.join(', ')}]`,
      );
    return c.floats;
  }
  registerConstantNode(i: number): void {
    const n = this.nodes[i],
      a = new Attrs(`ONNX import: ${this.where(i)}`, n);
    const t = a.tensor('value');
    if (!t)
      throw new OnnxImportError(`ONNX import: ${this.where(i)}: only Constant nodes with a 'value' tensor are read`);
    const out = n.output?.[0];
    if (out) this.consts.set(out, () => readTensor(t, `${this.where(i)} value`));
  }
  /** The only node reading `value` (null at the end of the chain); a branch is refused. */
  next(value: string, outputs: Set<string>): number | null {
    const users = this.consumers.get(value) ?? [];
    if (users.length > 1 || (users.length === 1 && outputs.has(value)))
      throw new OnnxImportError(
        `ONNX import: the graph branches at value '${value}' (read by ${users.map((u) => this.where(u)).join(', ')}` +
          `${outputs.has(value) ? ' and the graph output' : ''}); Frugal imports a chain of layers`,
      );
    return users.length ? users[0] : null;
  }
  push(spec: LayerSpec, weights: Record<string, Float32Array> = {}, at?: number): void {
    try {
      const out = planLayers([spec], this.shape, '').out;
      if (out) this.shape = out;
    } catch (e) {
      throw new OnnxImportError(`ONNX import: ${at !== undefined ? this.where(at) : 'layer'}: ${(e as Error).message}`);
    }
    this.layers.push({ spec, weights });
  }
  opsetOf(): number {
    return this.opset;
  }
}

/** Kernel, strides, pads and dilations of a Conv or pooling node as one square size each (Frugal's layers). */
function geometry(c: Chain, i: number, a: Attrs, spatial: number, kernelFrom?: number[]) {
  const w = `ONNX import: ${c.where(i)}`;
  const autoPad = a.string('auto_pad', 'NOTSET');
  if (autoPad !== 'NOTSET' && autoPad !== 'VALID')
    throw new OnnxImportError(`${w}: auto_pad ${autoPad} is not supported; export with explicit pads`);
  const ks = a.ints('kernel_shape') ?? kernelFrom;
  if (!ks || ks.length !== spatial)
    throw new OnnxImportError(`${w}: kernel_shape must give ${spatial} sizes for this ${spatial + 2}-D input`);
  const strides = a.ints('strides') ?? new Array(spatial).fill(1);
  const pads = a.ints('pads') ?? new Array(2 * spatial).fill(0);
  const dil = a.ints('dilations') ?? new Array(spatial).fill(1);
  const same = (v: number[], n: number, what: string) => {
    if (v.length !== n || v.some((x) => x !== v[0] || x < 0))
      throw new OnnxImportError(
        `${w}: ${what} [${v.join(', ')}] must be ${n} equal non-negative values (Frugal's layers are square)`,
      );
    return v[0];
  };
  return {
    kernel: same(ks, spatial, 'kernel_shape'),
    stride: same(strides, spatial, 'strides'),
    padding: same(pads, 2 * spatial, 'pads'),
    dilation: same(dil, spatial, 'dilations'),
  };
}

function transpose(w: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(w.length);
  for (let r = 0; r < rows; r++) for (let k = 0; k < cols; k++) t[k * rows + r] = w[r * cols + k];
  return t;
}

/** A per-channel or scalar constant as one value per channel (for normalize): dims [], [1], [C, 1, 1], [1, C, 1, 1]. */
function channelValues(c: Chain, i: number, k: number): number[] {
  const v = c.floats(i, k, 'constant');
  if (v.length === 1) return [v[0]];
  const dims = c.constant(c.nodes[i].input?.[k])!.dims;
  let d = dims;
  while (d.length > c.shape.length && d[0] === 1) d = d.slice(1);
  if (d.length !== c.shape.length || d[0] !== c.shape[0] || d.slice(1).some((x) => x !== 1))
    throw new OnnxImportError(
      `ONNX import: ${c.where(i)}: a constant of dims [${dims.join(', ')}] is neither a scalar nor one value per ` +
        'channel; only an input standardisation (x − mean)/std is read as a layer',
    );
  return [...v];
}

/**
 * A Gemm (transB = 1) or Conv whose weight is the block-circulant Gather pattern toOnnx writes with
 * circulant: 'blocks': a circlinear / circconv2d layer holding the defining vectors; returns i.
 */
function circulantLayer(c: Chain, i: number, a: Attrs, m: CirculantMatch, g?: ReturnType<typeof geometry>): number {
  const w = `ONNX import: ${c.where(i)}`,
    n = c.nodes[i];
  checkCirculantBlock(w, m);
  if (!g && (a.int('transB', 0) !== 1 || a.float('alpha', 1) !== 1))
    throw new OnnxImportError(`${w}: a block-circulant Gemm weight is read with transB = 1 and alpha = 1 only`);
  if (m.inp !== c.shape[0])
    throw new OnnxImportError(`${w}: its circulant weight [${m.out}, ${m.inp}] does not take ${c.shape[0]} inputs`);
  const weights: Record<string, Float32Array> = { weight: Float32Array.from(m.weight) };
  if (n.input?.[2]) {
    const beta = g ? 1 : a.float('beta', 1);
    weights.bias = c.floats(i, 2, 'bias', [m.out]).map((v) => beta * v);
  }
  const pad = m.S * m.N !== m.out || m.R * m.N !== m.inp;
  const base = { in: m.inp, out: m.out, block: m.N, bias: !!weights.bias, ...(pad ? { pad: true } : {}) };
  c.push(g ? { type: 'circconv2d', ...base, ...g } : { type: 'circlinear', ...base }, weights, i);
  return i;
}

/** Convert node i (and any node it fuses with); returns the index of the last node consumed. */
function convert(c: Chain, i: number, n: NodeMsg, outputs: Set<string>): number {
  const op = n.opType ?? '',
    w = `ONNX import: ${c.where(i)}`,
    a = new Attrs(w, n),
    rank = c.shape.length + 1;
  const nextOp = (): [number, NodeMsg] | null => {
    const j = c.next(n.output?.[0] ?? '', outputs);
    return j === null ? null : [j, c.nodes[j]];
  };
  switch (op) {
    case 'Identity':
    case 'Dropout':
      if ((n.output?.length ?? 0) > 1 && n.output![1])
        throw new OnnxImportError(`${w}: the dropout mask output is used; only inference graphs are read`);
      return i;
    case 'Relu':
    case 'Sigmoid':
    case 'Tanh':
      c.push({ type: op.toLowerCase() }, {}, i);
      return i;
    case 'LeakyRelu':
      c.push({ type: 'leakyrelu', slope: a.float('alpha', 0.01) }, {}, i);
      return i;
    case 'Softmax':
    case 'LogSoftmax': {
      const axis = a.int('axis', c.opsetOf() >= 13 ? -1 : 1);
      if (!(axis === -1 || axis === rank - 1) || (c.opsetOf() < 13 && rank !== 2))
        throw new OnnxImportError(`${w}: only a softmax over the last axis is supported (axis ${axis}, rank ${rank})`);
      c.push({ type: op === 'Softmax' ? 'softmax' : 'logsoftmax' }, {}, i);
      return i;
    }
    case 'Clip': {
      const lo = c.opsetOf() >= 11 ? c.constant(n.input?.[1])?.floats?.[0] : a.float('min', -Infinity);
      const hi = c.opsetOf() >= 11 ? c.constant(n.input?.[2])?.floats?.[0] : a.float('max', Infinity);
      if (lo === -1 && hi === 1) c.push({ type: 'hardtanh' }, {}, i);
      else if (lo === 0 && (hi === undefined || hi === Infinity)) c.push({ type: 'relu' }, {}, i);
      else throw new OnnxImportError(`${w}: Clip(${lo}, ${hi}) has no Frugal layer (Clip(−1, 1) and Clip(0) do)`);
      return i;
    }
    case 'Pad': {
      // PyTorch writes a zero Pad before some pooling layers: an identity, skipped; real padding is refused.
      const pads = c.opsetOf() >= 11 ? c.constant(n.input?.[1])?.ints : a.ints('pads');
      if (!pads) throw new OnnxImportError(`${w}: the pads must be a constant`);
      if (pads.some((p) => p !== 0))
        throw new OnnxImportError(
          `${w}: padding [${pads.join(', ')}] outside a convolution or pooling has no Frugal layer`,
        );
      return i;
    }
    case 'Flatten': {
      const axis = a.int('axis', 1);
      if (axis !== 1) throw new OnnxImportError(`${w}: Flatten with axis ${axis}; Frugal flattens from axis 1`);
      c.push({ type: 'flatten' }, {}, i);
      return i;
    }
    case 'Reshape': {
      const s = c.constant(n.input?.[1]);
      if (!s?.ints) throw new OnnxImportError(`${w}: the target shape must be a constant integer tensor`);
      const total = c.shape.reduce((p, d) => p * d, 1);
      const t = s.ints;
      const flat = t.length === 2 && (t[0] === -1 || t[0] === 0) && (t[1] === -1 || t[1] === total);
      const flat2 = t.length === 2 && t[1] === -1 && t[0] === 0;
      if (!(flat || flat2))
        throw new OnnxImportError(
          `${w}: Reshape to [${t.join(', ')}] is not a flatten to [N, ${total}]; only flattening reshapes are read`,
        );
      c.push({ type: 'flatten' }, {}, i);
      return i;
    }
    case 'Gemm': {
      if (rank !== 2) throw new OnnxImportError(`${w}: Gemm needs [N, features] input, got rank ${rank}`);
      if (a.int('transA', 0)) throw new OnnxImportError(`${w}: transA = 1 is not supported`);
      const circ = matchCirculant(c, n.input?.[1], 2);
      if (circ) return circulantLayer(c, i, a, circ);
      const alpha = a.float('alpha', 1),
        beta = a.float('beta', 1),
        inF = c.shape[0];
      const B = c.constant(n.input?.[1]);
      if (!B?.floats || B.dims.length !== 2)
        throw new OnnxImportError(`${w}: input 1 (weights) must be a 2-D float initialiser`);
      const tB = a.int('transB', 0) !== 0;
      const out = tB ? B.dims[0] : B.dims[1];
      if ((tB ? B.dims[1] : B.dims[0]) !== inF)
        throw new OnnxImportError(`${w}: weights [${B.dims.join(', ')}] do not take ${inF} input features`);
      let weight = tB ? Float32Array.from(B.floats) : transpose(B.floats, inF, out);
      if (alpha !== 1) weight = weight.map((v) => v * alpha);
      const weights: Record<string, Float32Array> = { weight };
      if (n.input?.[2]) {
        const b = c.floats(i, 2, 'bias');
        if (b.length !== out && b.length !== 1)
          throw new OnnxImportError(`${w}: bias of ${b.length} values for ${out} outputs`);
        weights.bias = Float32Array.from({ length: out }, (_, k) => beta * b[b.length === 1 ? 0 : k]);
      }
      c.push({ type: 'linear', in: inF, out, bias: !!weights.bias }, weights, i);
      return i;
    }
    case 'MatMul': {
      const B = c.constant(n.input?.[1]);
      if (!B?.floats || B.dims.length !== 2 || B.dims[0] !== c.shape[c.shape.length - 1])
        throw new OnnxImportError(
          `${w}: input 1 must be a 2-D float initialiser [${c.shape[c.shape.length - 1]}, out]` +
            (B ? `, got [${B.dims.join(', ')}]` : ''),
        );
      const [inF, out] = B.dims;
      const weights: Record<string, Float32Array> = { weight: transpose(B.floats, inF, out) };
      let last = i;
      const nx = nextOp();
      if (nx && nx[1].opType === 'Add') {
        const k = nx[1].input?.[0] === n.output?.[0] ? 1 : 0;
        const b = c.constant(nx[1].input?.[k]);
        if (b?.floats && b.floats.length === out && b.dims[b.dims.length - 1] === out) {
          weights.bias = Float32Array.from(b.floats);
          last = nx[0];
        }
      }
      c.push({ type: 'linear', in: inF, out, bias: !!weights.bias }, weights, i);
      return last;
    }
    case 'Conv': {
      if (rank !== 3 && rank !== 4)
        throw new OnnxImportError(`${w}: Conv on a rank-${rank} input; Frugal has 1-D and 2-D`);
      if (a.int('group', 1) !== 1) throw new OnnxImportError(`${w}: grouped convolution (group > 1) is not supported`);
      const circ = rank === 4 ? matchCirculant(c, n.input?.[1], 4) : null;
      if (circ) return circulantLayer(c, i, a, circ, geometry(c, i, a, 2, circ.taps));
      const W = c.constant(n.input?.[1]);
      if (!W?.floats || W.dims.length !== rank)
        throw new OnnxImportError(`${w}: input 1 (weights) must be a rank-${rank} float initialiser`);
      const g = geometry(c, i, a, rank - 2, W.dims.slice(2));
      if (W.dims[1] !== c.shape[0])
        throw new OnnxImportError(`${w}: weights [${W.dims.join(', ')}] do not take ${c.shape[0]} input channels`);
      const weights: Record<string, Float32Array> = { weight: Float32Array.from(W.floats) };
      if (n.input?.[2]) weights.bias = c.floats(i, 2, 'bias', [W.dims[0]]);
      const type = rank === 4 ? 'conv2d' : 'conv1d';
      c.push({ type, in: W.dims[1], out: W.dims[0], ...g, bias: !!weights.bias }, weights, i);
      return i;
    }
    case 'MaxPool':
    case 'AveragePool': {
      if (rank !== 4 && !(rank === 3 && op === 'MaxPool'))
        throw new OnnxImportError(`${w}: ${op} on a rank-${rank} input is not supported`);
      if ((n.output?.length ?? 0) > 1 && n.output![1])
        throw new OnnxImportError(`${w}: the Indices output of MaxPool is used; it has no Frugal layer`);
      if (a.int('ceil_mode', 0)) throw new OnnxImportError(`${w}: ceil_mode = 1 is not supported (Frugal floors)`);
      const g = geometry(c, i, a, rank - 2);
      if (g.dilation !== 1) throw new OnnxImportError(`${w}: dilated pooling is not supported`);
      if (op === 'AveragePool' && g.padding > 0 && a.int('count_include_pad', 0) !== 1)
        throw new OnnxImportError(
          `${w}: padded average pooling that excludes the padding from the divisor (count_include_pad = 0); ` +
            "Frugal's counts it",
        );
      if (rank === 3) {
        if (g.padding) throw new OnnxImportError(`${w}: padded 1-D max pooling is not supported`);
        c.push({ type: 'maxpool1d', kernel: g.kernel, stride: g.stride }, {}, i);
      } else {
        const type = op === 'MaxPool' ? 'maxpool2d' : 'avgpool2d';
        c.push({ type, kernel: g.kernel, stride: g.stride, padding: g.padding }, {}, i);
      }
      return i;
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool': {
      const nx = nextOp();
      if (rank !== 4 || !nx || !['Flatten', 'Reshape'].includes(nx[1].opType ?? ''))
        throw new OnnxImportError(`${w}: ${op} must act on [N, C, H, W] and be followed by a Flatten`);
      c.push({ type: 'globalpool2d', mode: op === 'GlobalAveragePool' ? 'avg' : 'max' }, {}, i);
      const flat = c.shape;
      c.shape = [...flat, 1, 1]; // the Flatten (or Reshape) that follows is checked against [C, 1, 1]
      const last = convert(c, nx[0], nx[1], outputs);
      c.layers.pop();
      c.shape = flat;
      return last;
    }
    case 'BatchNormalization': {
      if ((n.output?.length ?? 0) > 1 && n.output!.slice(1).some(Boolean))
        throw new OnnxImportError(`${w}: training-mode batch norm (running statistics outputs) is not supported`);
      if (rank !== 2 && rank !== 4)
        throw new OnnxImportError(`${w}: batch norm on a rank-${rank} input; Frugal has [N, C] and [N, C, H, W]`);
      const C = c.shape[0];
      const [weight, bias, runningMean, runningVar] = ['scale', 'bias', 'mean', 'var'].map((s, k) =>
        Float32Array.from(c.floats(i, k + 1, s, [C])),
      );
      const eps = a.float('epsilon', 1e-5);
      c.push(
        { type: rank === 2 ? 'batchnorm1d' : 'batchnorm2d', features: C, eps },
        {
          weight,
          bias,
          runningMean,
          runningVar,
        },
        i,
      );
      return i;
    }
    case 'Sub':
    case 'Div':
    case 'Mul':
    case 'Add': {
      if (n.input?.[0] !== undefined && c.constant(n.input[0]))
        throw new OnnxImportError(`${w}: the constant must be the second operand`);
      const v = channelValues(c, i, 1);
      let mean = v.map(() => 0),
        std = v.map(() => 1),
        last = i;
      if (op === 'Sub') mean = v;
      else if (op === 'Div') std = v;
      else if (op === 'Mul') std = v.map((s) => 1 / s);
      else mean = v.map((m) => -m);
      const nx = nextOp();
      // (x − m)/s, or x·a + b (Frugal's own export of a standardisation): one normalize layer.
      if (nx && ((op === 'Sub' && nx[1].opType === 'Div') || (op === 'Mul' && nx[1].opType === 'Add'))) {
        const u = channelValues(c, nx[0], 1);
        if (u.length === v.length || u.length === 1 || v.length === 1) {
          const C = Math.max(u.length, v.length),
            at = (x: number[], k: number) => x[x.length === 1 ? 0 : k];
          if (op === 'Sub') {
            mean = Array.from({ length: C }, (_, k) => at(v, k));
            std = Array.from({ length: C }, (_, k) => at(u, k));
          } else {
            std = Array.from({ length: C }, (_, k) => 1 / at(v, k));
            mean = Array.from({ length: C }, (_, k) => -at(u, k) * at(std, k));
          }
          last = nx[0];
        }
      }
      if (std.some((s) => !(s > 0) || !Number.isFinite(s)) || mean.some((m) => !Number.isFinite(m)))
        throw new OnnxImportError(`${w}: ${op} by these constants is not an input standardisation (std must be > 0)`);
      c.push({ type: 'normalize', mean, std }, {}, i);
      return last;
    }
    default:
      throw new OnnxImportError(
        `${w}: operator ${n.domain ? `${n.domain}.` : ''}${op} is not supported by Frugal's import (supported: ` +
          `${SUPPORTED})`,
      );
  }
}

/**
 * Read an ONNX model (ModelProto bytes) whose graph is a chain of layers Frugal's spec expresses, and
 * build the Frugal model with its weights. Sizes are checked before allocation (LIMITS); any node that
 * cannot be mapped is refused by index, name, operator and reason (OnnxImportError).
 *
 * @example
 * const { model, spec } = fromOnnx(readFileSync('net.onnx'));
 * model.eval(); const logits = model.forward(x);
 */
export function fromOnnx(bytes: Uint8Array): FromOnnxResult {
  const m = decode(bytes);
  const g = m.graph;
  if (!g || !(g.node?.length ?? 0))
    throw new OnnxImportError('ONNX import: the model has no graph (or an empty one); it is not an ONNX model file');
  const ai = (m.opsetImport ?? []).find((o) => !o.domain || o.domain === 'ai.onnx');
  const opset = ai?.version ?? 0;
  if (!Number.isInteger(opset) || opset < 7 || opset > 30)
    throw new OnnxImportError(`ONNX import: ai.onnx opset ${opset} is not supported (7 to 30)`);
  const inits = new Map<string, () => Const>();
  (g.initializer ?? []).forEach((t, k) => inits.set(t.name ?? '', () => readTensor(t, `initializer ${k}`)));
  const inputs = (g.input ?? []).filter((v) => !inits.has(v.name ?? ''));
  if (inputs.length !== 1)
    throw new OnnxImportError(
      `ONNX import: the graph has ${inputs.length} inputs (${inputs.map((v) => `'${v.name}'`).join(', ')}); ` +
        'Frugal models take one',
    );
  const inp = inputs[0],
    tt = inp.type?.tensorType;
  if (!tt) throw new OnnxImportError(`ONNX import: graph input '${inp.name}' is not a tensor`);
  if (tt.elemType !== DT.FLOAT)
    throw new OnnxImportError(`ONNX import: graph input '${inp.name}' is ${typeName(tt.elemType)}; Frugal takes FLOAT`);
  const dims = tt.shape?.dim ?? [];
  if (dims.length < 2 || dims.length > 5)
    throw new OnnxImportError(
      `ONNX import: graph input '${inp.name}' has rank ${dims.length}; Frugal takes [N, features] to [N, C, D, H, W]`,
    );
  const sample = dims.slice(1).map((d, k) => {
    const v = d.dimValue;
    if (v === undefined || d.dimParam)
      throw new OnnxImportError(
        `ONNX import: graph input '${inp.name}' dimension ${k + 1} is dynamic` +
          `${d.dimParam ? ` ('${d.dimParam}')` : ''}` +
          '; Frugal needs a fixed sample shape (only the batch axis may vary): export with fixed sizes',
      );
    if (!Number.isSafeInteger(v) || v < 1 || v > LIMITS.maxActivationElements)
      throw new OnnxImportError(
        `ONNX import: graph input '${inp.name}' dimension ${k + 1} is ${v}; it must be in [1, ` +
          `${LIMITS.maxActivationElements}]`,
      );
    return v;
  });
  const nodes = g.node ?? [];
  const chain = new Chain(nodes, opset, inits, sample);
  nodes.forEach((n, i) => {
    if (n.domain && n.domain !== 'ai.onnx')
      throw new OnnxImportError(`ONNX import: ${chain.where(i)}: operator domain '${n.domain}' is not supported`);
    if (n.opType === 'Constant') {
      chain.registerConstantNode(i);
    }
  });
  const outputs = new Set((g.output ?? []).map((o) => o.name ?? ''));
  if (outputs.size !== 1)
    throw new OnnxImportError(`ONNX import: the graph has ${outputs.size} outputs; Frugal models have one`);
  let value = inp.name ?? '';
  for (let guard = 0; guard <= nodes.length; guard++) {
    const i = chain.next(value, outputs);
    if (i === null) break;
    const n = nodes[i];
    const extra = (n.input ?? []).filter((x) => x && x !== value && !chain.constant(x));
    const circ = extra.length === 1 && extra[0] === n.input?.[1] && ['Gemm', 'Conv'].includes(n.opType ?? '');
    if (extra.length && !(circ && matchCirculant(chain, extra[0], chain.shape.length + 1)))
      throw new OnnxImportError(
        `ONNX import: ${chain.where(i)}: takes a computed input besides the layer chain: ` +
          `${extra.map((x) => chain.origin(x)).join(', ')}; Frugal imports a chain of layers whose weights are ` +
          'initialisers (or circulant blocks gathered by (i − j) mod N, as frugal export --circulant blocks writes)',
      );
    const last = convert(chain, i, n, outputs);
    value = nodes[last].output?.[0] ?? '';
  }
  if (!outputs.has(value))
    throw new OnnxImportError(
      `ONNX import: the chain from input '${inp.name}' ends at '${value}', not the graph output`,
    );
  if (!chain.layers.length) throw new OnnxImportError('ONNX import: the graph holds no layer');
  const spec: ModelSpec = {
    format: 'frugal-model',
    version: 1,
    input: sample,
    layers: chain.layers.map((s) => s.spec),
  };
  validateSpec(spec);
  const model = buildModel(spec);
  const weights: Record<string, Tensor> = {};
  const sd = model.stateDict();
  chain.layers.forEach((s, k) => {
    for (const [name, data] of Object.entries(s.weights)) {
      const key = `${k}.${name}`;
      if (!sd[key] || sd[key].size !== data.length)
        throw new OnnxImportError(`ONNX import: layer ${k} (${s.spec.type}): ${name} does not fit the layer`);
      weights[key] = new Tensor(data, sd[key].shape);
    }
  });
  model.loadStateDict(weights);
  model.eval();
  const metadata: Record<string, string> = {};
  for (const p of m.metadataProps ?? []) if (p.key) metadata[p.key] = p.value ?? '';
  if (m.producerName) metadata['onnx.producer'] = m.producerName;
  if (m.producerVersion) metadata['onnx.producerVersion'] = m.producerVersion;
  return { model, spec, weights, metadata, opset };
}
