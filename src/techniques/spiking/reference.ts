// The plain reference simulation (the test oracle of DESIGN.md's "reference first, fast second"): one
// time step at a time, every layer updated in the same step as in Diehl et al.'s nnlifsim, with plain
// loops for the synapses. SpikingNetwork must equal it spike for spike.
import { Rng } from '../../core/rng.js';
import { AvgPool2d, Conv2d, Flatten, Linear } from '../../nn/layers.js';
import { IFNeuron, ifStep } from './neuron.js';
import type { SpikingNetwork } from './network.js';

/** What the reference simulation returns: the network's output and every IF population's spike count. */
export interface ReferenceRun {
  /** [B × K]: output spike counts (or accumulated potential), as SpikingNetwork.forward returns. */
  output: Float32Array;
  /** Total spikes of each IF population over the batch and all steps. */
  spikes: number[];
}

function linear(l: Linear, s: Float32Array): Float32Array {
  const [O, I] = l.weight.shape,
    W = l.weight.data,
    y = new Float32Array(O);
  for (let o = 0; o < O; o++) {
    let a = l.bias ? l.bias.data[o] : 0;
    for (let i = 0; i < I; i++) if (s[i] !== 0) a += W[o * I + i] * s[i];
    y[o] = a;
  }
  return y;
}

function conv(l: Conv2d, s: Float32Array, [C, H, W]: number[]): { y: Float32Array; shape: number[] } {
  const [Co, , K] = l.weight.shape,
    st = l.stride,
    p = l.padding,
    d = l.dilation;
  const OH = Math.floor((H + 2 * p - d * (K - 1) - 1) / st) + 1,
    OW = Math.floor((W + 2 * p - d * (K - 1) - 1) / st) + 1;
  const y = new Float32Array(Co * OH * OW),
    w = l.weight.data;
  for (let o = 0; o < Co; o++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let a = l.bias ? l.bias.data[o] : 0;
        for (let c = 0; c < C; c++)
          for (let ky = 0; ky < K; ky++)
            for (let kx = 0; kx < K; kx++) {
              const iy = oy * st - p + ky * d,
                ix = ox * st - p + kx * d;
              if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
              a += w[((o * C + c) * K + ky) * K + kx] * s[(c * H + iy) * W + ix];
            }
        y[(o * OH + oy) * OW + ox] = a;
      }
  return { y, shape: [Co, OH, OW] };
}

function avgpool(l: AvgPool2d, s: Float32Array, [C, H, W]: number[]): { y: Float32Array; shape: number[] } {
  const k = l.kernelSize,
    st = l.stride;
  if (l.padding !== 0) throw new Error('reference simulation: padded average pooling is not modelled');
  const OH = Math.floor((H - k) / st) + 1,
    OW = Math.floor((W - k) / st) + 1,
    y = new Float32Array(C * OH * OW);
  for (let c = 0; c < C; c++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        let a = 0;
        for (let ky = 0; ky < k; ky++) for (let kx = 0; kx < k; kx++) a += s[(c * H + oy * st + ky) * W + ox * st + kx];
        y[(c * OH + oy) * OW + ox] = a / (k * k);
      }
  return { y, shape: [C, OH, OW] };
}

/**
 * Simulate `net` on a batch x [B × input] step by step with plain loops: the input is coded as the
 * network codes it (the same seeded Poisson stream, drawn in the same order: step, then sample, then pixel),
 * then each layer in turn within the step. Restarts the network's Poisson seed, as a fresh network would.
 */
export function simulateReference(net: SpikingNetwork, x: Float32Array, B: number): ReferenceRun {
  const feat = x.length / B,
    layers = net.net.layers,
    ifs = layers.map((l) => (l instanceof IFNeuron ? l.options : null));
  const rng = new Rng(net.seed);
  const V: (Float32Array | null)[][] = Array.from({ length: B }, () => layers.map(() => null));
  const spikes = layers.map(() => 0);
  let output: Float32Array | null = null;
  for (let t = 0; t < net.timesteps; t++) {
    const inputs: Float32Array[] = [];
    for (let b = 0; b < B; b++) {
      const s = new Float32Array(feat);
      for (let i = 0; i < feat; i++) {
        const p = x[b * feat + i];
        s[i] = net.coding === 'constant' ? p : rng.random() < p ? 1 : 0;
      }
      inputs.push(s);
    }
    for (let b = 0; b < B; b++) {
      let s = inputs[b],
        shape = net.input;
      layers.forEach((l, li) => {
        if (l instanceof Linear) ((s = linear(l, s)), (shape = [s.length]));
        else if (l instanceof Conv2d) ({ y: s, shape } = conv(l, s, shape));
        else if (l instanceof AvgPool2d) ({ y: s, shape } = avgpool(l, s, shape));
        else if (l instanceof Flatten) shape = [s.length];
        else if (l instanceof IFNeuron) {
          const v = (V[b][li] ??= new Float32Array(s.length)),
            out = new Float32Array(s.length);
          spikes[li] += ifStep(v, s, 0, out, 0, ifs[li]!);
          s = out;
        } else throw new Error(`reference simulation: layer ${l.toSpec().type} is not modelled`);
      });
      output ??= new Float32Array(B * s.length);
      for (let k = 0; k < s.length; k++) output[b * s.length + k] += s[k];
    }
  }
  return { output: output!, spikes: spikes.filter((_, i) => ifs[i]) };
}
