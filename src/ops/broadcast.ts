import type { FArray } from '../core/dtype.js';
import { scopedLike, scopedEmptyLike } from '../core/arena.js';
import { backendFor } from '../backend/index.js';
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

/**
 * If `shape` broadcast to `out` is `shape`'s data repeated R times back to back (a bias
 * [N] over [B, N], a scalar over anything), that R; otherwise 0.
 */
export function tileCount(shape: Shape, out: Shape): number {
  const size = shape.reduce((a, b) => a * b, 1), total = out.reduce((a, b) => a * b, 1);
  if (size === 0 || total % size !== 0) return 0;
  if (size === 1) return total;
  // shape without leading 1s must equal the trailing dims of out
  let k = 0;
  while (k < shape.length && shape[k] === 1) k++;
  const core = shape.slice(k);
  if (core.length > out.length) return 0;
  for (let i = 0; i < core.length; i++) if (core[core.length - 1 - i] !== out[out.length - 1 - i]) return 0;
  return total / size;
}

/** Sum a gradient of shape `from` down to the broadcast source shape `to`. */
export function sumToShape(g: FArray, from: Shape, to: Shape): FArray {
  if (shapeEq(from, to)) return g;
  const reps = tileCount(to, from);
  if (reps) {
    const r = scopedEmptyLike(g, g.length / reps);
    backendFor(g instanceof Float64Array ? 'float64' : 'float32').sumTiles(g, r);
    return r;
  }
  const idx = broadcastIndex(to, from);
  if (!idx) return g;
  const r = scopedLike(g, to.reduce((a, b) => a * b, 1));
  for (let i = 0; i < g.length; i++) r[idx[i]] += g[i];
  return r;
}
