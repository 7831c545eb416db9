// A Fit-DNN's shape (spec 04): M inputs, N nodes per layer, L layers, D delay loops with offsets n'_d,
// node separation θ, P outputs. Checked once here, so the layer, the planner and the DDE solver share one
// set of messages, each naming the spec field and what would be accepted.
import type { Rng } from '../../core/rng.js';

export interface FitDnnConfig {
  /** M: input features. */
  inFeatures: number;
  /** N: nodes per layer (θ-long time slots of the one neuron). */
  hidden: number;
  /** L: layers (time windows of length T = Nθ). */
  layers: number;
  /** n'_d, d = 1..D: the delay loops' offsets, τ_d = (N + n'_d)θ; distinct integers in −N+1..N−1. */
  offsets: number[];
  /** θ: node separation in units of the neuron's time constant. */
  theta: number;
  /** P: outputs. */
  outFeatures: number;
  /** θ → ∞: x^ℓ_n = f(a^ℓ_n), the ordinary sparse MLP with the same weights (no local coupling). */
  decoupled: boolean;
}

const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);

/** A positive integer field, refused with its name. */
function positive(field: string, v: unknown, what: string): number {
  if (!isInt(v) || v < 1) throw new Error(`fit-dnn: '${field}' (${what}) must be a positive integer, got ${String(v)}`);
  return v;
}

/**
 * Check the delay offsets: D distinct integers in −N+1..N−1 (a loop must connect a node of layer ℓ to
 * one of layer ℓ−1). Throws naming the field and the allowed range.
 */
export function checkOffsets(offsets: unknown, N: number, D?: number): number[] {
  if (!Array.isArray(offsets) || offsets.length === 0)
    throw new Error(`fit-dnn: 'offsets' must be a non-empty array of integers in ${-N + 1}..${N - 1}`);
  if (D !== undefined && offsets.length !== D)
    throw new Error(`fit-dnn: 'offsets' has ${offsets.length} entries but 'diagonals' is ${D}; give D offsets`);
  const seen = new Set<number>();
  for (const o of offsets) {
    if (!isInt(o) || o <= -N || o >= N)
      throw new Error(
        `fit-dnn: 'offsets' entry ${JSON.stringify(o)} is out of range: each must be an integer in ` +
          `${-N + 1}..${N - 1} (N = ${N} nodes)`,
      );
    if (seen.has(o)) throw new Error(`fit-dnn: 'offsets' repeats ${o}: the D delay loops need distinct offsets`);
    seen.add(o);
  }
  return [...offsets].sort((a, b) => a - b);
}

/**
 * spec 04's `uniform` draw: D distinct offsets from −N+1..N−1, with at least one negative and one positive
 * when D ≥ 2 (a partial Fisher–Yates shuffle, redrawn until both signs appear). Sorted ascending.
 */
export function drawOffsets(N: number, D: number, rng: Rng): number[] {
  const all = Array.from({ length: 2 * N - 1 }, (_, i) => i - N + 1);
  for (;;) {
    const pool = [...all];
    for (let i = 0; i < D; i++) {
      const j = i + rng.int(pool.length - i);
      [pool[i], pool[j]] = [pool[j], pool[i]];
    }
    const pick = pool.slice(0, D).sort((a, b) => a - b);
    if (D < 2 || (pick[0] < 0 && pick[D - 1] > 0)) return pick;
  }
}

/** The configuration a `fit-dnn` layer spec describes; `rng` draws the offsets when the spec gives none. */
export function configOf(s: Record<string, unknown>, rng?: Rng): FitDnnConfig {
  const M = positive('in', s.in, 'input features M'),
    N = positive('hidden', s.hidden, 'nodes per layer N'),
    L = positive('layers', s.layers, 'layers L'),
    P = positive('out', s.out, 'outputs P');
  const decoupled = s.decoupled === true;
  if (s.decoupled !== undefined && typeof s.decoupled !== 'boolean')
    throw new Error(`fit-dnn: 'decoupled' must be true or false, got ${JSON.stringify(s.decoupled)}`);
  const theta = s.theta;
  if (!decoupled || theta !== undefined) {
    if (typeof theta !== 'number' || !Number.isFinite(theta) || theta <= 0)
      throw new Error(
        `fit-dnn: 'theta' (node separation θ) must be a finite number > 0, got ${JSON.stringify(theta)}; ` +
          'the spec default is 0.5',
      );
  }
  const D = s.diagonals;
  if (!isInt(D) || D < 1 || D > 2 * N - 1)
    throw new Error(
      `fit-dnn: 'diagonals' (delay loops D) must be an integer in 1..${2 * N - 1} (2N − 1 for N = ${N}), ` +
        `got ${JSON.stringify(D)}`,
    );
  let offsets: number[];
  if (s.offsets !== undefined) offsets = checkOffsets(s.offsets, N, D);
  else if (rng) offsets = drawOffsets(N, D, rng);
  else throw new Error("fit-dnn: no 'offsets' and no generator to draw them");
  return {
    inFeatures: M,
    hidden: N,
    layers: L,
    offsets,
    theta: typeof theta === 'number' ? theta : Infinity,
    outFeatures: P,
    decoupled,
  };
}

/** Hidden weights actually used: Σ_d (N − |n'_d|) entries per hidden layer (the D diagonals' lengths). */
export function diagonalEntries(N: number, offsets: readonly number[]): number {
  return offsets.reduce((a, o) => a + N - Math.abs(o), 0);
}
