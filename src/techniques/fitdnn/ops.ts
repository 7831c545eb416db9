// The Fit-DNN technique's two primitives (spec shared/papers/04-fit-dnn.md): the neuron's nonlinearity
// f = sin, which the core op set lacks, and the scatter of the D delay-loop modulations onto the
// diagonals of each hidden weight matrix. Everything else in the equivalent network map is composed of
// core ops (matmul, tanh, mul, add, slice), so its Toeplitz products run on the WebAssembly GEMM.
import { scopedEmpty, scopedEmptyLike } from '../../core/arena.js';
import { Tensor } from '../../core/tensor.js';
import { defineOp } from '../../ops/registry.js';

/** Elementwise sine, f(a) = sin a (the neuron's nonlinearity). Backward: ∂y/∂a = cos a. */
export const sin = defineOp({
  name: 'sin',
  forward(x: Tensor) {
    const out = scopedEmpty(x.shape, x.dtype),
      a = x.data,
      y = out.data;
    for (let i = 0; i < a.length; i++) y[i] = Math.sin(a[i]);
    return { out, inputs: [x] };
  },
  backward: (n, _o, gy) => {
    const a = n.inputs[0].data,
      g = scopedEmptyLike(gy, gy.length);
    for (let i = 0; i < g.length; i++) g[i] = gy[i] * Math.cos(a[i]);
    return [g];
  },
});

/**
 * Lay the delay-loop modulations out as hidden weight matrices: v [K, N, D] (K hidden layers, N nodes,
 * D loops) → W [K, N, N] with W[k, n, n − n'_d] = v[k, n, d] (spec 04: the modulation of loop d during
 * node n is w_{n, n−n'_d}), zero off the D diagonals and where n − n'_d falls outside 0..N−1 (those
 * entries of v are unused: their gradient is 0). Backward gathers: ∂L/∂v[k,n,d] = ∂L/∂W[k, n, n − n'_d].
 * The D offsets must be distinct integers in −N+1..N−1 (FitDnn checks them).
 */
export const diagonalsToDense = defineOp({
  name: 'diagonalsToDense',
  forward(v: Tensor, offsets: readonly number[]) {
    if (v.rank !== 3 || v.shape[2] !== offsets.length)
      throw new Error(`diagonalsToDense: v must be [K, N, D = ${offsets.length}], got [${v.shape}]`);
    const [K, N, D] = v.shape,
      out = scopedEmpty([K, N, N], v.dtype),
      w = out.data,
      a = v.data;
    w.fill(0);
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) {
          const j = n - offsets[d];
          if (j >= 0 && j < N) w[(k * N + n) * N + j] = a[(k * N + n) * D + d];
        }
    return { out, inputs: [v], saved: { offsets } };
  },
  backward: (node, _o, gy) => {
    const offsets = node.saved.offsets as readonly number[],
      [K, N, D] = node.inputs[0].shape,
      g = scopedEmptyLike(gy, K * N * D);
    for (let k = 0; k < K; k++)
      for (let n = 0; n < N; n++)
        for (let d = 0; d < D; d++) {
          const j = n - offsets[d];
          g[(k * N + n) * D + d] = j >= 0 && j < N ? gy[(k * N + n) * N + j] : 0;
        }
    return [g];
  },
});
