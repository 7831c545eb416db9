// Fan-out of a synaptic layer's inputs (for synaptic events: spikes × non-zero synapses leaving them) and
// the layer's MACs in the ANN, which `SpikingNetwork.cost()` sets the spikes against.
import { AvgPool2d, Conv2d, Linear } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';

/**
 * Fan-out of each input feature of a synaptic layer (non-zero synapses leaving it), and the layer's ANN MACs.
 * Conv: a spike of channel c at an interior pixel reaches every non-zero w[:, c, :, :] once at stride 1
 * (1/stride² of them on average otherwise; border pixels reach fewer — an upper bound there).
 * Average pooling (kernel = stride): one synapse per input.
 */
export function fanOut(
  l: Module,
  inShape: number[],
  outShape: number[],
): { fan: (j: number) => number; macs: number; effective: number } {
  if (l instanceof Linear) {
    const W = l.weight.data,
      [O, I] = l.weight.shape;
    const f = new Float64Array(I);
    let nz = 0;
    for (let o = 0; o < O; o++) for (let i = 0; i < I; i++) if (W[o * I + i] !== 0) (f[i]++, nz++);
    const rows = inShape.slice(0, -1).reduce((a, b) => a * b, 1);
    return { fan: (j) => f[j % I], macs: rows * O * I, effective: rows * nz };
  }
  if (l instanceof Conv2d) {
    const w = l.weight.data,
      [Co, C, kh, kw] = l.weight.shape;
    const f = new Float64Array(C);
    let nz = 0;
    for (let o = 0; o < Co; o++)
      for (let c = 0; c < C; c++)
        for (let k = 0; k < kh * kw; k++) if (w[(o * C + c) * kh * kw + k] !== 0) (f[c]++, nz++);
    const hw = inShape[1] * inShape[2],
      ohw = outShape[1] * outShape[2],
      s2 = l.stride * l.stride;
    return { fan: (j) => f[Math.floor(j / hw) % C] / s2, macs: Co * C * kh * kw * ohw, effective: nz * ohw };
  }
  if (l instanceof AvgPool2d) return { fan: () => 1, macs: 0, effective: 0 };
  return { fan: () => 0, macs: 0, effective: 0 };
}
