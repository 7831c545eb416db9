// Model files as bytes (browser-safe): encodeModel's bytes come back through decodeModel as the same model, and
// bytes that are not a model file are refused with the reason, as loadModel refuses such files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng, Tensor, buildModel, decodeModel, encodeModel, noGrad, referenceCnn, specOf } from '../src/index.js';
import { encodeSafetensors } from '../src/io/safetensors.js';

test('decodeModel reads back what encodeModel wrote: same spec, metadata and outputs', () => {
  const model = buildModel(referenceCnn, 7);
  const bytes = encodeModel(model, specOf(model, [1, 28, 28]), { epochs: 2 });
  const back = decodeModel(bytes, 'cnn.safetensors');
  assert.deepEqual(back.spec, specOf(model, [1, 28, 28]));
  assert.deepEqual(back.training, { epochs: 2 });
  assert.equal(back.bytes, bytes.length);
  const x = Tensor.rand([3, 1, 28, 28], new Rng(8));
  const run = (m: typeof model) => noGrad(() => m.eval().forward(x).toArray());
  assert.deepEqual(run(back.model), run(model));
});

test('decodeModel refuses bytes that are not a Frugal model, naming them', () => {
  const model = buildModel(referenceCnn, 7);
  const bytes = encodeModel(model, specOf(model, [1, 28, 28]));
  assert.throws(() => decodeModel(bytes.subarray(0, 6), 'cut.safetensors'), /cut\.safetensors: .*truncated/);
  const spec = new TextEncoder().encode(JSON.stringify(referenceCnn));
  assert.throws(() => decodeModel(spec, 'spec.json'), /spec\.json is a JSON model spec, not a trained model file/);
  const plain = encodeSafetensors({ w: Tensor.zeros([2]) }, {});
  assert.throws(() => decodeModel(plain, 'plain.safetensors'), /no frugal\.spec in the metadata/);
});
