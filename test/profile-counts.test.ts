// Issue 26, point 3: MACs are counted inside `sequential` layers (nested too), and packed binary layers report the
// bytes of their bit strings (they were 0).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildModel, packBinary, profileModel, validateSpec } from '../src/node.js';

test('profile: MACs inside sequential, bytes of packed binary layers', () => {
  const spec = validateSpec({
    format: 'frugal-model',
    version: 1,
    input: [1, 8, 8],
    layers: [
      { type: 'binary-conv2d', in: 1, out: 8, kernel: 3, padding: 1 },
      { type: 'flatten' },
      { type: 'binary-linear', in: 512, out: 10 },
      {
        type: 'sequential',
        layers: [
          { type: 'linear', in: 10, out: 4 },
          { type: 'relu' },
          { type: 'sequential', layers: [{ type: 'linear', in: 4, out: 3 }] },
        ],
      },
    ],
  });
  const model = buildModel(spec, 1);
  const p = profileModel(model, spec.input);
  assert.equal(p.layers[3].macs, 10 * 4 + 4 * 3);
  assert.equal(p.macs, 8 * 9 * 64 + 512 * 10 + 52);
  const packed = profileModel(packBinary(model).model, spec.input);
  assert.deepEqual(
    packed.layers.map((l) => l.type),
    ['packed-binary-conv2d', 'flatten', 'packed-binary-linear', 'sequential'],
  );
  // One bit per weight at least: 8·9 = 72 bits for the conv, 512·10 bits for the linear layer.
  assert.ok(packed.layers[0].bytes >= 9, `packed conv: ${packed.layers[0].bytes} bytes`);
  assert.ok(packed.layers[2].bytes >= 640, `packed linear: ${packed.layers[2].bytes} bytes`);
  assert.ok(packed.layers[2].bytes < p.layers[2].bytes / 16, 'packed bits are far smaller than float32 weights');
});
