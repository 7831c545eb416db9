import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BinaryConv2d, Rng, Tensor, matmul, noGrad, binaryKernels, type BinaryKernels } from '../src/index.js';
import { randomArray } from './helpers.js';

// The binary kernel family (XNOR-popcount): WebAssembly held equal to the reference and to float ±1 products.
const sign = (v: number) => (v >= 0 ? 1 : -1);

test(
  'XNOR-popcount kernels: WebAssembly and reference equal the float ±1 products, odd sizes and channel ' +
    'counts, both pad values',
  () => {
    const wb = binaryKernels.wasm();
    const backends: [string, BinaryKernels][] = [
      ['reference', binaryKernels.reference],
      ...(wb ? [['wasm', wb] as [string, BinaryKernels]] : []),
    ];
    const words = (K: number) => 2 * Math.ceil(K / 64);
    // [130, 131, 7937] has an odd word count, more than 31 SIMD steps per row (byte sums flushed) and
    // enough work to split the product over threads; [200, 3, 6000] enough values to split the packing.
    for (const [M, N, K] of [
      [1, 1, 1],
      [3, 5, 63],
      [5, 7, 64],
      [6, 9, 65],
      [9, 4, 200],
      [17, 13, 1000],
      [130, 131, 7937],
      [200, 3, 6000],
    ]) {
      const a = randomArray(M * K, M + K) as Float32Array,
        b = randomArray(N * K, N + K + 1) as Float32Array;
      const want = noGrad(() =>
        matmul(new Tensor(a.map(sign), [M, K]), new Tensor(b.map(sign), [N, K]), { transB: true }),
      );
      for (const [name, be] of backends) {
        const A = new Int32Array(M * words(K)),
          B = new Int32Array(N * words(K)),
          C = new Int32Array(M * N);
        be.packSigns(a, M, K, A);
        be.packSigns(b, N, K, B);
        be.bgemm(A, B, M, N, K, C);
        assert.deepEqual([...C], [...want.data], `${name} bgemm ${M}×${N}×${K}`);
      }
    }
    // Every bit a mismatch: the per-byte counts reach their maximum (8 per step), so a late flush overflows.
    for (const [name, be] of backends) {
      const [M, N, K] = [4, 8, 64 * 99];
      const A = new Int32Array(M * words(K)),
        B = new Int32Array(N * words(K)),
        C = new Int32Array(M * N);
      be.packSigns(new Float32Array(M * K).fill(1), M, K, A);
      be.packSigns(new Float32Array(N * K).fill(-1), N, K, B);
      be.bgemm(A, B, M, N, K, C);
      assert.deepEqual([...C], new Array(M * N).fill(-K), `${name} bgemm, all mismatches`);
    }
    // Convolution: packed patches × packed kernels = conv over sign(x) padded with padValue.
    for (const [C, stride, pad] of [
      [3, 1, 1],
      [65, 2, 1],
      [8, 1, 0],
      [7, 2, 1],
      [37, 1, 1],
    ]) {
      const x = Tensor.randn([2, C, 6, 5], new Rng(C)),
        w = Tensor.randn([4, C, 3, 3], new Rng(C + 1));
      for (const pv of [1, -1] as const) {
        const conv = new BinaryConv2d(C, 4, 3, { stride, padding: pad, padValue: pv });
        conv.weight.data.set(w.data);
        conv.weight.markChanged();
        const want = noGrad(() => conv.forward(x));
        const [, , OH, OW] = want.shape;
        const g = {
          B: 2,
          C,
          H: 6,
          W: 5,
          Co: 4,
          kh: 3,
          kw: 3,
          sh: stride,
          sw: stride,
          ph: pad,
          pw: pad,
          dh: 1,
          dw: 1,
          OH,
          OW,
        };
        // Kernels packed in the patches' order: per tap, the channel bits.
        const wt = new Float32Array(4 * 9 * C);
        for (let o = 0; o < 4; o++)
          for (let c = 0; c < C; c++) for (let t = 0; t < 9; t++) wt[(o * 9 + t) * C + c] = w.data[(o * C + c) * 9 + t];
        for (const [name, be] of backends) {
          if (C < 64) {
            // Dense layout: the nine taps' C bits back to back, kernels packed the same way.
            const per = words(9 * C),
              P = new Int32Array(2 * OH * OW * per),
              Wp = new Int32Array(4 * per),
              out = new Int32Array(2 * OH * OW * 4);
            be.packPatches(x.data, g, pv, P, true);
            be.packSigns(wt, 4, 9 * C, Wp);
            be.bgemm(P, Wp, 2 * OH * OW, 4, 9 * C, out);
            for (let b = 0; b < 2; b++)
              for (let o = 0; o < 4; o++)
                for (let p = 0; p < OH * OW; p++) {
                  assert.equal(
                    out[(b * OH * OW + p) * 4 + o],
                    want.data[(b * 4 + o) * OH * OW + p],
                    `${name} dense conv C=${C} pv ${pv}`,
                  );
                }
          }
          const rows = 2 * OH * OW,
            per = 9 * words(C),
            P = new Int32Array(rows * per),
            Wp = new Int32Array(4 * per),
            out = new Int32Array(rows * 4);
          be.packPatches(x.data, g, pv, P);
          for (let o = 0; o < 4; o++)
            for (let t = 0; t < 9; t++)
              be.packSigns(
                wt.subarray((o * 9 + t) * C, (o * 9 + t + 1) * C),
                1,
                C,
                Wp.subarray(o * per + t * words(C), o * per + (t + 1) * words(C)),
              );
          // K = 9·C real bits in rows of 9 taps of whole words; the channel padding bits are 0 on both sides.
          be.bgemm(P, Wp, rows, 4, 9 * C, out, (9 * words(C)) / 2);
          for (let b = 0; b < 2; b++)
            for (let o = 0; o < 4; o++)
              for (let p = 0; p < OH * OW; p++) {
                assert.equal(
                  out[(b * OH * OW + p) * 4 + o],
                  want.data[(b * 4 + o) * OH * OW + p],
                  `${name} conv C=${C} pv ${pv}`,
                );
              }
        }
      }
    }
  },
);
