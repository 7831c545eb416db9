import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  buildModel,
  crossEntropy,
  mul,
  poolStats,
  relu,
  referenceCnn,
  Rng,
  Tensor,
  wasmBackend,
  withScope,
} from '../src/index.js';
import { Linear, Sequential, ReLU } from '../src/nn/index.js';

test('200 training steps do not grow the heap: the buffer pool recycles every step', () => {
  const model = buildModel(referenceCnn, 1);
  const opt = new Adam(model.parameters());
  const x = Tensor.rand([16, 1, 28, 28], new Rng(1));
  const y = Array.from({ length: 16 }, (_, i) => i % 10);
  const step = () =>
    withScope(() => {
      const loss = crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      opt.zeroGrad();
    });
  for (let i = 0; i < 20; i++) step();
  const pool0 = poolStats(),
    wasm0 = wasmBackend()?.memoryBytes ?? 0,
    ab0 = process.memoryUsage().arrayBuffers;
  for (let i = 0; i < 200; i++) step();
  const pool1 = poolStats(),
    wasm1 = wasmBackend()?.memoryBytes ?? 0,
    ab1 = process.memoryUsage().arrayBuffers;
  assert.ok(pool0.arrays > 0, 'steps allocate from the pool');
  assert.deepEqual(pool1, pool0, 'the pool holds the same arrays after 200 more steps');
  assert.equal(wasm1, wasm0, 'kernel memory did not grow');
  // JS-side array buffers (small index maps, batch tensors) may fluctuate with GC timing, not grow per step.
  assert.ok(ab1 - ab0 < 8 * 2 ** 20, `array buffers grew by ${((ab1 - ab0) / 2 ** 20).toFixed(1)} MiB`);
});

test('tensors made inside a scope are recycled after it; clones taken inside survive', () => {
  const a = Tensor.rand([64, 64], new Rng(2));
  let pooled: Tensor | null = null,
    kept: Tensor | null = null;
  withScope(() => {
    pooled = relu(a);
    kept = pooled.clone();
  });
  const before = kept!.toArray();
  // the next scope gets the same array back (zeroed) and writes other values into it
  withScope(() => {
    const again = mul(a, -1);
    assert.equal(again.data, pooled!.data, 'the pooled array is reused');
  });
  assert.deepEqual(kept!.toArray(), before, 'the clone is untouched');
  assert.notDeepEqual(pooled!.toArray(), before, 'the recycled tensor must not be used after its scope');
});

test('training model after model of other sizes reuses the freed regions: memory stays near one model', () => {
  const w = wasmBackend();
  if (!w || !(w.runtime.memory.buffer instanceof SharedArrayBuffer)) return; // no pooled arrays to carve
  // Each "trial" a new two-layer net of another width, as a search trains them; its pooled op outputs and
  // (disposed) its parameters and Adam state are freed sizes no later trial asks for exactly.
  const x = Tensor.rand([64, 300], new Rng(3));
  const y = Array.from({ length: 64 }, (_, i) => i % 10);
  const trial = (width: number) => {
    const rng = new Rng(width);
    const model = new Sequential(new Linear(300, width, { rng }), ReLU(), new Linear(width, 10, { rng }));
    const opt = new Adam(model.parameters());
    for (let i = 0; i < 3; i++)
      withScope(() => {
        const loss = crossEntropy(model.forward(x), y);
        opt.zeroGrad();
        loss.backward();
        opt.step();
      });
    model.dispose();
    opt.dispose();
  };
  trial(1000);
  const first = w.memoryBytes;
  // 40 widths from 601 to 991: each smaller than the first, so each fits in what the first one used.
  for (let k = 0; k < 40; k++) trial(601 + 10 * k);
  const grown = w.memoryBytes - first;
  // Without reuse the pool keeps every width's arrays: 157.6 MiB over these 40 trials before the fix.
  assert.ok(grown <= 4 * 2 ** 20, `kernel memory grew by ${(grown / 2 ** 20).toFixed(1)} MiB over 40 trials`);
});

test('the runtime gives released regions out again, merging neighbours and lowering its top', () => {
  const w = wasmBackend();
  if (!w || !(w.runtime.memory.buffer instanceof SharedArrayBuffer)) return;
  const rt = w.runtime;
  // 4 Mi floats each: larger than any hole earlier tests left, so all three are carved at the top, in order.
  const n = 2 ** 22;
  const in0 = rt.carvedBytes,
    top0 = rt.poolTop;
  const a = rt.carve(n),
    b = rt.carve(n),
    c = rt.carve(n);
  assert.equal(rt.carvedBytes - in0, 3 * 4 * n);
  assert.deepEqual([b.byteOffset - a.byteOffset, rt.poolTop - c.byteOffset], [4 * n, 4 * n]);
  b.fill(7);
  rt.release(b);
  const d = rt.carve(n / 2); // the hole b left holds it
  assert.equal(d.byteOffset, b.byteOffset);
  assert.ok(
    d.every((v) => v === 0),
    'handed out zeroed',
  );
  rt.release(a);
  rt.release(d); // a, d and the rest of b's hole merge into one region of 2n floats
  const e = rt.carve(2 * n);
  assert.equal(e.byteOffset, a.byteOffset, 'the merged hole takes an array of both sizes');
  rt.release(e);
  assert.throws(() => rt.release(e), /free already or was never carved/);
  rt.release(c); // the last region: the top comes down past the merged hole
  assert.equal(rt.poolTop, top0);
  assert.equal(rt.carvedBytes, in0);
  assert.throws(() => rt.release(new Float32Array(4)), /takes arrays carve\(\) made/);
});

test('a disposed model or optimizer state is released; using it throws a clear error; its values are gone', () => {
  const model = buildModel(referenceCnn, 1);
  const opt = new Adam(model.parameters());
  const x = Tensor.rand([2, 1, 28, 28], new Rng(4));
  withScope(() => {
    crossEntropy(model.forward(x), [1, 2]).backward();
    opt.step();
  });
  // Loading the optimizer's own state (arrays it shares) keeps the values although the old arrays go back.
  const before = opt.stateDict().tensors['0.m'].toArray();
  opt.loadStateDict(opt.stateDict());
  assert.deepEqual(opt.stateDict().tensors['0.m'].toArray(), before);
  opt.dispose();
  assert.deepEqual(Object.keys(opt.stateDict().tensors), [], 'the state starts empty');
  model.dispose();
  model.dispose(); // twice is harmless
  assert.throws(() => model.forward(x), /this tensor was disposed/);
  assert.throws(() => model.parameters()[0].toArray(), /this tensor was disposed/);
});
