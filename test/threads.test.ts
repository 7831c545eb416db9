import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readError, writeError } from '../src/backend/threads.js';
import { reference, setThreads, wasmBackend } from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';

test("a worker's error travels to the caller in the control block, cut to fit", () => {
  const buf = new SharedArrayBuffer(1024);
  assert.equal(readError(buf), '');
  writeError(buf, new RangeError('offset out of bounds'));
  assert.equal(readError(buf), 'RangeError: offset out of bounds');
  writeError(buf, new Error('é'.repeat(5000)));
  const long = readError(buf);
  assert.ok(long.startsWith('Error: éé') && long.length < 512, `${long.length} characters`);
  writeError(buf, 'a thrown string');
  assert.equal(readError(buf), 'a thrown string');
});

const threaded = !!wasmBackend()?.features.shared;

test(
  'a kernel call that traps on the calling thread leaves the pool sound for the next calls',
  { skip: !threaded && 'the threaded build is not loaded in this run' },
  async () => {
    await setThreads(2);
    const be = wasmBackend()!;
    const rt = be.runtime;
    // swap01Tasks over 64 slices from an address past the memory: the caller's first task traps, and a worker's
    // too. Returning before the workers were done left their failure flag set for the next, innocent call.
    for (let i = 0; i < 5; i++) {
      rt.begin();
      assert.throws(() => rt.tasks('swap01Tasks', [0xfffff000, 64, 64, 64, 0xfffff000, 0, 0]), /out of bounds/);
      const M = 160,
        K = 200,
        N = 168;
      const a = randomArray(M * K, 1 + i),
        b = randomArray(K * N, 2 + i),
        want = new Float32Array(M * N),
        got = new Float32Array(M * N);
      reference.gemm(false, false, M, N, K, a, b, want, false);
      be.gemm(false, false, M, N, K, a, b, got, false);
      assertClose(got, want, 1e-5, 1e-4, `gemm after trap ${i}`);
    }
  },
);
