// The arithmetic pass over a model spec that runs before any layer is built: every size field
// bounded, each layer's parameter count and one sample's output shape computed with numbers only,
// and the totals held against core/limits.ts. A spec asking for a 10⁹-wide layer is refused here,
// in microseconds, instead of by the allocator after it has taken the machine's memory.
import { boundedInt, checkCount, finite, LIMITS, LimitError } from '../core/limits.js';
import type { LayerSpec } from './module.js';

/** What a layer costs: parameters and buffers it allocates, and one sample's output shape (null: unknown). */
export interface LayerPlan {
  params: number;
  out: number[] | null;
}

/** Reads a layer spec's size fields, bounded. */
export interface Fields {
  /** An integer field in [min, LIMITS.maxActivationElements] (no width, kernel or count can exceed one sample). */
  int(k: string, dflt?: number, min?: number): number;
  /** A finite number field. */
  real(k: string, dflt?: number): number;
}

/** Computes a layer's plan from its spec and its input's per-sample shape (null when unknown). */
export type Planner = (s: LayerSpec, x: number[] | null, f: Fields) => LayerPlan;

const planners = new Map<string, Planner>();

/** Register how a layer type's cost and output shape follow from its spec (registerLayer's third argument). */
export function registerPlanner(type: string, p: Planner): void {
  planners.set(type, p);
}

export function fieldsOf(s: LayerSpec): Fields {
  return {
    int(k, dflt, min = 0) {
      const v = s[k] ?? dflt;
      if (typeof v !== 'number') throw new LimitError(`layer '${s.type}' needs a numeric '${k}'`);
      return boundedInt(
        `layer '${s.type}' field '${k}'`,
        v,
        min,
        LIMITS.maxActivationElements,
        'maxActivationElements',
      );
    },
    real(k, dflt) {
      return finite(`layer '${s.type}' field '${k}'`, s[k] ?? dflt);
    },
  };
}

const prod = (a: readonly number[]): number => a.reduce((p, d) => p * d, 1);

/** Output size of a window of `k` (dilation `d`) sliding by `st` over `n` padded by `p`; null when it does not fit. */
function slide(n: number, k: number, st: number, p: number, d = 1): number | null {
  const o = Math.floor((n + 2 * p - d * (k - 1) - 1) / st) + 1;
  return o >= 1 ? o : null;
}

/** A linear-like layer over the last axis: `params` given, output [..., out]. */
export function linearPlan(x: number[] | null, out: number, params: number): LayerPlan {
  return { params, out: x && x.length >= 1 ? [...x.slice(0, -1), out] : null };
}

/** A convolution-like layer over [C, (H,) W] with a square kernel: output [out, OH, OW] or null. */
export function convPlan(
  x: number[] | null,
  dims: 1 | 2,
  g: { out: number; kernel: number; stride: number; padding: number; dilation?: number },
  params: number,
): LayerPlan {
  if (!x || x.length !== dims + 1) return { params, out: null };
  const sp = x.slice(1).map((n) => slide(n, g.kernel, g.stride, g.padding, g.dilation ?? 1));
  return { params, out: sp.every((o) => o !== null) ? [g.out, ...(sp as number[])] : null };
}

const same: Planner = (_s, x) => ({ params: 0, out: x });

function conv(dims: 1 | 2): Planner {
  return (s, x, f) => {
    const i = f.int('in', undefined, 1),
      out = f.int('out', undefined, 1),
      kernel = f.int('kernel', undefined, 1);
    const g = {
      out,
      kernel,
      stride: f.int('stride', 1, 1),
      padding: f.int('padding', 0),
      dilation: f.int('dilation', 1, 1),
    };
    return convPlan(x, dims, g, out * i * kernel ** dims + (s.bias !== false ? out : 0));
  };
}

function pool(dims: 1 | 2): Planner {
  return (s, x, f) => {
    const kernel = f.int('kernel', undefined, 1);
    const g = {
      out: x ? x[0] : 0,
      kernel,
      stride: f.int('stride', kernel, 1),
      padding: dims === 2 ? f.int('padding', 0) : 0,
    };
    if (2 * g.padding > kernel)
      throw new LimitError(
        `layer '${s.type}' field 'padding' must be at most half the kernel (${kernel}), got ${g.padding}`,
      );
    return convPlan(x, dims, g, 0);
  };
}

// The core layer types (nn/spec.ts); techniques register theirs beside their factories.
registerPlanner('linear', (s, x, f) => {
  const i = f.int('in', undefined, 1),
    o = f.int('out', undefined, 1);
  return linearPlan(x, o, o * i + (s.bias !== false ? o : 0));
});
registerPlanner('conv2d', conv(2));
registerPlanner('conv1d', conv(1));
registerPlanner('maxpool2d', pool(2));
registerPlanner('avgpool2d', pool(2));
registerPlanner('maxpool1d', pool(1));
registerPlanner('globalpool2d', (_s, x) => ({ params: 0, out: x && x.length === 3 ? [x[0]] : null }));
for (const t of ['batchnorm1d', 'batchnorm2d'])
  registerPlanner(t, (_s, x, f) => {
    f.real('momentum', 0.1);
    f.real('eps', 1e-5);
    return { params: 4 * f.int('features', undefined, 1), out: x };
  });
registerPlanner('dropout', (_s, x, f) => (f.real('p', 0.5), { params: 0, out: x }));
registerPlanner('flatten', (_s, x) => ({ params: 0, out: x ? [prod(x)] : null }));
registerPlanner('normalize', same);
for (const t of ['relu', 'sigmoid', 'tanh', 'hardtanh', 'softmax', 'logsoftmax']) registerPlanner(t, same);
registerPlanner('leakyrelu', (_s, x, f) => (f.real('slope', 0.01), { params: 0, out: x }));
registerPlanner('sequential', (s, x) => {
  if (!Array.isArray(s.layers)) return { params: 0, out: null }; // the factory names this fault
  return planLayers(s.layers as LayerSpec[], x, 'sequential layer ');
});

/**
 * Plan layers in order from a per-sample input shape: each layer's fields bounded, the running
 * parameter total and every activation held against LIMITS. Errors name the layer index and type.
 */
export function planLayers(layers: LayerSpec[], input: number[] | null, what = 'model spec layer '): LayerPlan {
  let params = 0,
    x = input;
  layers.forEach((s, i) => {
    if (!s || typeof s !== 'object' || typeof s.type !== 'string') return; // buildLayer names this fault
    const where = `${what}${i} (${s.type})`;
    try {
      for (const [k, v] of Object.entries(s)) if (typeof v === 'number') finite(`layer '${s.type}' field '${k}'`, v);
      const p = planners.get(s.type);
      // A type registered without a planner: its fields were checked (specInt bounds its integers);
      // its output shape is unknown, so activations after it go unchecked until a layer fixes the shape.
      const r = p ? p(s, x, fieldsOf(s)) : { params: 0, out: null };
      params += r.params;
      checkCount('its parameters and buffers', r.params, 'maxModelParams');
      checkCount('the parameters and buffers up to it', params, 'maxModelParams');
      if (r.out) checkCount(`its output per sample [${r.out.join(', ')}]`, prod(r.out), 'maxActivationElements');
      x = r.out;
    } catch (e) {
      if (e instanceof LimitError) throw new LimitError(`${where}: ${e.message}`);
      throw e;
    }
  });
  return { params, out: x };
}
