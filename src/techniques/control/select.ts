// Policy selection on validation states [OURS]: GDHP's closed-loop quality swings during training (on
// the CSTR between ~1.06 and ~3 × iLQR's cost while the learning rate decays), so the last policy is
// close to a random draw among them. trainGdhp scores the actor every few episodes on a fixed set of
// validation initial states and, at the end, restores the networks of the best-scoring episode
// (early stopping by best checkpoint). The states come from their own seeded stream, never a test stream.
import { Rng } from '../../core/rng.js';
import type { Module } from '../../nn/module.js';
import type { Plant } from './plant.js';
import { drawStates, NonFiniteStateError, rollout } from './rollout.js';
import { actorPolicy, type GdhpNets } from './step.js';

/** How trainGdhp chooses the policy it returns. */
export interface PolicySelection {
  /** Score after every `every` episodes and after the last. */
  every: number;
  /** The networks' score, lower is better (NaN counts as +∞). Called with the current networks. */
  score: (nets: GdhpNets) => number;
}

/** The selection a run made: the episode whose networks were restored, its score, every score taken. */
export interface SelectionRecord {
  episode: number;
  score: number;
  scores: { episode: number; score: number }[];
}

/** Where the validation states come from: a seeded stream of `states` draws from the plant's box. */
export interface ValidationStates {
  seed: number;
  states: number;
}

export const NET_KEYS = ['critic', 'costate', 'actor', 'criticTarget', 'costateTarget', 'actorTarget'] as const;

/** Copies every parameter and buffer of the six networks (the snapshot a selection may restore). */
export function copyNets(nets: GdhpNets): Record<string, number[]> {
  const out: Record<string, number[]> = {};
  for (const k of NET_KEYS)
    for (const [name, t] of Object.entries((nets[k] as Module).stateDict())) out[`${k}.${name}`] = Array.from(t.data);
  return out;
}

/** Writes a copyNets snapshot back into the networks. */
export function loadNets(nets: GdhpNets, snap: Record<string, number[]>): void {
  for (const k of NET_KEYS)
    for (const [name, t] of Object.entries((nets[k] as Module).stateDict())) {
      const v = snap[`${k}.${name}`];
      if (!v || v.length !== t.size) throw new Error(`policy selection: the snapshot has no ${k}.${name} of ${t.size}`);
      t.data.set(v);
      t.markChanged();
    }
}

/** The validation initial states [S·n]: their own stream, drawn uniformly from the plant's box. */
export function validationStates(plant: Plant, v: ValidationStates): Float64Array {
  const rng = new Rng(v.seed);
  return drawStates(plant, v.states, () => rng.random());
}

export interface ScoreOptions {
  /**
   * A reference cost per state (iLQR's): the score is then mean over states of min(J/J_ref, cap); without
   * it, the mean closed-loop cost J.
   */
  reference?: ArrayLike<number>;
  /** Ratio given to a state whose closed loop leaves the bound or diverges (default 3; reference only). */
  cap?: number;
  /** A closed loop whose |xᵢ| exceeds this is unbounded (default ∞: only non-finite states are). */
  bound?: number;
}

/**
 * A selection score from S validation states x0 over T steps. With a reference: mean of
 * min(J_s/J_ref,s, cap), unbounded or diverged states scoring cap, so that one bad state cannot hide
 * behind a good median and one diverged state costs no more than the cap. Without: the mean cost
 * (+∞ if any closed loop is unbounded or diverges).
 */
export function closedLoopScore(
  plant: Plant,
  x0: Float64Array,
  S: number,
  T: number,
  o: ScoreOptions = {},
): (nets: GdhpNets) => number {
  const cap = o.cap ?? 3,
    bound = o.bound ?? Infinity,
    ref = o.reference;
  if (ref && ref.length !== S) throw new Error(`policy selection: ${ref.length} reference costs for ${S} states`);
  return (nets) => {
    let cost: Float64Array, maxAbs: Float64Array;
    try {
      ({ cost, maxAbs } = rollout(plant, actorPolicy(nets.actor, plant.n), x0, S, T));
    } catch (e) {
      if (!(e instanceof NonFiniteStateError)) throw e;
      return ref ? cap : Infinity;
    }
    let s = 0;
    for (let i = 0; i < S; i++) {
      const bad = !(maxAbs[i] <= bound) || !Number.isFinite(cost[i]);
      if (ref) s += bad ? cap : Math.min(cost[i] / ref[i], cap);
      else if (bad) return Infinity;
      else s += cost[i];
    }
    return s / S;
  };
}
