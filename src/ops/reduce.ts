import { scopedLike, scopedZeros, scopedFull } from '../core/arena.js';
import { normAxis } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { broadcastIndex } from './broadcast.js';
import { mul } from './elementwise.js';
import { record, type Rule } from './tape.js';

type Axes = number | number[] | undefined;

function reduceShapes(x: Tensor, axes: Axes, keepDims: boolean): { keep: number[]; out: number[]; count: number } {
  const list =
    axes === undefined
      ? x.shape.map((_, i) => i)
      : (Array.isArray(axes) ? axes : [axes]).map((a) => normAxis(a, x.rank));
  const set = new Set(list);
  const keep = x.shape.map((d, i) => (set.has(i) ? 1 : d));
  const out = keepDims ? keep : x.shape.filter((_, i) => !set.has(i));
  const count = list.reduce((acc, a) => acc * x.shape[a], 1);
  return { keep, out, count };
}

/** Sum over the given axes (all when omitted). */
export function sum(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const { keep, out } = reduceShapes(x, axes, keepDims);
  const idx = broadcastIndex(keep, x.shape);
  const r = scopedZeros(out, x.dtype);
  const d = x.data,
    o = r.data;
  if (!idx) o.set(d);
  else for (let i = 0; i < d.length; i++) o[idx[i]] += d[i];
  return record(r, 'sum', [x], { keep, idx });
}

/** Mean over the given axes (all when omitted). */
export function mean(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const { count } = reduceShapes(x, axes, keepDims);
  return mul(sum(x, axes, keepDims), 1 / count);
}

/** Maximum over the given axes; the gradient goes to the first maximal element. */
export function max(x: Tensor, axes?: Axes, keepDims = false): Tensor {
  const { keep, out } = reduceShapes(x, axes, keepDims);
  const idx = broadcastIndex(keep, x.shape);
  const r = scopedFull(out, -Infinity, x.dtype);
  const arg = new Int32Array(r.size).fill(-1);
  const d = x.data,
    o = r.data;
  for (let i = 0; i < d.length; i++) {
    const j = idx ? idx[i] : i;
    if (d[i] > o[j] || arg[j] < 0) {
      o[j] = d[i];
      arg[j] = i;
    }
  }
  return record(r, 'max', [x], { arg });
}

/** Global average pooling: [N,C,H,W] → [N,C]. */
export const globalAvgPool2d = (x: Tensor): Tensor => mean(x, [2, 3]);
/** Global max pooling: [N,C,H,W] → [N,C]. */
export const globalMaxPool2d = (x: Tensor): Tensor => max(x, [2, 3]);

export const reduceRules: { sum: Rule; max: Rule } = {
  sum: (n, _o, gy) => {
    const x = n.inputs[0],
      idx = n.saved.idx as Int32Array | null;
    if (!idx) return [gy];
    const g = scopedLike(gy, x.size);
    for (let i = 0; i < g.length; i++) g[i] = gy[idx[i]];
    return [g];
  },
  max: (n, _o, gy) => {
    const arg = n.saved.arg as Int32Array;
    const g = scopedLike(gy, n.inputs[0].size);
    for (let j = 0; j < arg.length; j++) g[arg[j]] += gy[j];
    return [g];
  },
};
