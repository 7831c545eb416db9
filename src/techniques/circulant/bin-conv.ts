// binConv2d: the circulant technique's per-bin convolution (CircConv's FFT form), registered
// with its backward rule (defineOp). Each bin is an ordinary conv2d on its own slab, so the
// backward reuses the core conv2dBackward kernel bin by bin.
import { scopedEmpty, scopedEmptyLike } from '../../core/arena.js';
import { fmt } from '../../core/shape.js';
import { Tensor } from '../../core/tensor.js';
import { backendFor, type ConvGeom } from '../../backend/index.js';
import { geometry, type Conv2dOptions } from '../../ops/conv.js';
import { defineOp } from '../../ops/registry.js';
import { needs } from '../../ops/tape.js';
import { fftKernels } from './kernels/index.js';

/** Elements of one bin's input, weight and output. */
function slabs(g: ConvGeom): { xs: number; ws: number; ys: number } {
  return { xs: g.B * g.C * g.H * g.W, ws: g.Co * g.C * g.kh * g.kw, ys: g.B * g.Co * g.OH * g.OW };
}

/**
 * One convolution per frequency bin, the FFT form of a block-circulant convolution (CircConv):
 * x [H, B, C, Hi, Wi], w [H, Co, C, kh, kw] → [H, B, Co, OH, OW] with y[h] = conv2d(x[h], w[h]).
 * Each bin reads and writes its own contiguous slab, where H slices, H convolutions and a
 * concat would copy every slab twice.
 */
export const binConv2d = defineOp({
  name: 'binConv2d',
  forward(x: Tensor, w: Tensor, opts: Conv2dOptions = {}) {
    if (x.rank !== 5 || w.rank !== 5 || x.shape[0] !== w.shape[0]) {
      throw new Error(
        `binConv2d expects input [H, B, C, Hi, Wi] and weights [H, Cout, C, kh, kw] with the same H, got ` +
          `${fmt(x.shape)} and ${fmt(w.shape)}`,
      );
    }
    const H = x.shape[0],
      g = geometry('binConv2d', x.shape.slice(1), w.shape.slice(1), opts);
    const out = scopedEmpty([H, g.B, g.Co, g.OH, g.OW], x.dtype); // every slab written by its bin's kernel
    fftKernels.for(x.dtype).binConv2dForward(x.data, w.data, g, H, out.data);
    return { out, inputs: [x, w], saved: { g } };
  },
  backward: (n, _o, gy) => {
    const g = n.saved.g as ConvGeom;
    const [x, w] = n.inputs,
      H = x.shape[0],
      { xs, ws, ys } = slabs(g),
      be = backendFor(x.dtype);
    const dw = scopedEmptyLike(gy, w.size); // every slab written by its bin's kernel
    const dx = needs(n, 0) ? scopedEmptyLike(gy, x.size) : null;
    for (let h = 0; h < H; h++) {
      be.conv2dBackward(
        x.data.subarray(h * xs, (h + 1) * xs),
        w.data.subarray(h * ws, (h + 1) * ws),
        gy.subarray(h * ys, (h + 1) * ys),
        g,
        dw.subarray(h * ws, (h + 1) * ws),
        null,
        dx ? dx.subarray(h * xs, (h + 1) * xs) : null,
      );
    }
    return [dx, needs(n, 1) ? dw : null];
  },
});
