import type { FArray } from '../core/dtype.js';
import { scopedLike, scopedEmpty, scopedEmptyLike } from '../core/arena.js';
import { broadcastShapes, shapeEq } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { backendFor, type BinaryKind } from '../backend/index.js';
import { broadcastIndex, channelRuns, sumToShape, tileCount } from './broadcast.js';
import { needs, record, type Rule } from './tape.js';

export type TensorLike = Tensor | number;

function asTensor(v: TensorLike, like: Tensor): Tensor {
  if (v instanceof Tensor) return v;
  return Tensor.from([v], [], like.dtype);
}

function checkDtypes(a: Tensor, b: Tensor, op: string): void {
  if (a.dtype !== b.dtype) throw new Error(`${op}: dtypes differ (${a.dtype} vs ${b.dtype}); convert one with .to()`);
}

function binaryOp(kind: BinaryKind, x: TensorLike, y: TensorLike): Tensor {
  const a = x instanceof Tensor ? x : asTensor(x, y as Tensor);
  const b = asTensor(y, a);
  checkDtypes(a, b, kind);
  const shape = broadcastShapes(a.shape, b.shape);
  const out = scopedEmpty(shape, a.dtype); // every branch below writes every element
  const o = out.data;
  const tb = shapeEq(a.shape, shape) ? tileCount(b.shape, shape) : 0;
  let runs: ReturnType<typeof channelRuns> = null;
  if (shapeEq(a.shape, b.shape)) {
    backendFor(a.dtype).binary(kind, a.data, b.data, o);
  } else if (tb && kind === 'add') {
    backendFor(a.dtype).tileAdd(a.data, b.data, o);
  } else if (tb && b.data.length === 1) {
    // a scalar: one loop, not one pass of the tiled loop per element
    const ad = a.data,
      s = b.data[0],
      n = o.length;
    switch (kind) {
      case 'add':
        for (let i = 0; i < n; i++) o[i] = ad[i] + s;
        break;
      case 'sub':
        for (let i = 0; i < n; i++) o[i] = ad[i] - s;
        break;
      case 'mul':
        for (let i = 0; i < n; i++) o[i] = ad[i] * s;
        break;
      case 'div':
        for (let i = 0; i < n; i++) o[i] = ad[i] / s;
        break;
    }
  } else if (tb) {
    // b repeats back to back over a (bias over rows): no index map needed
    const ad = a.data,
      bd = b.data,
      m = bd.length;
    for (let t = 0, i = 0; t < tb; t++) {
      switch (kind) {
        case 'add':
          for (let j = 0; j < m; j++, i++) o[i] = ad[i] + bd[j];
          break;
        case 'sub':
          for (let j = 0; j < m; j++, i++) o[i] = ad[i] - bd[j];
          break;
        case 'mul':
          for (let j = 0; j < m; j++, i++) o[i] = ad[i] * bd[j];
          break;
        case 'div':
          for (let j = 0; j < m; j++, i++) o[i] = ad[i] / bd[j];
          break;
      }
    }
  } else if (shapeEq(a.shape, shape) && (runs = channelRuns(b.shape, shape))) {
    // b is one value per run of `inner` elements (a per-channel bias over [B, C, H, W])
    const ad = a.data,
      bd = b.data,
      { outer, mid, inner } = runs,
      be = backendFor(a.dtype);
    if (kind === 'add' || kind === 'mul')
      be.channelAffine(ad, kind === 'mul' ? bd : null, kind === 'add' ? bd : null, outer, inner, o);
    else if (kind === 'sub')
      be.channelAffine(
        ad,
        null,
        bd.map((v) => -v),
        outer,
        inner,
        o,
      ); // x + (−b) is x − b exactly
    else
      for (let p = 0, i = 0; p < outer; p++) {
        for (let j = 0; j < mid; j++) {
          const s = bd[j];
          for (const e = i + inner; i < e; i++) o[i] = ad[i] / s;
        }
      }
  } else {
    const ia = broadcastIndex(a.shape, shape),
      ib = broadcastIndex(b.shape, shape);
    const ad = a.data,
      bd = b.data;
    const n = o.length;
    const A = (i: number) => ad[ia ? ia[i] : i],
      B = (i: number) => bd[ib ? ib[i] : i];
    switch (kind) {
      case 'add':
        for (let i = 0; i < n; i++) o[i] = A(i) + B(i);
        break;
      case 'sub':
        for (let i = 0; i < n; i++) o[i] = A(i) - B(i);
        break;
      case 'mul':
        for (let i = 0; i < n; i++) o[i] = A(i) * B(i);
        break;
      case 'div':
        for (let i = 0; i < n; i++) o[i] = A(i) / B(i);
        break;
    }
  }
  return record(out, kind, [a, b]);
}

/** a + b with NumPy broadcasting. */
export const add = (a: TensorLike, b: TensorLike): Tensor => binaryOp('add', a, b);
/** a − b with broadcasting. */
export const sub = (a: TensorLike, b: TensorLike): Tensor => binaryOp('sub', a, b);
/** a · b elementwise with broadcasting. */
export const mul = (a: TensorLike, b: TensorLike): Tensor => binaryOp('mul', a, b);
/** a / b elementwise with broadcasting. */
export const div = (a: TensorLike, b: TensorLike): Tensor => binaryOp('div', a, b);

/** Expand an input's own data to the output shape (for rules of broadcast ops). */
function expand(t: Tensor, out: Tensor): FArray {
  if (shapeEq(t.shape, out.shape)) return t.data;
  const reps = tileCount(t.shape, out.shape);
  if (reps) {
    const r = scopedLike(t.data, out.size);
    for (let k = 0; k < reps; k++) r.set(t.data, k * t.size);
    return r;
  }
  const runs = channelRuns(t.shape, out.shape);
  if (runs) {
    const r = scopedLike(t.data, out.size);
    for (let p = 0, i = 0; p < runs.outer; p++)
      for (let j = 0; j < runs.mid; j++, i += runs.inner) r.fill(t.data[j], i, i + runs.inner);
    return r;
  }
  const idx = broadcastIndex(t.shape, out.shape);
  if (!idx) return t.data;
  const r = scopedLike(t.data, out.size);
  for (let i = 0; i < r.length; i++) r[i] = t.data[idx[i]];
  return r;
}

function mapArr(a: FArray, f: (v: number, i: number) => number): FArray {
  const r = scopedEmptyLike(a, a.length);
  for (let i = 0; i < a.length; i++) r[i] = f(a[i], i);
  return r;
}

export const binaryRules: { [K in BinaryKind]: Rule } = {
  add: (n, out, gy) => [
    needs(n, 0) ? sumToShape(gy, out.shape, n.inputs[0].shape) : null,
    needs(n, 1) ? sumToShape(gy, out.shape, n.inputs[1].shape) : null,
  ],
  sub: (n, out, gy) => [
    needs(n, 0) ? sumToShape(gy, out.shape, n.inputs[0].shape) : null,
    needs(n, 1)
      ? sumToShape(
          mapArr(gy, (v) => -v),
          out.shape,
          n.inputs[1].shape,
        )
      : null,
  ],
  mul: (n, out, gy) => {
    const [a, b] = n.inputs;
    return [
      needs(n, 0)
        ? sumToShape(
            mapArr(expand(b, out), (v, i) => v * gy[i]),
            out.shape,
            a.shape,
          )
        : null,
      needs(n, 1)
        ? sumToShape(
            mapArr(expand(a, out), (v, i) => v * gy[i]),
            out.shape,
            b.shape,
          )
        : null,
    ];
  },
  div: (n, out, gy) => {
    const [a, b] = n.inputs;
    const be = expand(b, out);
    return [
      needs(n, 0)
        ? sumToShape(
            mapArr(be, (v, i) => gy[i] / v),
            out.shape,
            a.shape,
          )
        : null,
      // d(a/b)/db = -(a/b)/b = -out/b
      needs(n, 1)
        ? sumToShape(
            mapArr(be, (v, i) => (-gy[i] * out.data[i]) / v),
            out.shape,
            b.shape,
          )
        : null,
    ];
  },
};

function unary(
  op: 'neg' | 'exp' | 'log' | 'sqrt' | 'sigmoid' | 'tanh' | 'abs',
  x: Tensor,
  f: (v: number) => number,
): Tensor {
  const out = new Tensor(mapArr(x.data, f), x.shape);
  return record(out, op, [x]);
}

/** −x */
export const neg = (x: Tensor): Tensor => unary('neg', x, (v) => -v);
/** eˣ */
export const exp = (x: Tensor): Tensor => unary('exp', x, Math.exp);
/** ln x */
export const log = (x: Tensor): Tensor => unary('log', x, Math.log);
/** √x */
export const sqrt = (x: Tensor): Tensor => unary('sqrt', x, Math.sqrt);
/** |x| (subgradient 0 at 0) */
export const abs = (x: Tensor): Tensor => unary('abs', x, Math.abs);
/** σ(x) = 1 / (1 + e⁻ˣ), computed without overflow. */
export const sigmoid = (x: Tensor): Tensor =>
  unary('sigmoid', x, (v) => (v >= 0 ? 1 / (1 + Math.exp(-v)) : Math.exp(v) / (1 + Math.exp(v))));
/** tanh x */
export const tanh = (x: Tensor): Tensor => unary('tanh', x, Math.tanh);

/** xᵖ for a constant exponent p. */
export function pow(x: Tensor, p: number): Tensor {
  const out = new Tensor(
    mapArr(x.data, (v) => Math.pow(v, p)),
    x.shape,
  );
  return record(out, 'pow', [x], { p });
}

/** max(x, 0) */
export function relu(x: Tensor): Tensor {
  const out = scopedEmpty(x.shape, x.dtype);
  backendFor(x.dtype).relu(x.data, out.data);
  return record(out, 'relu', [x]);
}

/** x for x > 0, slope·x otherwise. */
export function leakyRelu(x: Tensor, slope = 0.01): Tensor {
  const out = new Tensor(
    mapArr(x.data, (v) => (v > 0 ? v : slope * v)),
    x.shape,
  );
  return record(out, 'leakyRelu', [x], { slope });
}

/** clamp(x, min, max); gradient 1 strictly inside, 0 outside. */
export function hardtanh(x: Tensor, min = -1, max = 1): Tensor {
  if (!(min < max)) throw new Error(`hardtanh: min (${min}) must be below max (${max})`);
  const out = new Tensor(
    mapArr(x.data, (v) => (v < min ? min : v > max ? max : v)),
    x.shape,
  );
  return record(out, 'hardtanh', [x], { min, max });
}

type UnaryOp = 'neg' | 'exp' | 'log' | 'sqrt' | 'pow' | 'relu' | 'leakyRelu' | 'sigmoid' | 'tanh' | 'hardtanh' | 'abs';

export const unaryRules: { [K in UnaryOp]: Rule } = {
  neg: (_n, _o, gy) => [mapArr(gy, (v) => -v)],
  exp: (_n, o, gy) => [mapArr(gy, (v, i) => v * o.data[i])],
  log: (n, _o, gy) => [mapArr(gy, (v, i) => v / n.inputs[0].data[i])],
  sqrt: (_n, o, gy) => [mapArr(gy, (v, i) => (0.5 * v) / o.data[i])],
  abs: (n, _o, gy) => [mapArr(gy, (v, i) => v * Math.sign(n.inputs[0].data[i]))],
  pow: (n, _o, gy) => {
    const p = n.saved.p as number,
      x = n.inputs[0].data;
    return [mapArr(gy, (v, i) => v * p * Math.pow(x[i], p - 1))];
  },
  relu: (n, _o, gy) => {
    const x = n.inputs[0].data,
      dx = scopedEmptyLike(x, x.length);
    backendFor(n.inputs[0].dtype).reluBackward(x, gy, dx);
    return [dx];
  },
  leakyRelu: (n, _o, gy) => {
    const s = n.saved.slope as number,
      x = n.inputs[0].data;
    return [mapArr(gy, (v, i) => (x[i] > 0 ? v : s * v))];
  },
  sigmoid: (_n, o, gy) => [mapArr(gy, (v, i) => v * o.data[i] * (1 - o.data[i]))],
  tanh: (_n, o, gy) => [mapArr(gy, (v, i) => v * (1 - o.data[i] * o.data[i]))],
  hardtanh: (n, _o, gy) => {
    const { min, max } = n.saved as { min: number; max: number };
    const x = n.inputs[0].data;
    return [mapArr(gy, (v, i) => (x[i] > min && x[i] < max ? v : 0))];
  },
};
