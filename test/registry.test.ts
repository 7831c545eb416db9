import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../src/index.js';
import { Tensor, defineOp, missingGradchecks, profiler, profileRows, registeredOps, OPS } from '../src/index.js';

// An op registered by this test alone (each test file runs in its own process).
const cube = defineOp({
  name: 'testCube',
  forward: (x: Tensor) => ({ out: F.mul(F.mul(x, x), x).detach(), inputs: [x] }),
  backward: (n, _o, gy) => [gy.map((g, i) => 3 * n.inputs[0].data[i] ** 2 * g)],
});

test('defineOp: the tape dispatches to the registered backward rule', () => {
  const x = Tensor.from([1, -2, 3], [3], 'float64');
  x.requiresGrad = true;
  const y = cube(x);
  assert.equal(y.node?.op, 'testCube');
  F.sum(y).backward();
  assert.deepEqual(x.grad!.toArray(), [3, 12, 27]);
  assert.ok(registeredOps().includes('testCube'));
  // The techniques' ops are registered too, and none of them shadows a core op.
  const techniqueOps = ['steSign', 'oneHotSte', 'rfft', 'irfft', 'binProduct', 'rfftBins', 'irfftBins', 'binConv2d'];
  for (const op of techniqueOps) assert.ok(registeredOps().includes(op), op);
  for (const op of registeredOps()) assert.ok(!(OPS as readonly string[]).includes(op), op);
});

test('defineOp refuses a core op name, a duplicate name and no name', () => {
  const forward = (x: Tensor) => ({ out: x, inputs: [x] }),
    backward = () => [];
  assert.throws(() => defineOp({ name: 'matmul', forward, backward }), /'matmul' is a core op/);
  assert.throws(() => defineOp({ name: 'testCube', forward, backward }), /already registered/);
  assert.throws(() => defineOp({ name: '', forward, backward }), /needs a name/);
});

test('missingGradchecks names a registered op that no case covers (the coverage test can fail)', () => {
  const all = [...OPS, ...registeredOps()];
  assert.deepEqual(missingGradchecks(all), []);
  assert.deepEqual(missingGradchecks(all.filter((op) => op !== 'testCube')), ['testCube']);
  assert.deepEqual(missingGradchecks(all.filter((op) => op !== 'conv2d')), ['conv2d']);
});

test('the profiler keys registered ops by their name, forward and backward', () => {
  profiler.reset();
  profiler.enabled = true;
  try {
    const x = Tensor.from([0.5, -0.25], [2], 'float64');
    x.requiresGrad = true;
    F.sum(F.steSign(cube(x))).backward();
  } finally {
    profiler.enabled = false;
  }
  const rows = new Map(profileRows().map((r) => [r.op, r]));
  for (const op of ['testCube', 'steSign']) {
    assert.equal(rows.get(op)?.calls, 1, `${op} forward calls`);
    assert.equal(profiler.backward.get(op)?.calls, 1, `${op} backward calls`);
  }
});
