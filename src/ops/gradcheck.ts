import { Tensor } from '../core/tensor.js';

export interface GradcheckResult {
  ok: boolean;
  maxAbsError: number;
  maxRelError: number;
  /** Which input and element failed, when one did. */
  worst: string;
}

/**
 * Compare the analytic gradient of Σ(f(inputs) ⊙ probe) with central differences
 * (f(x+h) − f(x−h)) / 2h for every element of every input that requires a gradient.
 * Use float64 inputs. A fixed random probe makes non-scalar outputs a scalar test.
 */
export function gradcheck(f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], opts: { eps?: number; atol?: number; rtol?: number } = {}): GradcheckResult {
  const eps = opts.eps ?? 1e-6, atol = opts.atol ?? 1e-5, rtol = opts.rtol ?? 1e-3;
  for (const x of inputs) {
    if (x.dtype !== 'float64') throw new Error('gradcheck needs float64 inputs (tensor.to("float64"))');
    x.grad = null;
  }
  const y0 = f(...inputs);
  const probe = new Float64Array(y0.size);
  for (let i = 0; i < probe.length; i++) probe[i] = Math.sin(1.7 * i + 0.3) + 1.1;
  const scalar = (t: Tensor): number => { let s = 0; for (let i = 0; i < t.size; i++) s += t.data[i] * probe[i]; return s; };
  y0.backward(new Tensor(probe, y0.shape));
  let maxAbs = 0, maxRel = 0, ok = true, worst = '';
  inputs.forEach((x, xi) => {
    if (!x.requiresGrad) return;
    const analytic = x.grad ? x.grad.data : new Float64Array(x.size);
    for (let i = 0; i < x.size; i++) {
      const old = x.data[i];
      x.data[i] = old + eps; const fp = scalar(f(...inputs));
      x.data[i] = old - eps; const fm = scalar(f(...inputs));
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
  return { ok, maxAbsError: maxAbs, maxRelError: maxRel, worst };
}
