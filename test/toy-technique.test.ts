import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  SGD,
  Tensor,
  buildModel,
  mse,
  noGrad,
  profiler,
  profileRows,
  registeredOps,
  wasmBackend,
  type ModelSpec,
} from '../src/index.js';
import { ToyQuadratic, toyKernels, toySquare } from './fixtures/toy-technique/index.js';
import { randomArray } from './helpers.js';

// The extension demo: a technique added from its own folder (test/fixtures/toy-technique/).

test('toy kernel family: WebAssembly equals the reference bit for bit, float32 picks WebAssembly when loaded', () => {
  const wasm = toyKernels.wasm();
  assert.equal(wasm !== null, wasmBackend() !== null, 'a wasm implementation exactly when the wasm backend loaded');
  assert.equal(toyKernels.for('float64'), toyKernels.reference);
  assert.equal(toyKernels.for('float32'), wasm ?? toyKernels.reference);
  for (const n of [1, 3, 4, 17, 1000]) {
    const x = randomArray(n, n) as Float32Array,
      g = randomArray(n, n + 1) as Float32Array;
    const y1 = new Float32Array(n),
      d1 = new Float32Array(n);
    toyKernels.reference.square(x, y1);
    toyKernels.reference.squareBackward(x, g, d1);
    assert.deepEqual(
      [...y1],
      [...x].map((v) => Math.fround(v * v)),
      `reference square n=${n}`,
    );
    if (!wasm) continue;
    const y2 = new Float32Array(n),
      d2 = new Float32Array(n);
    wasm.square(x, y2);
    wasm.squareBackward(x, g, d2);
    assert.deepEqual(y2, y1, `wasm square n=${n}`);
    assert.deepEqual(d2, d1, `wasm squareBackward n=${n}`);
  }
});

test('toySquare: a registered op on the tape under its own name, profiled, float32 equal to float64', () => {
  assert.ok(registeredOps().includes('toySquare'));
  const x64 = Tensor.rand([4, 5], new Rng(3), -2, 2, 'float64'),
    x32 = x64.to('float32');
  x32.requiresGrad = true;
  profiler.reset();
  profiler.enabled = true;
  let y: Tensor;
  try {
    y = toySquare(x32);
    assert.equal(y.node?.op, 'toySquare');
    y.backward(Tensor.ones(y.shape));
  } finally {
    profiler.enabled = false;
  }
  assert.equal(profileRows().find((r) => r.op === 'toySquare')?.calls, 1);
  for (let i = 0; i < x64.size; i++) {
    assert.ok(Math.abs(y.data[i] - x64.data[i] ** 2) < 1e-5, `value ${i}`);
    assert.ok(Math.abs(x32.grad!.data[i] - 2 * x64.data[i]) < 1e-5, `gradient ${i}`);
  }
});

test('ToyQuadratic: built from a model spec, one SGD step lowers the loss', () => {
  const spec: ModelSpec = {
    format: 'frugal-model',
    version: 1,
    input: [6],
    layers: [{ type: 'toy-quadratic', in: 6, out: 2 }],
  };
  const m = buildModel(spec, 1);
  assert.ok(m.parameters().length >= 1);
  const x = Tensor.randn([8, 6], new Rng(2)),
    target = Tensor.randn([8, 2], new Rng(4));
  const opt = new SGD(m.parameters(), { lr: 0.05 });
  const loss0 = mse(m.forward(x), target);
  m.zeroGrad();
  loss0.backward();
  opt.step();
  const loss1 = noGrad(() => mse(m.forward(x), target));
  assert.ok(loss1.data[0] < loss0.data[0], `loss ${loss0.data[0]} → ${loss1.data[0]}`);
  assert.ok(new ToyQuadratic(3, 2) instanceof ToyQuadratic);
});
