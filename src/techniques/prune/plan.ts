// What the two pruneToRate designs share: the plan fit() drives, and the checks and tolerance.
import type { Tensor } from '../../core/tensor.js';

/** Within ±0.5 percentage points: the acceptance band of the issue and the spec. */
export const RATE_TOLERANCE = 0.005;

/** A pruning design as fit() drives it: hooks around the optimizer steps, a penalty, the end. */
export interface Plan {
  afterStep(step: number): void;
  onEpochBegin?(step: number): void;
  regularizer?: () => Tensor;
  finish?(): void;
  channels?(): { layer: number; before: number; after: number }[];
}

export const ones = (n: number): Float32Array => new Float32Array(n).fill(1);

export function checkFraction(name: string, v: number, lo = 0, hi = 1): void {
  if (!(typeof v === 'number' && v > lo && v < hi)) {
    throw new Error(`pruneToRate: ${name} must lie strictly between ${lo} and ${hi}, got ${v}`);
  }
}
