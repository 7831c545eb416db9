// The arithmetic pass over a model spec that runs before any layer is built: every size field
// bounded, each layer's parameter count and one sample's output shape computed with numbers only,
// and the totals held against core/limits.ts. A spec asking for a 10⁹-wide layer is refused here,
// in microseconds, instead of by the allocator after it has taken the machine's memory.
import { boundedInt, checkCount, finite, LIMITS, LimitError } from '../core/limits.js';
import type { LayerSpec } from './module.js';
import { didYouMean } from '../core/suggest.js';

/** What a layer costs: parameters and buffers it allocates, and one sample's output shape (null: unknown). */
export interface LayerPlan {
  params: number;
  out: number[] | null;
  /** planLayers: the layers with "auto" fields resolved. */
  layers?: LayerSpec[];
  /**
   * A planner: its own layer spec with "auto" fields resolved. A separate field from `layers`, so a planner that
   * returns a nested planLayers result as it is (spiking, residual) is never replaced by its first inner layer.
   */
  resolved?: LayerSpec;
}

/** Each field a layer type takes, with its default in words ('required' when it has none). */
export type LayerFields = Record<string, string>;
const fieldTables = new Map<string, LayerFields>();

/**
 * Declare the fields a layer type takes: a spec key outside them is refused with the valid keys and a
 * did-you-mean; docs/cli.md's layer table is generated from these (scripts/layer-table.mjs).
 */
export function registerLayerFields(type: string, fields: LayerFields): void {
  fieldTables.set(type, fields);
}

/** The declared fields of every layer type that has them, by type. */
export function layerFields(): Map<string, LayerFields> {
  return new Map([...fieldTables].sort(([a], [b]) => a.localeCompare(b)));
}

const ALIASES: Record<string, string> = {
  rate: 'p',
  in_features: 'in',
  out_features: 'out',
  in_channels: 'in',
  out_channels: 'out',
  filters: 'out',
  units: 'out',
  kernel_size: 'kernel',
  pool_size: 'kernel',
  strides: 'stride',
  num_features: 'features',
  negative_slope: 'slope',
  use_bias: 'bias',
};

/** Refuse keys a layer type does not take, naming the valid ones and the nearest (did you mean). */
function checkKeys(s: LayerSpec): void {
  const fields = fieldTables.get(s.type);
  if (!fields) return;
  for (const k of Object.keys(s)) {
    if (k === 'type' || k in fields) continue;
    const valid = Object.keys(fields);
    // ALIASES: names other libraries use for the same field (Keras's Dropout(rate), PyTorch's in_features, ...).
    throw new Error(
      `unknown key '${k}'; ${s.type} takes ${valid.length ? valid.join(', ') : 'no fields'}` +
        didYouMean(k, valid, ALIASES),
    );
  }
}

/** `"in": "auto"` of linear, conv1d and conv2d: the input's last axis (linear) or channels (conv). */
function resolveAuto(s: LayerSpec, x: number[] | null): LayerSpec {
  if (s.in !== 'auto' || !['linear', 'conv1d', 'conv2d'].includes(s.type)) return s;
  if (!x) throw new Error(`"in": "auto" needs a known input shape, and the layers before it leave it unknown`);
  return { ...s, in: s.type === 'linear' ? x[x.length - 1] : x[0] };
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
  const r = planLayers(s.layers as LayerSpec[], x, 'sequential layer ');
  return { params: r.params, out: r.out, resolved: { ...s, layers: r.layers } };
});

const convFields = {
  in: 'required (or "auto")',
  out: 'required',
  kernel: 'required',
  stride: '1',
  padding: '0',
  dilation: '1',
  bias: 'true',
};
const poolFields = { kernel: 'required', stride: 'the kernel', padding: '0' };
const bnFields = { features: 'required', momentum: '0.1', eps: '1e-5' };
const CORE_FIELDS: Record<string, LayerFields> = {
  linear: { in: 'required (or "auto")', out: 'required', bias: 'true' },
  conv1d: convFields,
  conv2d: convFields,
  maxpool2d: poolFields,
  avgpool2d: poolFields,
  maxpool1d: { kernel: 'required', stride: 'the kernel' },
  globalpool2d: { mode: '"avg" (or "max")' },
  batchnorm1d: bnFields,
  batchnorm2d: bnFields,
  dropout: { p: '0.5' },
  flatten: {},
  normalize: { mean: 'required (number or per-channel list)', std: 'required (number or per-channel list)' },
  sequential: { layers: 'required (a list of layers)' },
  leakyrelu: { slope: '0.01' },
  ...Object.fromEntries(['relu', 'sigmoid', 'tanh', 'hardtanh', 'softmax', 'logsoftmax'].map((t) => [t, {}])),
};
for (const [t, f] of Object.entries(CORE_FIELDS)) registerLayerFields(t, f);

/**
 * Plan layers in order from a per-sample input shape: each layer's fields bounded, the running
 * parameter total and every activation held against LIMITS. Errors name the layer index and type.
 */
export function planLayers(layers: LayerSpec[], input: number[] | null, what = 'model spec layer '): LayerPlan {
  let params = 0,
    x = input;
  const resolved: LayerSpec[] = [];
  layers.forEach((given, i) => {
    let s = given;
    resolved.push(s);
    if (!s || typeof s !== 'object' || typeof s.type !== 'string') return; // buildLayer names this fault
    const where = `${what}${i} (${s.type})`;
    try {
      checkKeys(s);
      s = resolved[i] = resolveAuto(s, x);
      for (const [k, v] of Object.entries(s)) if (typeof v === 'number') finite(`layer '${s.type}' field '${k}'`, v);
      const p = planners.get(s.type);
      // A type registered without a planner: its fields were checked (specInt bounds its integers);
      // its output shape is unknown, so activations after it go unchecked until a layer fixes the shape.
      const r = p ? p(s, x, fieldsOf(s)) : { params: 0, out: null };
      if (r.resolved) resolved[i] = r.resolved;
      params += r.params;
      checkCount('its parameters and buffers', r.params, 'maxModelParams');
      checkCount('the parameters and buffers up to it', params, 'maxModelParams');
      if (r.out) checkCount(`its output per sample [${r.out.join(', ')}]`, prod(r.out), 'maxActivationElements');
      x = r.out;
    } catch (e) {
      if (e instanceof LimitError) throw new LimitError(`${where}: ${e.message}`);
      if (/^unknown key|^"in": "auto"/.test((e as Error).message)) throw new Error(`${where}: ${(e as Error).message}`);
      throw e;
    }
  });
  return { params, out: x, layers: resolved };
}
