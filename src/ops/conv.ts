import { scopedEmpty, scopedEmptyLike } from '../core/arena.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { backendFor, type ConvGeom, type PoolGeom, type PoolMode } from '../backend/index.js';
import { reshape } from './shape.js';
import { needs, record, type Rule } from './tape.js';

export type Pair = number | [number, number];
const pair = (v: Pair): [number, number] => (Array.isArray(v) ? v : [v, v]);

export interface Conv2dOptions {
  stride?: Pair;
  padding?: Pair;
  dilation?: Pair;
}

function positive(name: string, v: number, min = 1): void {
  if (!Number.isInteger(v) || v < min) throw new Error(`${name} must be an integer ≥ ${min}, got ${v}`);
}

/**
 * 2-D cross-correlation (PyTorch's conv2d): x [N,C,H,W], w [Co,C,kh,kw], b [Co] →
 * [N,Co,OH,OW] with OH = ⌊(H + 2·ph − dh·(kh−1) − 1)/sh⌋ + 1. Computed as im2col + GEMM.
 */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null = null, opts: Conv2dOptions = {}): Tensor {
  if (x.rank !== 4) throw new Error(`conv2d expects input [N, C, H, W], got ${fmt(x.shape)}`);
  if (w.rank !== 4) throw new Error(`conv2d expects weights [Cout, Cin, kh, kw], got ${fmt(w.shape)}`);
  const g = geometry('conv2d', x.shape, w.shape, opts);
  if (b && b.size !== g.Co) throw new Error(`conv2d: bias has ${b.size} entries, expected ${g.Co}`);
  const out = scopedEmpty([g.B, g.Co, g.OH, g.OW], x.dtype); // every element written by the kernel
  backendFor(x.dtype).conv2dForward(x.data, w.data, b ? b.data : null, g, out.data);
  return record(out, 'conv2d', b ? [x, w, b] : [x, w], { g });
}

/** Geometry of a convolution of x [B, C, H, W] by w [Co, C, kh, kw], with the options checked. */
export function geometry(op: string, xs: readonly number[], ws: readonly number[], opts: Conv2dOptions): ConvGeom {
  const [B, C, H, W] = xs;
  const [Co, Ci, kh, kw] = ws;
  if (Ci !== C) throw new Error(`${op}: input has ${C} channels but the weights expect ${Ci}`);
  const [sh, sw] = pair(opts.stride ?? 1),
    [ph, pw] = pair(opts.padding ?? 0),
    [dh, dw] = pair(opts.dilation ?? 1);
  positive('stride', sh);
  positive('stride', sw);
  positive('dilation', dh);
  positive('dilation', dw);
  positive('padding', ph, 0);
  positive('padding', pw, 0);
  const OH = Math.floor((H + 2 * ph - dh * (kh - 1) - 1) / sh) + 1;
  const OW = Math.floor((W + 2 * pw - dw * (kw - 1) - 1) / sw) + 1;
  if (OH < 1 || OW < 1)
    throw new Error(`${op}: a ${kh}×${kw} kernel does not fit a ${H}×${W} input with padding ${ph},${pw}`);
  return { B, C, H, W, Co, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW };
}

/** 1-D convolution: x [N,C,L], w [Co,C,k] — conv2d on a height-1 image. */
export function conv1d(
  x: Tensor,
  w: Tensor,
  b: Tensor | null = null,
  opts: { stride?: number; padding?: number; dilation?: number } = {},
): Tensor {
  if (x.rank !== 3 || w.rank !== 3)
    throw new Error(
      `conv1d expects input [N, C, L] and weights [Cout, Cin, k], got ${fmt(x.shape)} and ${fmt(w.shape)}`,
    );
  const y = conv2d(
    reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]),
    reshape(w, [w.shape[0], w.shape[1], 1, w.shape[2]]),
    b,
    { stride: [1, opts.stride ?? 1], padding: [0, opts.padding ?? 0], dilation: [1, opts.dilation ?? 1] },
  );
  return reshape(y, [y.shape[0], y.shape[1], y.shape[3]]);
}

export interface Pool2dOptions {
  stride?: Pair;
  padding?: Pair;
}

function pool2d(x: Tensor, mode: PoolMode, kernel: Pair, opts: Pool2dOptions): Tensor {
  if (x.rank !== 4) throw new Error(`${mode}Pool2d expects [N, C, H, W], got ${fmt(x.shape)}`);
  const [kh, kw] = pair(kernel);
  const [sh, sw] = pair(opts.stride ?? kernel),
    [ph, pw] = pair(opts.padding ?? 0);
  positive('kernel size', kh);
  positive('kernel size', kw);
  positive('stride', sh);
  positive('stride', sw);
  // A fractional padding would pass the range check below and index between pixels (NaN outputs).
  positive('padding', ph, 0);
  positive('padding', pw, 0);
  if (ph * 2 > kh || pw * 2 > kw || ph < 0 || pw < 0)
    throw new Error(`pool padding must be between 0 and half the kernel size`);
  const [N, C, H, W] = x.shape;
  const OH = Math.floor((H + 2 * ph - kh) / sh) + 1,
    OW = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (OH < 1 || OW < 1) throw new Error(`${mode}Pool2d: a ${kh}×${kw} window does not fit a ${H}×${W} input`);
  const g: PoolGeom = { P: N * C, H, W, kh, kw, sh, sw, ph, pw, OH, OW };
  const out = scopedEmpty([N, C, OH, OW], x.dtype);
  backendFor(x.dtype).pool2dForward(x.data, g, mode, out.data);
  return record(out, 'pool2d', [x], { g, mode });
}

/** Max pooling over kh×kw windows (stride defaults to the kernel size). */
export const maxPool2d = (x: Tensor, kernel: Pair, opts: Pool2dOptions = {}): Tensor => pool2d(x, 'max', kernel, opts);
/** Average pooling; padded positions count in the divisor (PyTorch's default). */
export const avgPool2d = (x: Tensor, kernel: Pair, opts: Pool2dOptions = {}): Tensor => pool2d(x, 'avg', kernel, opts);

/** 1-D max pooling over [N, C, L]. */
export function maxPool1d(x: Tensor, kernel: number, opts: { stride?: number; padding?: number } = {}): Tensor {
  if (x.rank !== 3) throw new Error(`maxPool1d expects [N, C, L], got ${fmt(x.shape)}`);
  const y = pool2d(reshape(x, [x.shape[0], x.shape[1], 1, x.shape[2]]), 'max', [1, kernel], {
    stride: [1, opts.stride ?? kernel],
    padding: [0, opts.padding ?? 0],
  });
  return reshape(y, [y.shape[0], y.shape[1], y.shape[3]]);
}

export const convRules: { conv2d: Rule; pool2d: Rule } = {
  conv2d: (n, _o, gy) => {
    const g = n.saved.g as ConvGeom;
    const [x, w, b] = n.inputs;
    // the kernel writes every element of dw, db and dx
    const dw = scopedEmptyLike(gy, w.size);
    const db = b && needs(n, 2) ? scopedEmptyLike(gy, b.size) : null;
    const dx = needs(n, 0) ? scopedEmptyLike(gy, x.size) : null;
    backendFor(x.dtype).conv2dBackward(x.data, w.data, gy, g, dw, db, dx);
    return [dx, needs(n, 1) ? dw : null, db];
  },
  pool2d: (n, _o, gy) => {
    const x = n.inputs[0];
    const dx = scopedEmptyLike(gy, x.size); // zero-filled by the kernel
    backendFor(x.dtype).pool2dBackward(x.data, gy, n.saved.g as PoolGeom, n.saved.mode as PoolMode, dx);
    return [dx];
  },
};
