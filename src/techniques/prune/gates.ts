// Channel gates for structured pruning to a budget. [OURS] A stand-in modelled on AutoPruner
// (Luo & Wu 2018): each channel group's output is multiplied by v = sigmoid(α·s), s a learned
// score per channel (AutoPruner computes s from the activations; ours is input-independent, so a
// gate at 0 is a channel that can be deleted). α grows every epoch until v is nearly binary.
import { Tensor } from '../../core/tensor.js';
import * as F from '../../ops/index.js';
import type { HookHandle, Module } from '../../nn/module.js';

export interface Gate {
  module: Module;
  score: Tensor;
  channels: number;
  /** The forward hook that applies the gate (removed by removeGates). */
  hook?: HookHandle;
  /** When false the gate passes its input through (after the hard cut the masks do the work). */
  active: boolean;
}

export interface GateSet {
  gates: Gate[];
  /** Sharpness α of sigmoid(α·s); set per epoch. */
  alpha: number;
}

/** The gate values v = sigmoid(α·s) of one gate, on the tape (for the budget penalty). */
export function gateValues(set: GateSet, g: Gate): Tensor {
  return F.sigmoid(F.mul(g.score, set.alpha));
}

/** Install a gate on `m`'s output channels (axis 1); the score starts at `init` (v ≈ 0.95 at α = 1 for 3). */
export function installGate(set: GateSet, m: Module, channels: number, init = 3): Gate {
  const score = Tensor.full([channels], init);
  m.setEntry('parameter', 'gateScore', score);
  const g: Gate = { module: m, score, channels, active: true };
  g.hook = m.registerForwardHook((_m, _x, y) => {
    if (!g.active) return y;
    if (y.shape[1] !== channels) throw new Error(`channel gate expects ${channels} channels, got [${y.shape}]`);
    const shape = y.shape.map((d, i) => (i === 1 ? d : 1));
    return F.mul(y, F.reshape(gateValues(set, g), shape));
  });
  set.gates.push(g);
  return g;
}

/** Remove every gate: forwards and parameters as before installGate. */
export function removeGates(set: GateSet): void {
  for (const g of set.gates.reverse()) {
    g.hook?.remove();
    g.module.setEntry('parameter', 'gateScore', null);
  }
  set.gates = [];
}
