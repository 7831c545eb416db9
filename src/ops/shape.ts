import type { FArray } from '../core/dtype.js';
import { scopedEmpty, scopedLike, scopedZeros } from '../core/arena.js';
import { fmt, normAxis, sizeOf, stridesOf } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { record, type Rule } from './tape.js';

/** Same data, new shape; one dimension may be -1. Shares the data array (a view). */
export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const s = [...shape];
  const infer = s.indexOf(-1);
  if (infer >= 0) {
    const rest = s.reduce((a, d, i) => (i === infer ? a : a * d), 1);
    s[infer] = rest === 0 ? 0 : x.size / rest;
  }
  if (sizeOf(s) !== x.size || s.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new Error(`cannot reshape ${fmt(x.shape)} (size ${x.size}) to ${fmt(shape)}`);
  }
  return record(new Tensor(x.data, s), 'reshape', [x]);
}

/** Collapse dimensions from startDim on: [N, C, H, W] → [N, C·H·W]. */
export function flatten(x: Tensor, startDim = 1): Tensor {
  const a = normAxis(startDim, x.rank);
  return reshape(x, [...x.shape.slice(0, a), -1]);
}

function permute(d: FArray, shape: readonly number[], perm: number[]): FArray {
  const rank = shape.length;
  const st = stridesOf(shape);
  const outShape = perm.map((p) => shape[p]);
  const pst = perm.map((p) => st[p]);
  const out = scopedLike(d, d.length);
  const pos = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < d.length; i++) {
    out[i] = d[off];
    for (let k = rank - 1; k >= 0; k--) {
      pos[k]++;
      off += pst[k];
      if (pos[k] < outShape[k]) break;
      off -= pst[k] * outShape[k];
      pos[k] = 0;
    }
  }
  return out;
}

/** Permute axes (default: reverse them). */
export function transpose(x: Tensor, perm?: number[]): Tensor {
  const p = perm ? perm.map((a) => normAxis(a, x.rank)) : x.shape.map((_, i) => x.rank - 1 - i);
  if (p.length !== x.rank || new Set(p).size !== p.length) {
    throw new Error(`transpose: ${JSON.stringify(perm)} is not a permutation of the ${x.rank} axes`);
  }
  const out = new Tensor(
    permute(x.data, x.shape, p),
    p.map((a) => x.shape[a]),
  );
  return record(out, 'transpose', [x], { perm: p });
}

/** Join tensors along an axis; all other dimensions must match. */
export function concat(xs: Tensor[], axis = 0): Tensor {
  if (xs.length === 0) throw new Error('concat needs at least one tensor');
  const a = normAxis(axis, xs[0].rank);
  for (const t of xs) {
    if (t.rank !== xs[0].rank || t.shape.some((d, i) => i !== a && d !== xs[0].shape[i])) {
      throw new Error(`concat: shape ${fmt(t.shape)} does not match ${fmt(xs[0].shape)} outside axis ${a}`);
    }
  }
  const shape = [...xs[0].shape];
  shape[a] = xs.reduce((s, t) => s + t.shape[a], 0);
  const out = scopedZeros(shape, xs[0].dtype);
  const outer = sizeOf(shape.slice(0, a)),
    inner = sizeOf(shape.slice(a + 1));
  let col = 0;
  for (const t of xs) {
    const w = t.shape[a] * inner;
    for (let o = 0; o < outer; o++) out.data.set(t.data.subarray(o * w, (o + 1) * w), o * shape[a] * inner + col);
    col += w;
  }
  return record(out, 'concat', xs, { axis: a });
}

/** x[begin[0]:end[0], begin[1]:end[1], …]; missing entries take the whole axis. */
export function slice(x: Tensor, begin: number[], end?: number[]): Tensor {
  const b = x.shape.map((_, i) => begin[i] ?? 0);
  const e = x.shape.map((d, i) => end?.[i] ?? d);
  for (let i = 0; i < x.rank; i++) {
    if (b[i] < 0 || e[i] > x.shape[i] || b[i] > e[i]) {
      throw new Error(`slice: range ${b[i]}:${e[i]} is outside axis ${i} of size ${x.shape[i]}`);
    }
  }
  const shape = b.map((v, i) => e[i] - v);
  // One contiguous run (leading axes of extent 1, then one partial axis, then full axes): a block copy.
  const k = shape.findIndex((d, i) => d !== x.shape[i]);
  if (
    k < 0 ||
    (shape.slice(0, k).every((d) => d === 1) && shape.slice(k + 1).every((d, i) => d === x.shape[k + 1 + i]))
  ) {
    const st = stridesOf(x.shape),
      offset = b.reduce((a, v, i) => a + v * st[i], 0),
      count = sizeOf(shape);
    const out = scopedEmpty(shape, x.dtype);
    out.data.set(x.data.subarray(offset, offset + count));
    return record(out, 'slice', [x], { offset });
  }
  const out = scopedZeros(shape, x.dtype);
  const map = sliceMap(x.shape, b, shape);
  for (let i = 0; i < map.length; i++) out.data[i] = x.data[map[i]];
  return record(out, 'slice', [x], { map });
}

function sliceMap(shape: readonly number[], begin: number[], outShape: number[]): Int32Array {
  const st = stridesOf(shape);
  const n = sizeOf(outShape);
  const map = new Int32Array(n);
  const rank = shape.length;
  const pos = new Array<number>(rank).fill(0);
  let off = begin.reduce((s, v, i) => s + v * st[i], 0);
  for (let i = 0; i < n; i++) {
    map[i] = off;
    for (let k = rank - 1; k >= 0; k--) {
      pos[k]++;
      off += st[k];
      if (pos[k] < outShape[k]) break;
      off -= st[k] * outShape[k];
      pos[k] = 0;
    }
  }
  return map;
}

export const shapeRules: { reshape: Rule; transpose: Rule; concat: Rule; slice: Rule } = {
  reshape: (_n, _o, gy) => [gy],
  transpose: (n, o, gy) => {
    const perm = n.saved.perm as number[];
    const inv = new Array<number>(perm.length);
    perm.forEach((p, i) => (inv[p] = i));
    return [permute(gy, o.shape, inv)];
  },
  concat: (n, o, gy) => {
    const a = n.saved.axis as number;
    const outer = sizeOf(o.shape.slice(0, a)),
      inner = sizeOf(o.shape.slice(a + 1));
    let col = 0;
    return n.inputs.map((t) => {
      const w = t.shape[a] * inner;
      const g = scopedLike(gy, t.size);
      for (let q = 0; q < outer; q++)
        g.set(gy.subarray(q * o.shape[a] * inner + col, q * o.shape[a] * inner + col + w), q * w);
      col += w;
      return t.requiresGrad ? g : null;
    });
  },
  slice: (n, _o, gy) => {
    const g = scopedLike(gy, n.inputs[0].size);
    if (n.saved.offset !== undefined) {
      g.set(gy, n.saved.offset as number);
      return [g];
    }
    const map = n.saved.map as Int32Array;
    for (let i = 0; i < map.length; i++) g[map[i]] += gy[i];
    return [g];
  },
};
