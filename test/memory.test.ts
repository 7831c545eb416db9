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
