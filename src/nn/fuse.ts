// Inference planning for Sequential: in eval mode with gradients off, a layer followed by a ReLU runs as one
// fused kernel (the activation applied where the layer stores its output), skipping the separate relu pass.
// Training and anything recorded on the tape keep the separate layers. The results are bit-identical: relu is
// exact, and the fused kernels compute it with the same instructions as the relu kernel. The one exception is a
// Normalize folded into the unpadded Conv2d after it, equal up to float rounding.
import { isGradEnabled, Tensor } from '../core/tensor.js';
import { conv2dFused, linearRelu } from '../ops/index.js';
import { geometry } from '../ops/conv.js';
import { Activation, Conv2d, Linear, MaxPool2d, Normalize } from './layers.js';
import type { Module } from './module.js';

type Env = Record<string, string | undefined>;
const env: Env = (globalThis as { process?: { env?: Env } }).process?.env ?? {};
let enabled = env.FRUGAL_FUSE !== '0';

/**
 * Turn inference fusion on or off (on by default; FRUGAL_FUSE=0 starts with it off); returns the previous
 * setting. Off, a network in eval mode runs layer by layer, as in training: for A/B measurements and tests.
 */
export function setInferenceFusion(on: boolean): boolean {
  const prev = enabled;
  enabled = on;
  return prev;
}

/** Whether a Sequential in eval mode under noGrad fuses its layers now. */
export function fusing(training: boolean): boolean {
  return enabled && !training && !isGradEnabled();
}

/** Exactly this class (a technique's subclass may compute something else), with no hooks or own forward. */
function plain(m: Module, cls: { prototype: object }): boolean {
  return Object.getPrototypeOf(m) === cls.prototype && !Object.hasOwn(m, 'forward') && !m.training;
}

const isRelu = (m: Module | undefined): boolean => !!m && plain(m, Activation) && (m as Activation).kind === 'relu';
/** MaxPool2d(2) with stride 2 and no padding, the case the fused kernels pool. */
function isPool2(m: Module | undefined): boolean {
  if (!m || !plain(m, MaxPool2d)) return false;
  const p = m as MaxPool2d;
  return p.kernelSize === 2 && p.stride === 2 && p.padding === 0;
}

/**
 * Whether Normalize l folds into Conv2d c on input x: no padding (a zero pad of the normalized image is the
 * mean, not zero, of the raw one), float32, and channels that agree (otherwise the layers name the problem).
 */
function foldable(l: Module, c: Module | undefined, x: Tensor): boolean {
  if (!plain(l, Normalize) || !c || !plain(c, Conv2d)) return false;
  const n = l as Normalize,
    conv = c as Conv2d;
  return (
    conv.padding === 0 &&
    x.rank === 4 &&
    x.dtype === 'float32' &&
    conv.weight.dtype === 'float32' &&
    x.shape[1] === conv.inChannels &&
    (n.mean.length === 1 || n.mean.length === x.shape[1])
  );
}

/**
 * Normalize (y = x·inv_c + shift_c, inv_c = 1/std_c and shift_c = −mean_c/std_c as Normalize rounds them to
 * float32) folded into the Conv2d after it: w'[o, c, ·] = w[o, c, ·]·inv_c and
 * b'[o] = b[o] + Σ_{c,·} w[o, c, ·]·shift_c (the sum in float64). Equal to the two layers up to float rounding
 * (tolerance in test/fusion.test.ts). Built on every call (Co·C·k² values), so a weight changed after eval() is
 * never stale.
 */
function foldNormalize(n: Normalize, c: Conv2d): [Tensor, Tensor] {
  const [Co, C] = c.weight.shape,
    taps = c.weight.size / (Co * C),
    w = c.weight.data;
  const wf = new Float32Array(w.length),
    bf = new Float32Array(Co);
  for (let o = 0; o < Co; o++) {
    let acc = c.bias ? c.bias.data[o] : 0;
    for (let ci = 0; ci < C; ci++) {
      const k = n.mean.length === 1 ? 0 : ci;
      const inv = Math.fround(1 / n.std[k]),
        shift = Math.fround(-n.mean[k] / n.std[k]);
      for (let t = (o * C + ci) * taps, e = t + taps; t < e; t++) {
        wf[t] = w[t] * inv;
        acc += w[t] * shift;
      }
    }
    bf[o] = acc;
  }
  return [new Tensor(wf, c.weight.shape), new Tensor(bf, [Co])];
}

/** The Conv2d at layers[i] with weights w, b, and the relu (and pooling) after it: the output, the last layer used. */
function convStep(layers: readonly Module[], i: number, x: Tensor, w: Tensor, b: Tensor | null): [Tensor, number] {
  const c = layers[i] as Conv2d;
  const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation };
  const relu = isRelu(layers[i + 1]);
  // Pool too when the output is at least 2×2 (smaller ones go to MaxPool2d, which names the problem).
  const g = geometry('conv2d', x.shape, w.shape, opts);
  const pool = relu && isPool2(layers[i + 2]) && g.OH >= 2 && g.OW >= 2;
  return [conv2dFused(x, w, b, opts, { relu, pool }), i + (pool ? 2 : relu ? 1 : 0)];
}

/**
 * Run layers in order, fusing Conv2d → ReLU (→ MaxPool2d(2)) and Linear → ReLU, and folding a Normalize into the
 * unpadded Conv2d after it (see fusing() for when). An input of a wrong shape goes through the unfused layer, so
 * its error message is the layer's own.
 */
export function fusedForward(layers: readonly Module[], x: Tensor): Tensor {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (foldable(l, layers[i + 1], x)) {
      const [w, b] = foldNormalize(l as Normalize, layers[i + 1] as Conv2d);
      [x, i] = convStep(layers, i + 1, x, w, b);
      continue;
    }
    if (isRelu(layers[i + 1])) {
      if (plain(l, Conv2d) && x.rank === 4) {
        [x, i] = convStep(layers, i, x, (l as Conv2d).weight, (l as Conv2d).bias);
        continue;
      }
      if (plain(l, Linear) && x.rank >= 2 && x.shape[x.rank - 1] === (l as Linear).inFeatures) {
        x = linearRelu(x, (l as Linear).weight, (l as Linear).bias);
        i++;
        continue;
      }
    }
    x = l.forward(x);
  }
  return x;
}
