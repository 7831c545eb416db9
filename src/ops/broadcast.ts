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
  const size = shape.reduce((a, b) => a * b, 1),
    total = out.reduce((a, b) => a * b, 1);
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

/**
 * If `shape` broadcast to `out` reads one value per run of `inner` consecutive outputs, cycling
 * through its `mid` values `outer` times (a per-channel bias [1, C, 1, 1] over [B, C, H, W]:
 * outer B, mid C, inner H·W), those three counts; otherwise null. Covers tileCount's cases too
 * (inner 1). Lets broadcast ops loop over runs instead of building an index per element.
 */
export function channelRuns(shape: Shape, out: Shape): { outer: number; mid: number; inner: number } | null {
  if (shape.length > out.length) return null;
  const s = [...new Array<number>(out.length - shape.length).fill(1), ...shape];
  let lo = 0,
    hi = s.length;
  while (lo < hi && s[lo] === 1) lo++;
  while (hi > lo && s[hi - 1] === 1) hi--;
  for (let d = lo; d < hi; d++) if (s[d] !== out[d]) return null;
  const prod = (a: number, b: number) => out.slice(a, b).reduce((x, y) => x * y, 1);
  return { outer: prod(0, lo), mid: prod(lo, hi), inner: prod(hi, out.length) };
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
  const runs = channelRuns(to, from);
  if (runs) {
    const { outer, mid, inner } = runs;
    const r = scopedLike(g, mid);
    for (let p = 0, i = 0; p < outer; p++) {
      for (let j = 0; j < mid; j++) {
        let acc = 0;
        for (let q = 0; q < inner; q++, i++) acc += g[i];
        r[j] += acc;
      }
    }
    return r;
  }
  const idx = broadcastIndex(to, from);
  if (!idx) return g;
  const r = scopedLike(
    g,
    to.reduce((a, b) => a * b, 1),
  );
  for (let i = 0; i < g.length; i++) r[idx[i]] += g[i];
  return r;
}
