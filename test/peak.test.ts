// The benchmarks' peak probe (assembly/peak.ts) computes what it says, so the GFLOP/s it yields count real work:
// 12 chains of a ← a·b + c, summed over lanes, against the same recurrence in float32 arithmetic here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';

const wasm = readFileSync(new URL('../../build/kernels.wasm', import.meta.url));
const ex = new WebAssembly.Instance(new WebAssembly.Module(wasm), { env: { abort: () => {} } }).exports as {
  peakFma: (iters: number, seed: number) => number;
};

function expected(iters: number, seed: number): number {
  const f = Math.fround;
  const [b, c] = [f(0.9999999), f(1e-7)];
  let lanes = 0;
  for (let j = 0; j < 12; j++) {
    let a = f(seed + j);
    for (let i = 0; i < iters; i++) a = f(f(a * b) + c); // the unfused build: two rounded operations
    lanes = f(lanes + a);
  }
  return lanes;
}

test('peakFma runs iters rounds of 12 chains of a·b + c (unfused build, exact in float32)', () => {
  for (const [iters, seed] of [
    [0, 1],
    [1, 0.5],
    [1000, 3],
  ]) {
    const got = ex.peakFma(iters, seed);
    // Lanes are identical; the kernel sums chains pairwise and lanes last, so compare to a relative 1e-6.
    const want = 4 * expected(iters, seed);
    assert.ok(Math.abs(got - want) <= 1e-6 * Math.abs(want), `iters ${iters}: ${got} vs ${want}`);
  }
  assert.notEqual(ex.peakFma(1000, 3), ex.peakFma(999, 3), 'the loop count must change the result');
});
