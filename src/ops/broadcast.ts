import { allocLike, type FArray } from '../core/dtype.js';
import { broadcastStrides, shapeEq, type Shape } from '../core/shape.js';

/**
 * For each element of a tensor of shape `out`, the offset of the element of `shape` it
 * reads under broadcasting; null when the shapes are equal (identity).
 */
export function broadcastIndex(shape: Shape, out: Shape): Int32Array | null {
  if (shapeEq(shape, out)) return null;
  const st = broadcastStrides(shape, out);
  const n = out.reduce((a, b) => a * b, 1);
  const idx = new Int32Array(n);
  const rank = out.length;
  const pos = new Array<number>(rank).fill(0);
  let off = 0;
  for (let i = 0; i < n; i++) {
    idx[i] = off;
    for (let d = rank - 1; d >= 0; d--) {
      pos[d]++;
      off += st[d];
      if (pos[d] < out[d]) break;
      off -= st[d] * out[d];
      pos[d] = 0;
    }
  }
  return idx;
}

/** Sum a gradient of shape `from` down to the broadcast source shape `to`. */
export function sumToShape(g: FArray, from: Shape, to: Shape): FArray {
  const idx = broadcastIndex(to, from);
  if (!idx) return g;
  const r = allocLike(g, to.reduce((a, b) => a * b, 1));
  for (let i = 0; i < g.length; i++) r[idx[i]] += g[i];
  return r;
}
