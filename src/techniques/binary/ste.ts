// Quantizers with straight-through gradients (binarized networks, spec 06 section A): the binary
// technique's own ops, registered with their surrogate gradients (defineOp).
import type { FArray } from '../../core/dtype.js';
import { scopedEmpty, scopedEmptyLike } from '../../core/arena.js';
import { Tensor } from '../../core/tensor.js';
import { defineOp } from '../../ops/registry.js';

/**
 * sign with sign(0) = +1 (Larq's ste_sign, BinaryNet's bit = x ≥ 0). Backward: the
 * straight-through estimator clipped at `clip`, ∂y/∂x = 1 where |x| ≤ clip, else 0
 * (clip = Infinity passes every gradient).
 */
export const steSign = defineOp({
  name: 'steSign',
  forward(x: Tensor, clip: number = 1) {
    if (!(clip > 0)) throw new Error(`steSign: clip must be positive (Infinity for no clipping), got ${clip}`);
    const out = scopedEmpty(x.shape, x.dtype);
    const a = x.data,
      y = out.data;
    for (let i = 0; i < a.length; i++) y[i] = a[i] >= 0 ? 1 : -1;
    return { out, inputs: [x], saved: { clip } };
  },
  backward: (n, _o, gy) => {
    const clip = n.saved.clip as number,
      x = n.inputs[0].data,
      g = scopedEmptyLike(gy, gy.length);
    for (let i = 0; i < g.length; i++) g[i] = Math.abs(x[i]) <= clip ? gy[i] : 0;
    return [g];
  },
});

/**
 * One-hot of the arg-max along the last axis (ties: the first). Backward: straight through the
 * softmax (the gradient softmax(x) would get), so the scores learn which entry wins.
 */
export const oneHotSte = defineOp({
  name: 'oneHotSte',
  forward(x: Tensor) {
    if (x.rank < 1) throw new Error('oneHotSte needs a tensor of rank ≥ 1');
    const K = x.shape[x.rank - 1],
      out = scopedEmpty(x.shape, x.dtype),
      a = x.data,
      y = out.data;
    y.fill(0);
    for (let r = 0; r < a.length; r += K) {
      let best = r;
      for (let k = r + 1; k < r + K; k++) if (a[k] > a[best]) best = k;
      y[best] = 1;
    }
    return { out, inputs: [x], saved: { K } };
  },
  backward: (n, _o, gy) => {
    const K = n.saved.K as number,
      p = softmaxRows(n.inputs[0].data, K),
      g = scopedEmptyLike(gy, gy.length);
    for (let r = 0; r < g.length; r += K) {
      let dot = 0;
      for (let k = r; k < r + K; k++) dot += p[k] * gy[k];
      for (let k = r; k < r + K; k++) g[k] = p[k] * (gy[k] - dot);
    }
    return [g];
  },
});

function softmaxRows(a: FArray, K: number): FArray {
  const p = scopedEmptyLike(a, a.length);
  for (let r = 0; r < a.length; r += K) {
    let m = -Infinity,
      s = 0;
    for (let k = r; k < r + K; k++) m = Math.max(m, a[k]);
    for (let k = r; k < r + K; k++) {
      p[k] = Math.exp(a[k] - m);
      s += p[k];
    }
    for (let k = r; k < r + K; k++) p[k] /= s;
  }
  return p;
}
