import { OPS, type OpName } from '../core/op.js';
import { Tensor } from '../core/tensor.js';
import { registeredOps } from './registry.js';

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  /** Which input and element failed, when one did. */
  worst: string;
  /** The ops on f's tape: the ops this check covers. */
  ops: OpName[];
}

/** The distinct ops on the tape that produced t (before backward frees it). */
export function tapeOps(t: Tensor): OpName[] {
  const ops = new Set<OpName>(),
    seen = new Set<Tensor>(),
    stack = [t];
  while (stack.length) {
    const u = stack.pop()!;
    if (seen.has(u) || !u.node) continue;
    seen.add(u);
    ops.add(u.node.op);
    stack.push(...u.node.inputs);
  }
  return [...ops];
}

/**
 * Every op, core (OPS) or registered by a technique (defineOp), that no check covers: what a
 * test suite must leave empty so that a new op cannot land without a gradient check.
 */
export function missingGradchecks(covered: Iterable<OpName>): OpName[] {
  const have = new Set(covered);
  return [...OPS, ...registeredOps()].filter((op) => !have.has(op));
}

/** Tolerances of gradcheck, and the function whose central differences a surrogate gradient must match. */
export interface GradcheckOptions {
  eps?: number;
  atol?: number;
  rtol?: number;
  /**
   * For ops with a surrogate (straight-through) gradient: take the central differences of this
   * function instead of f (steSign's clipped STE is the derivative of hardtanh).
   */
  surrogate?: (...xs: Tensor[]) => Tensor;
}

/**
 * Compare the analytic gradient of Σ(f(inputs) ⊙ probe) with central differences
 * (f(x+h) − f(x−h)) / 2h for every element of every input that requires a gradient.
 * Use float64 inputs. A fixed random probe makes non-scalar outputs a scalar test.
 */
export function gradcheck(
  f: (...xs: Tensor[]) => Tensor,
  inputs: Tensor[],
  opts: GradcheckOptions = {},
): GradcheckResult {
  const eps = opts.eps ?? 1e-6,
    atol = opts.atol ?? 1e-5,
    rtol = opts.rtol ?? 1e-3;
  for (const x of inputs) {
    if (x.dtype !== 'float64') throw new Error('gradcheck needs float64 inputs (tensor.to("float64"))');
    x.grad = null;
  }
  const y0 = f(...inputs),
    ops = tapeOps(y0),
    numeric = opts.surrogate ?? f;
  const probe = new Float64Array(y0.size);
  for (let i = 0; i < probe.length; i++) probe[i] = Math.sin(1.7 * i + 0.3) + 1.1;
  const scalar = (t: Tensor): number => {
    let s = 0;
    for (let i = 0; i < t.size; i++) s += t.data[i] * probe[i];
    return s;
  };
  y0.backward(new Tensor(probe, y0.shape));
  let maxAbs = 0,
    maxRel = 0,
    ok = true,
    worst = '';
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? x.grad.data : new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      x.data[i] = old + eps;
      const fp = scalar(numeric(...inputs));
      x.data[i] = old - eps;
      const fm = scalar(numeric(...inputs));
      x.data[i] = old;
      const num = (fp - fm) / (2 * eps);
      const err = Math.abs(num - analytic[i]);
      const rel = err / Math.max(Math.abs(num), Math.abs(analytic[i]), 1e-12);
      if (err > maxAbs) maxAbs = err;
      if (err > atol && rel > maxRel) maxRel = rel;
      if (err > atol + rtol * Math.abs(num)) {
        if (ok) worst = `input ${xi} element ${i}: analytic ${analytic[i]}, numeric ${num}`;
        ok = false;
      }
    }
  });
  return { ok, maxAbsError: maxAbs, maxRelError: maxRel, worst, ops };
}
