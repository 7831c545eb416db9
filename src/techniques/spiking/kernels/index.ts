// The spiking kernel family: integrate-and-fire membrane updates over the steps of a time-folded batch.
// Reference and WebAssembly implementations side by side (reference.ts, wasm.ts), spike for spike equal.
import { kernelFamily } from '../../../backend/family.js';
import type { IFOptions } from '../neuron.js';
import { spikingReference } from './reference.js';
import { spikingWasm } from './wasm.js';

export interface SpikingKernels {
  /**
   * T steps of n = B·feat IF neurons, rows time-major: membrane potentials v [n] updated in place, spikes (0/1)
   * to out [T·n], each feature's spikes (summed over batch and steps) added to counts [feat]. cur holds T rows of
   * n currents, or (constant) one row used at every step.
   */
  ifSteps(
    v: Float32Array,
    cur: Float32Array,
    constant: boolean,
    out: Float32Array,
    counts: Float32Array,
    T: number,
    B: number,
    o: Required<IFOptions>,
  ): void;
  /**
   * A linear layer's output for R rows of binary inputs s [R × K] (spikes, 0 or 1), event-driven: each row's
   * output starts from the bias [N] (or 0) and adds weight [N × K]'s column j for every spike j, in index order.
   */
  spikeLinear(
    s: Float32Array,
    R: number,
    weight: Float32Array,
    N: number,
    bias: Float32Array | null,
    out: Float32Array,
  ): void;
}

/** The spiking kernels: `spikingKernels.for('float32').ifSteps(…)`. */
export const spikingKernels = kernelFamily<SpikingKernels>('spiking', {
  reference: spikingReference,
  wasm: spikingWasm,
});
