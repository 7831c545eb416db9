// Issue 23, point 7: a model exported by PyTorch imports into Frugal with the same outputs (committed file, and
// regenerated with torch where it is installed), and Frugal → ONNX → Frugal round trips through the CLI.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, fromOnnx, loadModel, noGrad, referenceCnn, Rng, saveModel, Tensor } from '../src/node.js';
import { frugal, oneJson } from './cli-helpers.js';
import { ortRun, PYTHON } from './onnx-helpers.js';

const FIXTURES = new URL('../../test/fixtures/onnx/', import.meta.url);
const maxDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => {
  assert.equal(a.length, b.length);
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
};

/** Import a torch-exported file and hold Frugal's outputs to torch's and ONNX Runtime's. */
async function checkTorchModel(bytes: Uint8Array, ref: { input: number[]; shape: number[]; output: number[] }) {
  const r = fromOnnx(bytes);
  assert.deepEqual(
    r.spec.layers.map((l) => l.type),
    [
      'conv2d',
      'batchnorm2d',
      'relu',
      'maxpool2d',
      'conv2d',
      'tanh',
      'avgpool2d',
      'flatten',
      'linear',
      'leakyrelu',
      'linear',
      'softmax',
    ],
  );
  assert.deepEqual(r.spec.input, [1, 20, 20]);
  const x = new Tensor(Float32Array.from(ref.input), ref.shape);
  const y = noGrad(() => r.model.forward(x));
  assert.ok(maxDiff(y.data, ref.output) <= 1e-4, `Frugal vs torch: ${maxDiff(y.data, ref.output)}`);
  const o = await ortRun(bytes, x);
  assert.ok(maxDiff(y.data, o.data) <= 1e-4, `Frugal vs onnxruntime: ${maxDiff(y.data, o.data)}`);
}

test('the committed PyTorch-exported model imports with torch outputs (max |diff| <= 1e-4)', async () => {
  const bytes = readFileSync(new URL('torch-small.onnx', FIXTURES));
  await checkTorchModel(bytes, JSON.parse(readFileSync(new URL('torch-small.json', FIXTURES), 'utf8')));
});

test('a model exported by PyTorch now (python3-torch) imports with its outputs', async (t) => {
  if (spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0) {
    t.skip('python3-torch is not installed: the fixture is not regenerated (the committed one is tested)');
    return;
  }
  const dir = mkdtempSync(join(tmpdir(), 'frugal-torch-'));
  const script = new URL('make_torch_model.py', FIXTURES).pathname;
  const r = spawnSync(PYTHON, [script, dir], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  await checkTorchModel(
    readFileSync(join(dir, 'torch-small.onnx')),
    JSON.parse(readFileSync(join(dir, 'torch-small.json'), 'utf8')),
  );
});

test('frugal export then frugal import gives the same model outputs; bad flags and files are refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-onnx-cli-'));
  const m = buildModel(referenceCnn, 4);
  const src = join(dir, 'cnn.safetensors'),
    onnx = join(dir, 'cnn.onnx'),
    back = join(dir, 'back.safetensors');
  saveModel(src, m, referenceCnn, { epochs: 1 });
  const e = frugal('export', src, '--format', 'onnx', '--out', onnx, '--json');
  assert.equal(e.code, 0, e.stderr);
  assert.equal(oneJson(e.stdout).opset, 13);
  const i = frugal('import', onnx, '--out', back, '--json');
  assert.equal(i.code, 0, i.stderr);
  assert.equal((oneJson(i.stdout).layers as string[]).length, referenceCnn.layers.length);
  const x = Tensor.randn([4, 1, 28, 28], new Rng(2));
  m.eval();
  const a = noGrad(() => m.forward(x)),
    loaded = loadModel(back).model.eval();
  assert.ok(maxDiff(a.data, noGrad(() => loaded.forward(x)).data) <= 1e-5);
  assert.equal(frugal('export', src, '--format', 'onnx', '--out', onnx, '--opset', '99').code, 2);
  assert.equal(frugal('export', src, '--format', 'tflite', '--out', onnx).code, 2);
  const bad = frugal('import', src, '--out', back);
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /frugal import: ONNX import: /);
});
