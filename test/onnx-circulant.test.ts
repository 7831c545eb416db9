// Issue 23, point 4: block-circulant layers exported as FFT-free block products (toOnnx circulant: 'blocks',
// frugal export --circulant blocks): only the defining vectors are stored and a Gather by (i − j) mod N builds
// the blocks in the graph. They run in onnxruntime-node with Frugal's outputs, the file is N× smaller than the
// dense expansion, onnx.checker accepts it, and frugal import reads it back as circulant layers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildModel,
  fromOnnx,
  gatherBatch,
  loadFashionMnist,
  loadModel,
  noGrad,
  OnnxExportError,
  OnnxImportError,
  referenceCnn,
  saveModel,
  SUBSET_DIR,
  toCirculant,
  toOnnx,
  type ModelSpec,
} from '../src/node.js';
import { decodeModel, encodeModel } from '../src/onnx/schema.js';
import { frugal, oneJson } from './cli-helpers.js';
import { assertSameAsOrt, pythonCheck, pythonOnnx } from './onnx-helpers.js';

const images = gatherBatch(
  loadFashionMnist(SUBSET_DIR).test,
  Array.from({ length: 32 }, (_, i) => i),
).x;

/** Whole and zero-padded blocks, convolutions and linears, block sizes 4 to 16. */
const spec: ModelSpec = {
  format: 'frugal-model',
  version: 1,
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', in: 1, out: 16, kernel: 3 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'circconv2d', in: 16, out: 32, kernel: 3, block: 8 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'circconv2d', in: 32, out: 20, kernel: 3, block: 8, padding: 1, pad: true },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'circlinear', in: 500, out: 128, block: 16, pad: true },
    { type: 'relu' },
    { type: 'circlinear', in: 128, out: 64, block: 16 },
    { type: 'relu' },
    { type: 'circlinear', in: 64, out: 10, block: 4, bias: false, pad: true },
  ],
};

const files: Record<string, Uint8Array> = {};
const model = buildModel(spec, 3).eval();

test('circulant blocks: same outputs as Frugal and the dense expansion in onnxruntime, N× smaller file', async (t) => {
  const dense = toOnnx({ model, spec }),
    blocks = toOnnx({ model, spec }, { circulant: 'blocks' });
  files['circ-dense'] = dense;
  files['circ-blocks'] = blocks;
  await assertSameAsOrt('dense expansion', model, dense, images);
  await assertSameAsOrt('circulant blocks', model, blocks, images);
  const ops = new Set(decodeModel(blocks).graph?.node?.map((n) => n.opType));
  assert.ok(ops.has('Gather') && !ops.has('DFT'), [...ops].join());
  t.diagnostic(`dense ${dense.length} bytes, blocks ${blocks.length} bytes`);
  // The circulant weights are 8–16× smaller; the plain first conv and the biases are the same in both.
  assert.ok(blocks.length * 5 < dense.length, `blocks ${blocks.length} vs dense ${dense.length} bytes`);
  // The reference CNN made circulant (block 8, padded where 8 does not divide): ~8× smaller file.
  const { model: circ } = toCirculant(buildModel(referenceCnn, 1), { blockSize: 8, pad: true });
  const cs = { ...referenceCnn, layers: circ.layers.map((l) => l.toSpec()) };
  const [d8, b8] = [toOnnx({ model: circ, spec: cs }), toOnnx({ model: circ, spec: cs }, { circulant: 'blocks' })];
  files['cnn-circ8-blocks'] = b8;
  t.diagnostic(`reference CNN, block 8: dense ${d8.length} bytes, blocks ${b8.length} bytes`);
  assert.ok(b8.length * 5 < d8.length, `blocks ${b8.length} vs dense ${d8.length} bytes`);
  await assertSameAsOrt('reference CNN circulant blocks', circ, b8, images);
  assert.throws(
    () => toOnnx(model, { circulant: 'fft' as never }),
    (e: Error) => e instanceof OnnxExportError && /circulant must be 'dense' or 'blocks', got 'fft'/.test(e.message),
  );
});

test('import reads the block product back as circulant layers with the same weights', () => {
  const r = fromOnnx(toOnnx({ model, spec }, { circulant: 'blocks' }));
  assert.deepEqual(
    r.spec.layers,
    buildModel(spec, 3).layers.map((l) => l.toSpec()),
  );
  const want = noGrad(() => model.forward(images)),
    got = noGrad(() => r.model.forward(images));
  assert.deepEqual([...got.data], [...want.data]);
  // The dense expansion imports as plain layers (its weights are initialisers).
  const types = fromOnnx(toOnnx({ model, spec })).spec.layers.map((l) => l.type);
  assert.ok(!types.some((ty) => ty.startsWith('circ')), types.join());
});

test('a weight gathered some other way is refused naming the operators that compute it', () => {
  const m = decodeModel(toOnnx({ model, spec }, { circulant: 'blocks' }));
  const idx = m.graph!.initializer!.find((t) => t.name === 'circulant_index_8')!;
  idx.int64Data = idx.int64Data!.map((v, i) => (i === 1 ? (v + 1) % 8 : v)); // not (i − j) mod N any more
  assert.throws(
    () => fromOnnx(encodeModel(m)),
    (e: Error) =>
      e instanceof OnnxImportError &&
      /node \d+ 'l3_node' \(Conv\): takes a computed input .*\(Reshape\); operators Reshape, Transpose, Gather/.test(
        e.message,
      ),
  );
});

test('frugal export --circulant blocks writes the smaller file and frugal import reads it', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-circ-onnx-'));
  const src = join(dir, 'circ.safetensors'),
    out = join(dir, 'circ.onnx'),
    dense = join(dir, 'dense.onnx'),
    back = join(dir, 'back.safetensors');
  saveModel(src, model, spec, {});
  const e = frugal('export', src, '--format', 'onnx', '--circulant', 'blocks', '--out', out, '--json');
  assert.equal(e.code, 0, e.stderr);
  const j = oneJson(e.stdout);
  assert.equal(j.circulant, 'blocks');
  assert.equal(j.bytes, statSync(out).size);
  assert.equal(frugal('export', src, '--format', 'onnx', '--out', dense).code, 0);
  assert.ok(statSync(out).size * 5 < statSync(dense).size);
  const i = frugal('import', out, '--out', back, '--json');
  assert.equal(i.code, 0, i.stderr);
  const loaded = loadModel(back).model.eval();
  assert.deepEqual([...noGrad(() => loaded.forward(images)).data], [...noGrad(() => model.forward(images)).data]);
  const bad = frugal('export', src, '--format', 'onnx', '--circulant', 'fft', '--out', out);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--circulant must be one of dense, blocks/);
});

test('python onnx.checker accepts the circulant block products', (t) => {
  if (!pythonOnnx()) {
    t.skip('python3-onnx is not installed: onnx.checker not run');
    return;
  }
  assert.ok(Object.keys(files).length >= 3, 'the export test ran first');
  assert.deepEqual(pythonCheck(files), {});
});
