// The one op the control plants need that the core lacks: cos (spec 08 B's g(x) = cos 2x₁ + 2).
import { allocLike } from '../../core/dtype.js';
import { Tensor } from '../../core/tensor.js';
import { defineOp } from '../../ops/registry.js';

/** Elementwise cos x; ∂/∂x = −sin x. */
export const cos = defineOp({
  name: 'cos',
  forward(x: Tensor) {
    const d = allocLike(x.data, x.size);
    for (let i = 0; i < d.length; i++) d[i] = Math.cos(x.data[i]);
    return { out: new Tensor(d, x.shape), inputs: [x] };
  },
  backward: (n, _o, gy) => {
    const x = n.inputs[0].data,
      g = allocLike(gy, gy.length);
    for (let i = 0; i < g.length; i++) g[i] = -gy[i] * Math.sin(x[i]);
    return [g];
  },
});
