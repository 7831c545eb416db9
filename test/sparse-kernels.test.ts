import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reference, wasmBackend, toCsr, persistentArray, sparseKernels } from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';

// The sparse kernel family (pruned weights): WebAssembly held equal to the reference.
const ref = sparseKernels.reference;

test('CSR kernel: WebAssembly equals the reference on odd shapes, batch 1 to 37, threaded sizes too', () => {
  const wb = wasmBackend(),
    sk = sparseKernels.wasm();
  if (!wb || !sk) return;
  for (const [rows, cols, n, density] of [
    [1, 1, 1, 1],
    [7, 13, 1, 0.3],
    [10, 1152, 1, 0.1],
    [10, 1152, 64, 0.1],
    [9, 31, 37, 0.5],
    [64, 576, 196 * 4, 0.1],
    [5, 3, 4, 0],
  ] as const) {
    const dense = randomArray(rows * cols, rows * 7 + n);
    const keep = randomArray(rows * cols, 99 + cols);
    for (let i = 0; i < dense.length; i++) if ((keep[i] + 1) / 2 >= density) dense[i] = 0;
    const csr = toCsr(dense, rows, cols);
    const X = randomArray(cols * n, 5),
      y1 = new Float32Array(rows * n),
      y2 = new Float32Array(rows * n),
      y3 = new Float32Array(rows * n);
    ref.spmm(csr, X, n, y1);
    sk.spmm(csr, X, n, y2);
    reference.gemm(false, false, rows, n, cols, dense, X, y3, false);
    assertClose(y2, y1, 1e-5, 1e-4, `spmm ${rows}×${cols}·${n}`);
    assertClose(y1, y3, 1e-4, 1e-4, `spmm vs dense ${rows}×${cols}·${n}`);
    const t1 = new Float32Array(cols * n),
      t2 = new Float32Array(cols * n);
    reference.transpose(X, cols, n, t1);
    wb.transpose(X, cols, n, t2);
    assert.deepEqual(t2, t1);
  }
});

test(
  'CSR kernel: operands kept in kernel memory are read in place, and a replaced or ' + 'rewritten array is read anew',
  () => {
    const wb = wasmBackend(),
      sk = sparseKernels.wasm();
    if (!wb || !sk) return;
    const rows = 10,
      cols = 96;
    const dense = randomArray(rows * cols, 3).map((v, i) => (i % 7 === 0 ? v : 0));
    const c0 = toCsr(dense, rows, cols);
    // persistentArray is kernel memory in the shared build and an ordinary array otherwise: both must work.
    // (the parents are kept: a persistent region is reused once its array object is collected)
    const parents: Float32Array[] = [];
    const resident = (a: Float32Array) => {
      const q = persistentArray(Math.max(a.length, 256));
      parents.push(q);
      const p = q.subarray(0, a.length);
      p.set(a);
      return p;
    };
    const residentInts = (a: Int32Array) => {
      const p = resident(new Float32Array(a.length));
      const v = new Int32Array(p.buffer, p.byteOffset, a.length);
      v.set(a);
      return v;
    };
    const csr = {
      ...c0,
      rowPtr: residentInts(c0.rowPtr),
      colIdx: residentInts(c0.colIdx),
      vals: resident(c0.vals as Float32Array),
    };
    const X = randomArray(cols, 4),
      y1 = new Float32Array(rows),
      y2 = new Float32Array(rows);
    const check = (what: string) => {
      ref.spmm(csr, X, 1, y1);
      sk.spmm(csr, X, 1, y2);
      assertClose(y2, y1, 1e-5, 1e-4, what);
    };
    check('first call');
    csr.vals.fill(0.5);
    check('values rewritten in place');
    csr.vals = resident((c0.vals as Float32Array).map((v) => -2 * v));
    check('values array replaced');
    csr.vals = Float32Array.from(c0.vals);
    check('values on the JavaScript heap');
  },
);
