// Synapses as pairs of programmable conductances (spec 07, step 3), behind one small interface so that
// another device model can be plugged in. The default models a near-linear gated Schottky diode (Bae et
// al., IEEE EDL 2017: conductance near-linear in the number of identical pulses). A faithful MODEL of
// hardware, not hardware: the constants below are ours, the paper's are not published.
import { Rng } from '../../core/rng.js';
import { Conv2d, Linear, Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';

/** A synaptic device model: programs one layer's weights and returns what the devices realise. */
export interface SynapseDevice {
  readonly name: string;
  /** Conductance levels each device can be set to (for reports). */
  readonly levels: number;
  /** Weights realised for target weights w (a zero weight is a pruned synapse: absent, stays 0). */
  program(w: Float32Array, rng: Rng): Float32Array;
}

export interface ConductancePairOptions {
  /** L ≥ 2 conductance levels per device (pulse counts p = 0 … L − 1). */
  levels: number;
  /** ν ≥ 0: 0 is linear; ν > 0 bends G(p) as 1 − e^{−νp/P} (saturating potentiation). */
  nonlinearity?: number;
  /** σ ≥ 0: device-to-device variation, each conductance G·(1 + σε), ε ~ N(0, 1), seeded. */
  variation?: number;
  /** G_min and G_max in arbitrary units (default 0.1 and 1: an on/off ratio of 10, ours). */
  gMin?: number;
  gMax?: number;
}

/** Checks device options, naming the bad field and the fix. */
export function checkDeviceOptions(o: ConductancePairOptions): Required<ConductancePairOptions> {
  const r = { nonlinearity: 0, variation: 0, gMin: 0.1, gMax: 1, ...o };
  if (!Number.isInteger(r.levels) || r.levels < 2 || r.levels > 1 << 16)
    throw new Error(`device: levels must be an integer in [2, 65536] (L conductance levels), got ${r.levels}`);
  if (!(r.nonlinearity >= 0) || !Number.isFinite(r.nonlinearity))
    throw new Error(`device: nonlinearity ν must be a finite number ≥ 0 (0 = linear), got ${r.nonlinearity}`);
  if (!(r.variation >= 0) || !Number.isFinite(r.variation))
    throw new Error(`device: variation σ must be a finite number ≥ 0 (0 = identical devices), got ${r.variation}`);
  if (!(r.gMin >= 0 && r.gMax > r.gMin) || !Number.isFinite(r.gMax))
    throw new Error(`device: need 0 ≤ gMin < gMax, got gMin ${r.gMin}, gMax ${r.gMax}`);
  return r;
}

/**
 * A weight as the difference of two devices, w = β(G⁺ − G⁻), each G ∈ {G(p) : p = 0 … P}, P = L − 1, with
 * G(p) = G_min + (G_max − G_min)·(1 − e^{−νp/P})/(1 − e^{−ν})
 * (G_min + (G_max − G_min)·p/P when ν = 0). Per layer β = max|w|/(G_max − G_min). A weight is programmed
 * open-loop, as identical pulses would be on a device assumed linear: p = round(|w|/(β(G_max − G_min))·P) pulses on
 * G⁺ (w > 0) or G⁻ (w < 0), the other device left at G_min; the nonlinearity then bends the realised weight, and
 * variation scales each device by (1 + σε). Pruned synapses (w = 0 exactly) are left out of the array (both devices
 * at G_min would add only the variation noise β·G_min·σ(ε₁ − ε₂); we model them as absent).
 */
export class ConductancePair implements SynapseDevice {
  readonly name = 'conductance-pair';
  readonly o: Required<ConductancePairOptions>;
  constructor(o: ConductancePairOptions) {
    this.o = checkDeviceOptions(o);
  }
  get levels(): number {
    return this.o.levels;
  }
  /** Conductance after p pulses (p = 0 … L − 1). */
  conductance(p: number): number {
    const { gMin, gMax, nonlinearity: nu, levels } = this.o,
      P = levels - 1;
    const f = nu === 0 ? p / P : (1 - Math.exp((-nu * p) / P)) / (1 - Math.exp(-nu));
    return gMin + (gMax - gMin) * f;
  }
  program(w: Float32Array, rng: Rng): Float32Array {
    const { gMin, gMax, variation: s, levels } = this.o,
      P = levels - 1;
    let m = 0;
    for (let i = 0; i < w.length; i++) m = Math.max(m, Math.abs(w[i]));
    const out = new Float32Array(w.length);
    if (m === 0) return out;
    const beta = m / (gMax - gMin);
    for (let i = 0; i < w.length; i++) {
      if (w[i] === 0) continue;
      const p = Math.round((Math.abs(w[i]) / m) * P);
      let gOn = this.conductance(p),
        gOff = gMin;
      if (s > 0) ((gOn *= 1 + s * rng.normal()), (gOff *= 1 + s * rng.normal()));
      out[i] = w[i] > 0 ? beta * (gOn - gOff) : beta * (gOff - gOn);
    }
    return out;
  }
}

const weightLayers = (m: Module): (Linear | Conv2d)[] =>
  m instanceof Sequential
    ? m.layers.flatMap(weightLayers)
    : m instanceof Linear || m instanceof Conv2d
      ? [m]
      : m.children().flatMap(([, c]) => weightLayers(c));

/**
 * Replace every linear and conv2d weight of `model` by what `device` realises (biases stay digital: in a
 * crossbar they are a constant input current). Seeded: the same seed gives the same variation.
 */
export function programDevices(model: Module, device: SynapseDevice, seed = 1): { layers: number } {
  const rng = new Rng(seed),
    ls = weightLayers(model);
  for (const l of ls) {
    l.weight.data.set(device.program(l.weight.data as Float32Array, rng.fork()));
    l.weight.markChanged();
  }
  return { layers: ls.length };
}

export { weightLayers };
