// Issue 23, points 4 and 5: every exported model kind runs in onnxruntime-node with Frugal's outputs
// (max |Δ| ≤ 1e-4, identical arg-max) on test images, and passes Python's onnx.checker where installed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchNorm,
  buildModel,
  compact,
  fromOnnx,
  gatherBatch,
  loadFashionMnist,
  noGrad,
  OnnxExportError,
  packBinary,
  referenceCnn,
  referenceMlp,
  Rng,
  SUBSET_DIR,
  Tensor,
  toOnnx,
  vggSpec,
  type Module,
  type ModelSpec,
  type Sequential,
} from '../src/node.js';
import { assertSameAsOrt, pythonCheck, pythonOnnx } from './onnx-helpers.js';

const spec = (input: number[], layers: ModelSpec['layers']): ModelSpec => ({
  format: 'frugal-model',
  version: 1,
  input,
  layers,
});
const images = (() => {
  const test = loadFashionMnist(SUBSET_DIR).test;
  return gatherBatch(
    test,
    Array.from({ length: 32 }, (_, i) => i),
  ).x;
})();

/** Random batch-norm statistics and affine terms, so the exported BN is not the identity. */
function randomizeNorms(m: Module, seed: number): void {
  const rng = new Rng(seed);
  for (const [, l] of m.namedModules()) {
    if (!(l instanceof BatchNorm)) continue;
    for (let i = 0; i < l.numFeatures; i++) {
      l.runningMean.data[i] = rng.random() - 0.5;
      l.runningVar.data[i] = 0.5 + rng.random();
      l.weight.data[i] = 0.5 + rng.random();
      l.bias.data[i] = rng.random() - 0.5;
    }
  }
}

/** Every dense layer type of the spec registry in one model, on 3×16×16 inputs. */
const allLayers = spec(
  [3, 16, 16],
  [
    { type: 'normalize', mean: [0.1, 0.2, 0.3], std: [0.9, 1.1, 1.3] },
    { type: 'conv2d', in: 3, out: 8, kernel: 3, padding: 1 },
    { type: 'leakyrelu', slope: 0.1 },
    { type: 'batchnorm2d', features: 8 },
    { type: 'avgpool2d', kernel: 3, stride: 2, padding: 1 },
    { type: 'conv2d', in: 8, out: 8, kernel: 3, padding: 2, dilation: 2, bias: false },
    { type: 'sigmoid' },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'residual', layers: [{ type: 'conv2d', in: 8, out: 8, kernel: 3, padding: 1 }, { type: 'tanh' }] },
    { type: 'globalpool2d', mode: 'avg' },
    { type: 'dropout', p: 0.3 },
    { type: 'linear', in: 8, out: 16 },
    { type: 'batchnorm1d', features: 16 },
    { type: 'hardtanh' },
    { type: 'sequential', layers: [{ type: 'linear', in: 16, out: 10 }, { type: 'relu' }] },
    { type: 'linear', in: 10, out: 10 },
    { type: 'softmax' },
  ],
);
const oneD = spec(
  [2, 20],
  [
    { type: 'conv1d', in: 2, out: 4, kernel: 3, padding: 1 },
    { type: 'maxpool1d', kernel: 2 },
    { type: 'flatten' },
    { type: 'linear', in: 40, out: 5 },
    { type: 'logsoftmax' },
  ],
);
const globalMax = spec(
  [1, 28, 28],
  [
    { type: 'conv2d', in: 1, out: 6, kernel: 5, stride: 2 },
    { type: 'relu' },
    { type: 'globalpool2d', mode: 'max' },
    { type: 'linear', in: 6, out: 10 },
  ],
);

/** A binarized CNN: float first conv, binary convs (±1 and −1 padding, XNOR-Net α), binary linears. */
const binarySpec = spec(
  [1, 28, 28],
  [
    { type: 'conv2d', in: 1, out: 16, kernel: 3, padding: 1 },
    { type: 'batchnorm2d', features: 16 },
    { type: 'binary-conv2d', in: 16, out: 32, kernel: 3, padding: 1, padValue: -1, scale: 'channel' },
    { type: 'batchnorm2d', features: 32 },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'binary-conv2d', in: 32, out: 32, kernel: 3, stride: 2, padding: 1 },
    { type: 'batchnorm2d', features: 32 },
    { type: 'flatten' },
    { type: 'binary-linear', in: 32 * 7 * 7, out: 64, bias: true },
    { type: 'batchnorm1d', features: 64 },
    { type: 'binary-linear', in: 64, out: 10 },
    { type: 'batchnorm1d', features: 10 },
  ],
);

function built(s: ModelSpec, seed = 1): Sequential {
  const m = buildModel(s, seed);
  randomizeNorms(m, seed + 100);
  m.eval();
  return m;
}

const exported: Record<string, Uint8Array> = {};

async function check(name: string, m: Sequential, s: ModelSpec, x: Tensor): Promise<void> {
  const bytes = toOnnx({ model: m, spec: s });
  exported[name] = bytes;
  await assertSameAsOrt(name, m, bytes, x);
}

test('dense models: reference CNN, MLP, VGG-like, every layer type, 1-D and global max pooling', async () => {
  await check('cnn', built(referenceCnn), referenceCnn, images);
  await check('mlp', built(referenceMlp), referenceMlp, new Tensor(images.data, [32, 784]));
  const vgg = vggSpec([8, 8, 16, 16]);
  await check('vgg', built(vgg), vgg, images);
  await check('all-layers', built(allLayers), allLayers, Tensor.randn([8, 3, 16, 16], new Rng(5)));
  await check('conv1d', built(oneD), oneD, Tensor.randn([8, 2, 20], new Rng(6)));
  await check('globalmax', built(globalMax), globalMax, images);
});

test('compacted pruned model: CSR layers are written as dense initialisers', async () => {
  const m = built(referenceCnn);
  const rng = new Rng(9);
  for (const [name, t] of Object.entries(m.stateDict()))
    if (name.endsWith('weight') && t.rank > 1) for (let i = 0; i < t.size; i++) if (rng.random() < 0.9) t.data[i] = 0;
  // Dead channels too, so compact() also removes some.
  const conv = m.stateDict()['1.weight'];
  conv.data.fill(0, 0, 3 * 9);
  const { model: small } = compact(m, referenceCnn.input, { sparse: true });
  const types = small.layers.map((l) => l.toSpec().type);
  assert.ok(types.includes('sparse-conv2d') && types.includes('sparse-linear'), types.join());
  await check('compacted', small, { ...referenceCnn, layers: small.layers.map((l) => l.toSpec()) }, images);
});

test('circulant model: block-circulant layers are expanded to dense weights', async () => {
  const s = spec(
    [1, 28, 28],
    [
      { type: 'conv2d', in: 1, out: 16, kernel: 3 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'circconv2d', in: 16, out: 32, kernel: 3, block: 8 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'circlinear', in: 800, out: 128, block: 16 },
      { type: 'relu' },
      { type: 'circlinear', in: 128, out: 10, block: 4, pad: true },
    ],
  );
  await check('circulant', built(s), s, images);
});

test('binarized model: as trained (sign + conv/gemm) and packed (folded batch norms as thresholds)', async () => {
  const m = built(binarySpec, 3);
  await check('binary', m, binarySpec, images);
  const { model: packed, report } = packBinary(m);
  assert.ok(report.folded.length >= 3, `folded ${report.folded}`);
  // The packed model itself predicts as the float one (XNOR-Net α and a bias before folded thresholds).
  const want = noGrad(() => m.forward(images)),
    got = noGrad(() => packed.forward(images)),
    n = got.shape[1];
  const top = (d: Tensor['data'], r: number) =>
    d.slice(r * n, (r + 1) * n).indexOf(Math.max(...d.slice(r * n, (r + 1) * n)));
  for (let r = 0; r < got.shape[0]; r++) assert.equal(top(got.data, r), top(want.data, r), `packed argmax, image ${r}`);
  const diff = Math.max(...got.data.map((v, i) => Math.abs(v - want.data[i])));
  assert.ok(diff < 1e-3, `max |float - packed| = ${diff}`);
  const ps = { ...binarySpec, layers: packed.layers.map((l) => l.toSpec()) };
  await check('binary-packed', packed, ps, images);
});

test('spec and metadata travel in metadata_props; other opsets load too', async () => {
  const m = built(referenceCnn);
  const bytes = toOnnx({ model: m, spec: referenceCnn, training: { epochs: 3 } }, { name: 'cnn' });
  const r = fromOnnx(bytes);
  assert.deepEqual(JSON.parse(r.metadata['frugal.spec']), referenceCnn);
  assert.deepEqual(JSON.parse(r.metadata['frugal.training']), { epochs: 3 });
  assert.equal(r.metadata['onnx.producer'], 'frugal');
  for (const opset of [17, 21]) await assertSameAsOrt(`opset ${opset}`, m, toOnnx(m, { opset }), images);
  assert.throws(() => toOnnx(m, { opset: 12 }), /opset must be an integer from 13 to 21/);
  // A bare model without a spec: the input shape comes from the first layer (free height and width).
  await assertSameAsOrt('bare', m, toOnnx(m), images);
});

test('a layer ONNX cannot express is refused with its index, type and reason', () => {
  const s = spec(
    [1, 28, 28],
    [
      { type: 'conv2d', in: 1, out: 4, kernel: 3, padding: 1 },
      { type: 'sequential', layers: [{ type: 'relu' }, { type: 'jet-conv2d', in: 4, out: 4 }] },
    ],
  );
  const m = buildModel(s, 1);
  assert.throws(
    () => toOnnx({ model: m, spec: s }),
    (e: Error) => e instanceof OnnxExportError && /layer 1\.1 \(jet-conv2d\) cannot be expressed/.test(e.message),
  );
});

test('python onnx.checker accepts every exported model', (t) => {
  if (!pythonOnnx()) {
    t.skip('python3-onnx is not installed: onnx.checker not run');
    return;
  }
  assert.ok(Object.keys(exported).length >= 10, 'the export tests ran first');
  assert.deepEqual(pythonCheck(exported), {});
});
