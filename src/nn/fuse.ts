// Inference planning for Sequential: in eval mode with gradients off, a layer followed by a ReLU runs as one
// fused kernel (the activation applied where the layer stores its output), skipping the separate relu pass.
// Training and anything recorded on the tape keep the separate layers. The results are bit-identical: relu is
// exact, and the fused kernels compute it with the same instructions as the relu kernel.
import { isGradEnabled, type Tensor } from '../core/tensor.js';
import { conv2dFused, linearRelu } from '../ops/index.js';
import { geometry } from '../ops/conv.js';
import { Activation, Conv2d, Linear, MaxPool2d } from './layers.js';
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
 * Run layers in order, fusing Conv2d → ReLU (→ MaxPool2d(2)) and Linear → ReLU (see fusing() for when). An input
 * of a wrong shape goes through the unfused layer, so its error message is the layer's own.
 */
export function fusedForward(layers: readonly Module[], x: Tensor): Tensor {
  for (let i = 0; i < layers.length; i++) {
    const l = layers[i];
    if (isRelu(layers[i + 1])) {
      if (plain(l, Conv2d) && x.rank === 4) {
        const c = l as Conv2d;
        const opts = { stride: c.stride, padding: c.padding, dilation: c.dilation };
        // Pool too when the output is at least 2×2 (smaller ones go to MaxPool2d, which names the problem).
        const g = geometry('conv2d', x.shape, c.weight.shape, opts);
        const pool = isPool2(layers[i + 2]) && g.OH >= 2 && g.OW >= 2;
        x = conv2dFused(x, c.weight, c.bias, opts, { relu: true, pool });
        i += pool ? 2 : 1;
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
