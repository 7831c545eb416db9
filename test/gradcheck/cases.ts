// THE list of gradient-check cases, core and technique ops alike. Each module of cases (core.ts,
// one per technique) adds to it when imported; all.ts imports them all, gradcheck.test.ts runs
// every case and fails when an op (core OPS or registered with defineOp) has none.
import { Rng, Tensor, type GradcheckOptions } from '../../src/index.js';

export interface GradcheckCase {
  name: string;
  f: (...xs: Tensor[]) => Tensor;
  inputs: Tensor[];
  opts: GradcheckOptions;
}

export const CASES: GradcheckCase[] = [];

/** Add a case: the gradient of f at inputs (float64 leaves) must match central differences. */
export function gradcheckCase(
  name: string,
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): void {
  CASES.push({ name, f, inputs, opts });
}

/** Input makers drawing from one seeded generator (each case module has its own). */
export function inputs(seed: number) {
  const rng = new Rng(seed);
  /** A float64 leaf that requires a gradient, values in [lo, hi). */
  function leaf(shape: number[], lo = -1, hi = 1): Tensor {
    const t = Tensor.rand(shape, rng, lo, hi, 'float64');
    t.requiresGrad = true;
    return t;
  }
  /** Values kept away from kinks (relu at 0, hardtanh at ±1, max ties). */
  function awayFromKinks(shape: number[]): Tensor {
    const t = leaf(shape);
    for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i] >= 0 ? 0.1 : -0.1) + t.data[i] * 0.8 + i * 1e-3;
    return t;
  }
  return { rng, leaf, awayFromKinks };
}
