import { Rng } from '../core/rng.js';
import { noGrad, Tensor } from '../core/tensor.js';
import {
  Activation,
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  Dropout,
  Flatten,
  GlobalPool2d,
  Linear,
  MaxPool1d,
  MaxPool2d,
  Normalize,
  Sequential,
} from './layers.js';
import type { LayerSpec, Module } from './module.js';
import { LIMITS, checkCount } from '../core/limits.js';
import { layerFields, planLayers, registerPlanner, type Planner } from './spec-plan.js';

/**
 * A JSON model description, stored in saved model files and accepted by `frugal train --model SPEC.json`:
 * `{ "format": "frugal-model", "version": 1, "input": [1, 28, 28], "layers": [ { "type": "conv2d", ... }, ... ] }`.
 */
export interface ModelSpec {
  format: 'frugal-model';
  version: 1;
  /** Shape of one sample, without the batch axis. */
  input: number[];
  layers: LayerSpec[];
}

type Factory = (s: LayerSpec, rng: Rng) => Module;
const num = (s: LayerSpec, k: string, dflt?: number): number => {
  const v = s[k] ?? dflt;
  if (typeof v !== 'number') throw new Error(`layer '${s.type}' needs a numeric '${k}'`);
  return v;
};

/**
 * A non-negative integer field of a layer spec (for registerLayer factories), with a message naming it; at
 * most LIMITS.maxActivationElements, as no width, kernel or count can exceed one sample's activation.
 */
export function specInt(s: LayerSpec, k: string, dflt?: number): number {
  const v = s[k] ?? dflt;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0)
    throw new Error(`layer '${s.type}' needs a non-negative integer '${k}'`);
  if (v > LIMITS.maxActivationElements)
    throw new Error(
      `layer '${s.type}' field '${k}' is ${v}, above the limit of ${LIMITS.maxActivationElements} ` +
        `(maxActivationElements, core/limits.ts)`,
    );
  return v;
}

const registry = new Map<string, Factory>([
  ['linear', (s, rng) => new Linear(num(s, 'in'), num(s, 'out'), { bias: s.bias !== false, rng })],
  [
    'conv2d',
    (s, rng) =>
      new Conv2d(num(s, 'in'), num(s, 'out'), num(s, 'kernel'), {
        stride: num(s, 'stride', 1),
        padding: num(s, 'padding', 0),
        dilation: num(s, 'dilation', 1),
        bias: s.bias !== false,
        rng,
      }),
  ],
  [
    'conv1d',
    (s, rng) =>
      new Conv1d(num(s, 'in'), num(s, 'out'), num(s, 'kernel'), {
        stride: num(s, 'stride', 1),
        padding: num(s, 'padding', 0),
        dilation: num(s, 'dilation', 1),
        bias: s.bias !== false,
        rng,
      }),
  ],
  ['maxpool2d', (s) => new MaxPool2d(num(s, 'kernel'), num(s, 'stride', num(s, 'kernel')), num(s, 'padding', 0))],
  ['avgpool2d', (s) => new AvgPool2d(num(s, 'kernel'), num(s, 'stride', num(s, 'kernel')), num(s, 'padding', 0))],
  ['maxpool1d', (s) => new MaxPool1d(num(s, 'kernel'), num(s, 'stride', num(s, 'kernel')))],
  ['globalpool2d', (s) => new GlobalPool2d((s.mode as 'avg' | 'max') ?? 'avg')],
  ['batchnorm1d', (s) => new BatchNorm1d(num(s, 'features'), num(s, 'momentum', 0.1), num(s, 'eps', 1e-5))],
  ['batchnorm2d', (s) => new BatchNorm2d(num(s, 'features'), num(s, 'momentum', 0.1), num(s, 'eps', 1e-5))],
  ['dropout', (s, rng) => new Dropout(num(s, 'p', 0.5), rng.nextU32())],
  ['flatten', () => new Flatten()],
  ['normalize', (s) => new Normalize(s.mean as number | number[], s.std as number | number[])],
  ['sequential', (s, rng) => new Sequential(...asLayers(s.layers).map((l) => buildLayer(l, rng)))],
  ...(['relu', 'sigmoid', 'tanh', 'hardtanh', 'softmax', 'logsoftmax'] as const).map(
    (k) => [k, () => new Activation(k)] as [string, Factory],
  ),
  ['leakyrelu', (s) => new Activation('leakyrelu', num(s, 'slope', 0.01))],
]);

function asLayers(v: unknown): LayerSpec[] {
  if (!Array.isArray(v)) throw new Error("a 'sequential' layer needs a 'layers' array");
  return v as LayerSpec[];
}

/**
 * Let techniques add layer types (binary, circulant, …) without editing this file. `plan` computes the
 * layer's parameter count and output shape from its spec with arithmetic only (see nn/spec-plan.ts), so
 * validateSpec can refuse a spec beyond core/limits.ts before anything is allocated.
 */
export function registerLayer(type: string, factory: Factory, plan?: Planner): void {
  registry.set(type, factory);
  if (plan) registerPlanner(type, plan);
}

/**
 * The README's table of layer types: every registered type with its fields and defaults (those declared with
 * registerLayerFields; a technique's other types say so). scripts/layer-table.mjs writes it; a test holds it equal.
 */
export function layerTableMarkdown(): string {
  const fields = layerFields();
  const rows = [...registry.keys()].sort().map((t) => {
    const f = fields.get(t);
    const text = !f
      ? 'fields not declared (see docs/techniques.md)'
      : Object.keys(f).length === 0
        ? 'none'
        : Object.entries(f)
            .map(([k, d]) => `\`${k}\` ${d}`)
            .join('; ');
    return `| \`${t}\` | ${text} |`;
  });
  return ['| layer type | fields (default) |', '|---|---|', ...rows].join('\n');
}

export function buildLayer(s: LayerSpec, rng: Rng): Module {
  if (!s || typeof s !== 'object' || typeof s.type !== 'string')
    throw new Error(`each layer must be an object with a string 'type', got ${JSON.stringify(s)}`);
  const f = registry.get(s.type);
  if (!f) throw new Error(`unknown layer type '${s.type}'; known types: ${[...registry.keys()].sort().join(', ')}`);
  return f(s, rng.fork());
}

/** Check a parsed JSON value is a model spec, with a message naming what is wrong. */
export function validateSpec(v: unknown): ModelSpec {
  const s = v as ModelSpec;
  if (!s || typeof s !== 'object') throw new Error('model spec must be a JSON object');
  if (s.format !== 'frugal-model')
    throw new Error(`model spec: "format" must be "frugal-model", got ${JSON.stringify(s.format)}`);
  if (s.version !== 1)
    throw new Error(`model spec: unsupported version ${JSON.stringify(s.version)} (this Frugal reads version 1)`);
  if (!Array.isArray(s.input) || s.input.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error('model spec: "input" must be the shape of one sample, e.g. [1, 28, 28]');
  }
  checkCount(
    `model spec: "input" [${s.input.join(', ')}]`,
    s.input.reduce((p, d) => p * d, 1),
    'maxActivationElements',
  );
  if (!Array.isArray(s.layers) || s.layers.length === 0)
    throw new Error('model spec: "layers" must be a non-empty array');
  // Sizes before allocation: each layer's fields, parameters and activations against core/limits.ts; unknown
  // keys refused; "in": "auto" resolved from the shapes (the spec returned carries the numbers).
  const { layers } = planLayers(s.layers, s.input);
  return { ...s, layers: layers ?? s.layers };
}

/**
 * Build a Sequential model from a spec with seeded initialisation, and check that a
 * sample of the declared input shape flows through every layer.
 */
export function buildModel(given: ModelSpec, seed = 0): Sequential {
  const spec = validateSpec(given);
  const rng = new Rng(seed);
  const layers = spec.layers.map((l, i) => {
    try {
      return buildLayer(l, rng);
    } catch (e) {
      throw new Error(`model spec layer ${i}: ${(e as Error).message}`);
    }
  });
  const model = new Sequential(...layers);
  let x = Tensor.zeros([2, ...spec.input]);
  noGrad(() => {
    model.eval();
    layers.forEach((l, i) => {
      try {
        x = l.forward(x);
      } catch (e) {
        // Running out of kernel memory is no mismatch of shapes: say what it is.
        if (/memory cannot grow/.test((e as Error).message))
          throw new Error(`model spec layer ${i}: ${(e as Error).message}`);
        throw new Error(
          `model spec layer ${i} (${l.toSpec().type}) does not fit its input [${x.shape.join(', ')}]: ` +
            `${(e as Error).message}`,
        );
      }
    });
    model.train();
  });
  return model;
}

/** The spec of a built model. */
export function specOf(model: Sequential, input: number[]): ModelSpec {
  return { format: 'frugal-model', version: 1, input, layers: model.layers.map((l) => l.toSpec()) };
}

/**
 * Mean and standard deviation of the Fashion-MNIST training pixels scaled to [0, 1]
 * (0.28604 and 0.35302 over all 60,000 images). The reference CNN standardises its input with them,
 * as torchvision's Normalize is used in PyTorch recipes; the MLP did not gain from it and takes pixels in
 * [0, 1] (docs/measurements.md, Accuracy).
 */
export const FASHION_MNIST_STATS = { mean: 0.286, std: 0.353 };
const standardise: LayerSpec = { type: 'normalize', mean: [FASHION_MNIST_STATS.mean], std: [FASHION_MNIST_STATS.std] };

/** The reference CNN: normalize, conv 1→16 3×3, relu, pool 2, conv 16→32 3×3, relu, pool 2, flatten, 800→128,
 * relu, 128→10. */
export const referenceCnn: ModelSpec = {
  format: 'frugal-model',
  version: 1,
  input: [1, 28, 28],
  layers: [
    standardise,
    { type: 'conv2d', in: 1, out: 16, kernel: 3 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'conv2d', in: 16, out: 32, kernel: 3 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', in: 800, out: 128 },
    { type: 'relu' },
    { type: 'linear', in: 128, out: 10 },
  ],
};

/** The reference MLP: 784→256→128→10 with relu. */
export const referenceMlp: ModelSpec = {
  format: 'frugal-model',
  version: 1,
  input: [784],
  layers: [
    { type: 'linear', in: 784, out: 256 },
    { type: 'relu' },
    { type: 'linear', in: 256, out: 128 },
    { type: 'relu' },
    { type: 'linear', in: 128, out: 10 },
  ],
};

/**
 * A VGG-like CNN for 28×28 images: 3×3 convs (padding 1, no bias) each with batch norm and
 * relu, a 2×2 max pool after every second conv, then a linear head. The pruning reproduction
 * uses widths 32-32-64-64-128-128.
 */
export function vggSpec(
  widths: number[] = [32, 32, 64, 64, 128, 128],
  input: number[] = [1, 28, 28],
  classes = 10,
): ModelSpec {
  if (widths.length === 0 || widths.length % 2 !== 0)
    throw new Error(`vggSpec: widths must come in pairs (conv, conv, pool), got ${widths.length}`);
  const layers: LayerSpec[] = [];
  let c = input[0],
    h = input[1],
    w = input[2];
  widths.forEach((out, i) => {
    layers.push(
      { type: 'conv2d', in: c, out, kernel: 3, padding: 1, bias: false },
      { type: 'batchnorm2d', features: out },
      { type: 'relu' },
    );
    c = out;
    if (i % 2 === 1) {
      layers.push({ type: 'maxpool2d', kernel: 2 });
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
  });
  layers.push({ type: 'flatten' }, { type: 'linear', in: c * h * w, out: classes });
  return { format: 'frugal-model', version: 1, input, layers };
}
