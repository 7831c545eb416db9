import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../src/index.js';
import { Rng, Tensor, gradcheck, OPS, backwardRules, missingGradchecks, registeredOps, tapeOps } from '../src/index.js';
import { CASES } from './gradcheck/all.js';

const rng = new Rng(42);
/** A float64 leaf that requires a gradient, values in [lo, hi). */
function leaf(shape: number[], lo = -1, hi = 1): Tensor {
  const t = Tensor.rand(shape, rng, lo, hi, 'float64');
  t.requiresGrad = true;
  return t;
}

test('every primitive op has a backward rule', () => {
  for (const op of OPS) assert.equal(typeof backwardRules[op], 'function', op);
});

// Every case of THE list (core ops and every technique's registered ops).
for (const c of CASES) {
  test(`gradient of ${c.name} matches central differences`, () => {
    const r = gradcheck(c.f, c.inputs, c.opts);
    assert.ok(r.ok, `${c.name}: ${r.worst} (max abs error ${r.maxAbsError})`);
  });
}

test('every op, core or registered by a technique, has a gradient check case', () => {
  assert.ok(registeredOps().length > 0, 'the techniques registered no ops: is the registry wired?');
  // The ops each case covers are those on its function's tape.
  const covered = new Set(CASES.flatMap((c) => tapeOps(c.f(...c.inputs))));
  const missing = missingGradchecks(covered);
  assert.deepEqual(
    missing,
    [],
    `ops without a gradient check case (add one to test/gradcheck/): ${missing.join(', ')}`,
  );
});

test('batched matmul in float32 (the WebAssembly backend, gemmBatch) gives the float64 value and gradients', () => {
  // 16 products of 64³ run one per task on two threads; [3, 5, 7]·[3, 7, 4] one after another.
  for (const [B, M, K, N] of [
    [16, 64, 64, 64],
    [3, 5, 7, 4],
  ]) {
    for (const transA of [false, true])
      for (const transB of [false, true]) {
        const a64 = leaf(transA ? [B, K, M] : [B, M, K]),
          b64 = leaf(transB ? [B, N, K] : [B, K, N]),
          g = Tensor.rand([B, M, N], rng, -1, 1, 'float64');
        const a32 = a64.to('float32'),
          b32 = b64.to('float32');
        a32.requiresGrad = true;
        b32.requiresGrad = true;
        const y64 = F.matmul(a64, b64, { transA, transB }),
          y32 = F.matmul(a32, b32, { transA, transB });
        F.sum(F.mul(y64, g)).backward();
        F.sum(F.mul(y32, g.to('float32'))).backward();
        const close = (x: Tensor, y: Tensor, what: string) => {
          for (let i = 0; i < x.size; i++)
            assert.ok(
              Math.abs(x.data[i] - y.data[i]) <= 1e-4 * (1 + Math.abs(y.data[i])),
              `${what} [${B}, ${M}, ${K}, ${N}] transA=${transA} transB=${transB} at ${i}: ${x.data[i]} vs ` +
                `${y.data[i]}`,
            );
        };
        close(y32, y64, 'value');
        close(a32.grad!, a64.grad!, 'grad a');
        close(b32.grad!, b64.grad!, 'grad b');
      }
  }
});

test('avgPool2d with padding counts padded positions in the divisor (count_include_pad), forward and gradient', () => {
  // A 3×3 window at a corner of a 3×3 image of ones, padding 1, covers 4 real pixels out of 9.
  const x = Tensor.ones([1, 1, 3, 3], 'float64');
  x.requiresGrad = true;
  const y = F.avgPool2d(x, 3, { stride: 1, padding: 1 });
  const want = [4, 6, 4, 6, 9, 6, 4, 6, 4].map((n) => n / 9);
  const close = (got: number[], what: string) =>
    got.forEach((v, i) => assert.ok(Math.abs(v - want[i]) < 1e-12, `${what} at ${i}: ${v}, want ${want[i]}`));
  close(y.toArray() as number[], 'output');
  F.sum(y).backward();
  // Each pixel gets 1/9 from every window that covers it: a corner is in 4 windows, the centre in 9.
  close(x.grad!.toArray() as number[], 'gradient');
});

test('gradients accumulate across backward calls and noGrad records nothing', () => {
  const a = leaf([3]);
  F.sum(F.mul(a, 2)).backward();
  F.sum(F.mul(a, 3)).backward();
  assert.deepEqual(a.grad!.toArray(), [5, 5, 5]);
  const y = F.noGrad(() => F.mul(a, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});

test('gradcheck detects a wrong gradient (it can fail)', () => {
  // A function whose tape is cut (detach) has a zero analytic gradient but a non-zero numeric one.
  const r = gradcheck((a) => F.add(F.mul(a.detach(), 2), F.mul(a, 0)), [leaf([3])]);
  assert.equal(r.ok, false);
});
