// Issue 26, point 3 for the technique layers: each declares its fields beside its registerLayer, so an unknown
// key is refused there too (naming the key, with a did-you-mean), and what each layer writes back (toSpec)
// is exactly what it declares, so every saved model of these types still loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildLayer, layerFields, layerTableMarkdown, Rng, validateSpec, type LayerSpec } from '../src/node.js';

/** A small valid spec of every technique layer type (the core types are covered by layer-table.test.ts). */
const TECHNIQUE_LAYERS: LayerSpec[] = [
  { type: 'circlinear', in: 8, out: 8, block: 4 },
  { type: 'circconv2d', in: 4, out: 4, kernel: 3, block: 2, pad: true },
  { type: 'binary-linear', in: 8, out: 4, scale: 'channel', bias: true },
  { type: 'binary-conv2d', in: 2, out: 2, kernel: 3, padValue: -1 },
  { type: 'jet-conv2d', in: 2, out: 2, constrained: true },
  { type: 'packed-binary-linear', in: 8, out: 4, scaled: true },
  { type: 'packed-binary-conv2d', in: 2, out: 2, kernel: 3 },
  { type: 'packed-jet-conv2d', in: 2, out: 2 },
  { type: 'sign-threshold', channels: 4 },
  { type: 'sparse-linear', in: 8, out: 4, nnz: 3 },
  { type: 'sparse-conv2d', in: 2, out: 2, kernel: 3, nnz: 3 },
  { type: 'fit-dnn', in: 4, hidden: 4, layers: 2, out: 2, diagonals: 2, theta: 0.5 },
  { type: 'residual', layers: [{ type: 'relu' }] },
  { type: 'if', threshold: 0.5 },
  { type: 'spiking', input: [4], timesteps: 2, layers: [{ type: 'linear', in: 4, out: 3 }, { type: 'if' }] },
  { type: 'globalmaxpool1d' },
  { type: 'sigmoidlogits' },
];

const model = (layer: LayerSpec) => ({ format: 'frugal-model', version: 1, input: [4], layers: [layer] });

test('every registered layer type declares its fields', () => {
  assert.doesNotMatch(layerTableMarkdown(), /fields not declared/);
  for (const l of TECHNIQUE_LAYERS) assert.ok(layerFields().has(l.type), l.type);
});

test('an unknown key in each technique layer is refused, naming the key, the valid ones and the nearest', () => {
  for (const l of TECHNIQUE_LAYERS) {
    const t = l.type.replace(/[-]/g, '\\-');
    assert.throws(
      () => validateSpec(model({ ...l, bogusKey: 1 })),
      new RegExp(`model spec layer 0 \\(${t}\\): unknown key 'bogusKey'; ${t} takes `),
      l.type,
    );
  }
  // A near miss is named (edit distance), and another library's name for a field too.
  assert.throws(
    () => validateSpec(model({ type: 'circlinear', in: 8, out: 8, blok: 4 })),
    /unknown key 'blok'; circlinear takes in, out, block, bias, pad \(did you mean 'block'\?\)/,
  );
  assert.throws(
    () => validateSpec(model({ type: 'binary-linear', in_features: 4, out: 2 })),
    /\(binary-linear\): unknown key 'in_features'.*\(did you mean 'in'\?\)/,
  );
  assert.throws(
    () => validateSpec(model({ type: 'if', treshold: 1 })),
    /\(if\): unknown key 'treshold'; if takes threshold, reset, leak \(did you mean 'threshold'\?\)/,
  );
  // Inside a container layer the inner index is named.
  assert.throws(
    () => validateSpec(model({ type: 'residual', layers: [{ type: 'if', lek: 0 }] })),
    /residual layer 0 \(if\): unknown key 'lek'.*did you mean 'leak'/,
  );
});

test('what each technique layer writes back (toSpec) is exactly what it declares', () => {
  for (const l of TECHNIQUE_LAYERS) {
    const written = buildLayer(l, new Rng(1)).toSpec();
    const declared = Object.keys(layerFields().get(l.type)!);
    for (const k of Object.keys(written)) assert.ok(k === 'type' || declared.includes(k), `${l.type} writes '${k}'`);
  }
});

test('a checked spec keeps spiking and residual layers whole, with "auto" widths inside them resolved', () => {
  const inner = [{ type: 'linear', in: 'auto', out: 4 }, { type: 'if' }];
  const s = validateSpec({ ...model({ type: 'spiking', input: [4], timesteps: 2, layers: inner }) });
  assert.equal(s.layers[0].type, 'spiking');
  assert.equal((s.layers[0].layers as LayerSpec[])[0].in, 4);
  const r = validateSpec(model({ type: 'residual', layers: [{ type: 'linear', in: 'auto', out: 4 }] }));
  assert.equal(r.layers[0].type, 'residual');
  assert.equal((r.layers[0].layers as LayerSpec[])[0].in, 4);
});
