import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { loadWasmBackend } from '../src/backend/wasm/backend.js';
import { reference, wasmBackend, Rng, setThreads, getThreads, type ConvGeom, type PoolGeom } from '../src/index.js';
import { assertClose, geom, randomArray } from './helpers.js';

const wasm = wasmBackend();
/** The threaded build is in use (not in the fallback run: FRUGAL_SHARED=0). */
const threaded = !!wasm?.features.shared;
const threadCounts = threaded ? [1, 2] : [1];

test('the WebAssembly backend loads on this engine', () => {
  assert.ok(wasm, 'wasm backend failed to load');
});

const splitRuns: ArrayLike<number>[] = [];
for (const threads of threadCounts)
  test(`wasm gemm equals reference on random and odd shapes, all transposes (${threads} thread(s))`, async () => {
    await setThreads(threads);
    const rng = new Rng(7);
    const shapes: [number, number, number][] = [
      [1, 1, 1],
      [3, 5, 7],
      [4, 8, 16],
      [17, 9, 33],
      [65, 70, 300],
      [5, 1030, 3],
      [130, 7, 513],
      [257, 129, 200],
      [31, 700, 260],
      [700, 33, 130],
      [1, 4096, 1030],
      [2, 37, 9],
      [3, 300, 2000],
      [260, 300, 450],
      [16, 9, 20000],
      [3, 7, 16390],
    ]; // 260×300×450 is large enough for the shared-panel threaded GEMM; the last two cut K into chunks
    for (let t = 0; t < 6; t++) shapes.push([1 + rng.int(90), 1 + rng.int(90), 1 + rng.int(300)]);
    for (const [M, N, K] of shapes) {
      for (const ta of [false, true])
        for (const tb of [false, true])
          for (const acc of [false, true]) {
            const A = randomArray(M * K, M * 31 + K),
              B = randomArray(K * N, N * 17 + K);
            const C0 = randomArray(M * N, 99);
            const Cr = C0.slice(),
              Cw = C0.slice();
            reference.gemm(ta, tb, M, N, K, A, B, Cr, acc);
            wasm!.gemm(ta, tb, M, N, K, A, B, Cw, acc);
            // Sums of 16,000+ float32 products of values in [−1, 1] (sums of size ~50) round to about 1e-4.
            const tol = K > 16000 ? 1e-3 : 1e-4;
            assertClose(Cw, Cr, tol, 1e-4, `gemm ${M}x${N}x${K} ta=${ta} tb=${tb} acc=${acc}`);
            if (K > 16000) splitRuns.push(Cw);
          }
    }
    // Chunks of K are fixed, not per thread: the same bits at every thread count.
    if (threads > 1) splitRuns.slice(splitRuns.length / 2).forEach((c, i) => assert.deepEqual(c, splitRuns[i]));
  });

for (const threads of threadCounts)
  test(
    `wasm gemmBatch equals gemm on each slab (bitwise) and the reference, shared or per-product B (${threads} ` +
      `thread(s))`,
    async () => {
      await setThreads(threads);
      // [batch, M, N, K]: 16 products of 64³ run as one task each on two threads (0.5 MFLOP each, 8 in all);
      // the others cover M < 4, odd sizes, a product big enough to be split itself, and batch 1.
      const cases: [number, number, number, number][] = [
        [16, 64, 64, 64],
        [5, 3, 17, 9],
        [7, 33, 20, 65],
        [3, 130, 140, 150],
        [1, 8, 8, 8],
        [9, 1, 64, 64],
        [16, 1, 8, 16384], // whole products whose K gemm() cuts into chunks: gemmBatch must cut them too
      ];
      for (const [batch, M, N, K] of cases) {
        for (const ta of [false, true])
          for (const tb of [false, true])
            for (const shared of [false, true]) {
              const A = randomArray(batch * M * K, M + 13 * K),
                B = randomArray((shared ? 1 : batch) * K * N, N + 7 * K);
              const C = randomArray(batch * M * N, 5),
                Cr = new Float32Array(batch * M * N),
                one = new Float32Array(M * N);
              wasm!.gemmBatch(ta, tb, batch, M, N, K, A, B, C, shared);
              reference.gemmBatch(ta, tb, batch, M, N, K, A, B, Cr, shared);
              for (let i = 0; i < batch; i++) {
                const sb = shared ? 0 : K * N;
                wasm!.gemm(
                  ta,
                  tb,
                  M,
                  N,
                  K,
                  A.subarray(i * M * K, (i + 1) * M * K),
                  B.subarray(i * sb, i * sb + K * N),
                  one,
                  false,
                );
                assert.deepEqual(
                  C.subarray(i * M * N, (i + 1) * M * N),
                  one,
                  `gemmBatch product ${i} of ${batch}×${M}×${N}×${K} ta=${ta} tb=${tb} shared=${shared}`,
                );
              }
              const tol = K > 16000 ? 1e-3 : 1e-4;
              assertClose(C, Cr, tol, 1e-4, `gemmBatch ${batch}×${M}×${N}×${K} against the reference`);
            }
      }
    },
  );

for (const threads of threadCounts)
  test(
    `wasm convolution forward and backward equal reference (stride, padding, dilation, odd sizes; ${threads} ` +
      `thread(s))`,
    async () => {
      await setThreads(threads);
      const cases = [
        geom(2, 3, 7, 9, 5, 3, 3, 1, 0, 1),
        geom(3, 1, 28, 28, 16, 3, 3, 1, 0, 1),
        geom(8, 2, 28, 28, 16, 3, 3, 1, 1, 1), // dy's transpose (100,352 values) split over threads
        geom(2, 5, 11, 10, 7, 3, 2, 2, 1, 1),
        geom(1, 4, 13, 13, 3, 3, 3, 1, 2, 2),
        geom(4, 6, 5, 6, 9, 1, 1, 1, 0, 1),
        geom(2, 3, 9, 9, 4, 5, 5, 3, 2, 1),
        geom(16, 16, 13, 13, 32, 3, 3, 1, 0, 1),
      ];
      cases.forEach((g, ci) => {
        const x = randomArray(g.B * g.C * g.H * g.W, 1 + ci),
          w = randomArray(g.Co * g.C * g.kh * g.kw, 50 + ci),
          b = randomArray(g.Co, 9);
        const n = g.B * g.Co * g.OH * g.OW;
        const outR = new Float32Array(n),
          outW = new Float32Array(n);
        reference.conv2dForward(x, w, b, g, outR);
        wasm!.conv2dForward(x, w, b, g, outW);
        assertClose(outW, outR, 1e-4, 1e-4, `conv forward case ${ci}`);
        const dy = randomArray(n, 77 + ci);
        const r = { dw: new Float32Array(w.length), db: new Float32Array(g.Co), dx: new Float32Array(x.length) };
        const q = { dw: new Float32Array(w.length), db: new Float32Array(g.Co), dx: new Float32Array(x.length) };
        reference.conv2dBackward(x, w, dy, g, r.dw, r.db, r.dx);
        wasm!.conv2dBackward(x, w, dy, g, q.dw, q.db, q.dx);
        assertClose(q.dw, r.dw, 1e-3, 1e-4, `conv dw case ${ci}`);
        assertClose(q.db, r.db, 1e-3, 1e-4, `conv db case ${ci}`);
        assertClose(q.dx, r.dx, 1e-3, 1e-4, `conv dx case ${ci}`);
      });
    },
  );

const directRuns: Float32Array[][] = [];
for (const threads of threadCounts)
  test(
    `direct convolutions (pixel- and channel-vectorized, stride 1) and im2col + GEMM equal the reference: odd ` +
      `widths, channel remainders, padding 0–2, no bias (${threads} thread(s))`,
    async () => {
      await setThreads(threads);
      const cases = [
        geom(2, 1, 28, 28, 32, 3, 3, 1, 1, 1),
        geom(3, 3, 9, 13, 7, 3, 3, 1, 1, 1),
        geom(1, 2, 6, 5, 9, 3, 3, 1, 2, 1),
        geom(2, 5, 11, 17, 4, 5, 5, 1, 2, 1),
        geom(1, 4, 8, 8, 6, 1, 3, 1, 0, 1),
        geom(5, 16, 10, 12, 13, 3, 3, 1, 1, 1),
        geom(1, 1, 3, 3, 1, 3, 3, 1, 0, 1),
        { ...geom(2, 5, 11, 17, 12, 3, 3, 1, 1, 1), ph: 2, pw: 0, OH: 13, OW: 15 }, // unequal padding
        geom(4, 8, 28, 28, 16, 3, 3, 1, 1, 1),
        geom(1, 16, 28, 27, 21, 3, 3, 1, 1, 1),
        geom(4, 8, 28, 28, 13, 3, 3, 1, 1, 1),
      ]; // the last three are split over threads (the last with a group of five channels)
      const outs: Float32Array[] = [];
      cases.forEach((g, ci) => {
        const x = randomArray(g.B * g.C * g.H * g.W, 200 + ci),
          w = randomArray(g.Co * g.C * g.kh * g.kw, 300 + ci),
          b = ci % 2 ? null : randomArray(g.Co, 400 + ci);
        const want = new Float32Array(g.B * g.Co * g.OH * g.OW);
        reference.conv2dForward(x, w, b, g, want);
        const direct = new Float32Array(want.length).fill(NaN);
        for (const path of ['direct', 'chan', 'im2col'] as const) {
          const got = path === 'direct' ? direct : new Float32Array(want.length).fill(NaN);
          wasm!.conv2dForward(x, w, b, g, got, {}, path);
          assertClose(got, want, 1e-4, 1e-4, `${path} case ${ci}`);
          if (path !== 'im2col') outs.push(got);
          // Both direct kernels sum each output's taps in the same order (bias last), except the pixel-vectorized
          // one's rows narrower than 4, which start from the bias.
          if (path === 'chan' && g.OW >= 4)
            assert.ok(
              got.every((v, i) => Object.is(v, direct[i])),
              `chan case ${ci}: the direct kernel's bits`,
            );
        }
        // The epilogues (relu; relu and 2×2 max pooling): the two direct kernels' bits again.
        if (g.OW < 4) return;
        for (const epi of [{ relu: true }, { relu: true, pool: true }]) {
          const size = epi.pool ? g.B * g.Co * (g.OH >> 1) * (g.OW >> 1) : want.length;
          const [d, c] = (['direct', 'chan'] as const).map((path) => {
            const o = new Float32Array(size).fill(NaN);
            wasm!.conv2dForward(x, w, b, g, o, epi, path);
            return o;
          });
          assert.ok(!c.some(Number.isNaN), `chan case ${ci} ${JSON.stringify(epi)}: every output written`);
          assert.ok(
            c.every((v, i) => Object.is(v, d[i])),
            `chan case ${ci} ${JSON.stringify(epi)}: the direct kernel's bits`,
          );
          outs.push(c);
        }
      });
      directRuns.push(outs);
      // Each output is summed by one task in a fixed order: the same bits at any thread count.
      if (directRuns.length > 1)
        directRuns[0].forEach((o, ci) =>
          assert.deepEqual(directRuns.at(-1)![ci], o, `direct run ${ci}: same bits at 1 and ${threads} threads`),
        );
      for (const path of ['direct', 'chan'] as const)
        assert.throws(
          () =>
            wasm!.conv2dForward(
              randomArray(18, 1),
              randomArray(9, 2),
              null,
              geom(1, 1, 3, 6, 1, 3, 3, 2, 0, 1),
              new Float32Array(2),
              {},
              path,
            ),
          /stride 1/,
        );
    },
  );

for (const threads of threadCounts)
  test(
    `convolution as a GEMM packed from the image ('packed') gives im2col + GEMM's bits: padding, stride, ` +
      `dilation, rows narrower than a panel, K past one block, the shared-panel size (${threads} thread(s))`,
    async () => {
      await setThreads(threads);
      const cases = [
        geom(64, 16, 13, 13, 32, 3, 3, 1, 0, 1), // the reference CNN's second layer
        geom(3, 3, 9, 13, 7, 3, 3, 1, 1, 1),
        geom(2, 5, 11, 17, 4, 5, 5, 2, 2, 1),
        geom(2, 6, 12, 10, 8, 3, 3, 1, 2, 2),
        geom(3, 4, 5, 3, 9, 3, 3, 1, 1, 1), // 3-wide rows: every panel crosses rows and images
        geom(2, 40, 9, 9, 12, 3, 3, 1, 1, 1), // K = 360: two K blocks
        geom(16, 64, 16, 16, 128, 3, 3, 1, 1, 1), // ≥ 2²⁶ flops, 128 rows: threads share packed panels
      ];
      cases.forEach((g, ci) => {
        const x = randomArray(g.B * g.C * g.H * g.W, 600 + ci),
          w = randomArray(g.Co * g.C * g.kh * g.kw, 700 + ci),
          b = ci % 2 ? null : randomArray(g.Co, 800 + ci);
        const want = new Float32Array(g.B * g.Co * g.OH * g.OW);
        reference.conv2dForward(x, w, b, g, want);
        const run = (path: 'packed' | 'im2col', epi = {}) => {
          const got = new Float32Array(want.length).fill(NaN);
          wasm!.conv2dForward(x, w, b, g, got, epi, path);
          return got;
        };
        const packed = run('packed');
        assertClose(packed, want, 1e-4, 1e-4, `packed case ${ci}`);
        assert.deepEqual(packed, run('im2col'), `packed case ${ci}: im2col's bits`);
        assert.deepEqual(run('packed', { relu: true }), run('im2col', { relu: true }), `case ${ci} with relu`);
      });
    },
  );

test('wasm pooling and elementwise kernels equal reference', () => {
  const pools: PoolGeom[] = [
    { P: 6, H: 7, W: 9, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: 3, OW: 4 },
    { P: 3, H: 8, W: 8, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, OH: 4, OW: 4 },
    { P: 2, H: 1, W: 11, kh: 1, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, OH: 1, OW: 9 },
    { P: 5, H: 9, W: 21, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: 4, OW: 10 },
    // Training sizes: the first convolution's 26×26 planes pooled 2×2, and the general path (3×3, stride 2,
    // padded) on 23×23 planes.
    { P: 101, H: 26, W: 26, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: 13, OW: 13 },
    { P: 130, H: 23, W: 23, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, OH: 12, OW: 12 },
  ];
  for (const g of pools)
    for (const mode of ['max', 'avg'] as const) {
      const x = randomArray(g.P * g.H * g.W, g.H * 3 + g.W),
        dy = randomArray(g.P * g.OH * g.OW, 5);
      const a = new Float32Array(g.P * g.OH * g.OW),
        b = a.slice();
      reference.pool2dForward(x, g, mode, a);
      wasm!.pool2dForward(x, g, mode, b);
      assertClose(b, a, 1e-6, 1e-6, `${mode} pool forward`);
      const da = new Float32Array(x.length),
        db = da.slice();
      reference.pool2dBackward(x, dy, g, mode, da);
      wasm!.pool2dBackward(x, dy, g, mode, db);
      assertClose(db, da, 1e-6, 1e-5, `${mode} pool backward`);
    }
  for (const n of [1, 3, 4, 7, 64, 1001, 70001]) {
    const x = randomArray(n, n),
      y = randomArray(n, n + 1);
    const r = new Float32Array(n),
      w = new Float32Array(n);
    reference.relu(x, r);
    wasm!.relu(x, w);
    assertClose(w, r, 0, 0, 'relu');
    reference.reluBackward(x, y, r);
    wasm!.reluBackward(x, y, w);
    assertClose(w, r, 0, 0, 'relu backward');
    for (const k of ['add', 'sub', 'mul', 'div'] as const) {
      reference.binary(k, x, y, r);
      wasm!.binary(k, x, y, w);
      assertClose(w, r, 1e-6, 1e-6, k);
    }
    for (const m of [1, 3, 4, 9])
      if (n % m === 0) {
        const b = randomArray(m, m + 1),
          t1 = new Float32Array(n),
          t2 = new Float32Array(n);
        reference.tileAdd(x, b, t1);
        wasm!.tileAdd(x, b, t2);
        assertClose(t2, t1, 1e-6, 1e-6, 'tileAdd');
        const s1 = new Float32Array(m),
          s2 = new Float32Array(m);
        reference.sumTiles(x, s1);
        wasm!.sumTiles(x, s2);
        assertClose(s2, s1, 1e-5, 1e-5, 'sumTiles');
        // per-channel affine over [outer, m, inner]: the same bits (product and sum rounded separately)
        for (const [sc, sh] of [
          [b, y.subarray(0, m)],
          [b, null],
          [null, b],
        ] as const) {
          for (const outer of n % (m * 2) === 0 ? [1, 2] : [1]) {
            reference.channelAffine(x, sc, sh, outer, n / m / outer, t1);
            wasm!.channelAffine(x, sc, sh, outer, n / m / outer, t2);
            assertClose(t2, t1, 0, 0, `channelAffine ${sc ? 'scale' : ''} ${sh ? 'shift' : ''} outer ${outer}`);
          }
        }
      }
    const h = {
      lr: 0.01,
      beta1: 0.9,
      beta2: 0.999,
      eps: 1e-8,
      weightDecay: 0.01,
      bc1: 0.1,
      bc2: 0.001,
      decoupled: true,
    };
    for (const decoupled of [true, false]) {
      const p1 = x.slice(),
        m1 = y.slice().map(Math.abs),
        v1 = m1.slice(),
        p2 = p1.slice(),
        m2 = m1.slice(),
        v2 = v1.slice();
      reference.adam(p1, y, m1, v1, { ...h, decoupled });
      wasm!.adam(p2, y, m2, v2, { ...h, decoupled });
      assertClose(p2, p1, 1e-5, 1e-4, 'adam p');
      assertClose(m2, m1, 1e-6, 1e-5, 'adam m');
      assertClose(v2, v1, 1e-6, 1e-5, 'adam v');
    }
  }
});

test('wasm batch-norm training kernels equal reference (odd row lengths, offset data, one or many rows)', () => {
  for (const [outer, C, inner] of [
    [2, 3, 7],
    [5, 4, 16],
    [1, 2, 1],
    [3, 1, 49],
    [64, 2, 13],
  ]) {
    const n = outer * C * inner,
      x = randomArray(n, n + 1),
      gy = randomArray(n, n + 2);
    for (let i = 0; i < n; i++) x[i] += 3; // an offset: a one-pass variance would lose digits here
    const m1 = new Float32Array(C),
      v1 = new Float32Array(C),
      m2 = new Float32Array(C),
      v2 = new Float32Array(C);
    reference.bnStats(x, outer, inner, m1, v1);
    wasm!.bnStats(x, outer, inner, m2, v2);
    assertClose(m2, m1, 1e-6, 1e-6, `bnStats mean ${outer}×${C}×${inner}`);
    assertClose(v2, v1, 1e-6, 1e-5, `bnStats variance ${outer}×${C}×${inner}`);
    // The mean and variance against the definition, channel 0.
    const vals = Array.from({ length: outer * inner }, (_, i) => x[Math.floor(i / inner) * C * inner + (i % inner)]);
    const mu = vals.reduce((a, b) => a + b, 0) / vals.length;
    assert.ok(
      Math.abs(m2[0] - mu) < 1e-5 && Math.abs(v2[0] - vals.reduce((a, b) => a + (b - mu) ** 2, 0) / vals.length) < 1e-5,
      'channel 0 moments',
    );
    const is = randomArray(C, 3).map(Math.abs),
      g = randomArray(C, 4),
      b = randomArray(C, 5);
    const h1 = new Float32Array(n),
      y1 = new Float32Array(n),
      h2 = new Float32Array(n),
      y2 = new Float32Array(n);
    reference.bnNormalize(x, outer, inner, m1, is, g, b, h1, y1);
    wasm!.bnNormalize(x, outer, inner, m1, is, g, b, h2, y2);
    assertClose(h2, h1, 1e-6, 1e-5, 'bnNormalize x̂');
    assertClose(y2, y1, 1e-6, 1e-5, 'bnNormalize y');
    const y3 = new Float32Array(n);
    wasm!.bnNormalize(x, outer, inner, m1, is, g, b, null, y3);
    assertClose(y3, y2, 0, 0, 'bnNormalize without x̂');
    const s1 = new Float32Array(C),
      t1 = new Float32Array(C),
      s2 = new Float32Array(C),
      t2 = new Float32Array(C);
    reference.bnGradSums(gy, h1, outer, inner, s1, t1);
    wasm!.bnGradSums(gy, h1, outer, inner, s2, t2);
    assertClose(s2, s1, 1e-5, 1e-5, 'bnGradSums Σgy');
    assertClose(t2, t1, 1e-5, 1e-5, 'bnGradSums Σgy·x̂');
    const d1 = new Float32Array(n),
      d2 = new Float32Array(n);
    reference.bnInputGrad(gy, h1, outer, inner, g, b, is, d1);
    wasm!.bnInputGrad(gy, h1, outer, inner, g, b, is, d2);
    assertClose(d2, d1, 1e-6, 1e-5, 'bnInputGrad');
  }
});

test(
  'core kernels: results are bit-identical whatever the thread count',
  { skip: !threaded && 'the threaded build is not loaded in this run' },
  async () => {
    const M = 300,
      N = 517,
      K = 333;
    const A = randomArray(M * K, 1),
      B = randomArray(K * N, 2);
    const g = geom(16, 16, 13, 13, 32, 3, 3, 1, 1, 1);
    const x = randomArray(g.B * g.C * g.H * g.W, 3),
      w = randomArray(g.Co * g.C * 9, 4);
    const dy = randomArray(g.B * g.Co * g.OH * g.OW, 5);
    const run = () => {
      const C = new Float32Array(M * N),
        Ct = new Float32Array(M * N);
      wasm!.gemm(false, false, M, N, K, A, B, C, false);
      wasm!.gemm(true, true, M, N, K, A, B, Ct, false);
      const out = new Float32Array(g.B * g.Co * g.OH * g.OW),
        dw = new Float32Array(w.length),
        dx = new Float32Array(x.length);
      wasm!.conv2dForward(x, w, null, g, out);
      wasm!.conv2dBackward(x, w, dy, g, dw, null, dx);
      return [C, Ct, out, dw, dx];
    };
    await setThreads(1);
    const one = run();
    await setThreads(2);
    assert.equal(getThreads(), 2);
    const two = run();
    one.forEach((a, i) => assert.deepEqual(two[i], a, `output ${i} differs between 1 and 2 threads`));
  },
);

test('setThreads refuses impossible counts', async () => {
  await assert.rejects(setThreads(0), /threads must be a positive integer/);
  await assert.rejects(setThreads(1.5), /threads must be a positive integer/);
});

test('the single-threaded fallback module (no shared memory, no relaxed SIMD) equals reference', async () => {
  const b = readFileSync(new URL('../../build/kernels.wasm', import.meta.url));
  const fb = await loadWasmBackend(b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer);
  assert.equal(fb.threads, 1);
  assert.deepEqual(fb.features, { relaxed: false, shared: false });
  for (const [M, N, K] of [
    [33, 65, 17],
    [128, 256, 784],
  ] as const) {
    const A = randomArray(M * K, 8),
      B = randomArray(K * N, 9);
    const r = new Float32Array(M * N),
      f = new Float32Array(M * N);
    reference.gemm(false, true, M, N, K, A, B, r, false);
    fb.gemm(false, true, M, N, K, A, B, f, false);
    assertClose(f, r, 1e-4, 1e-4, 'fallback gemm');
  }
  const g = geom(2, 3, 9, 8, 4, 3, 3, 1, 1, 1);
  const x = randomArray(g.B * g.C * g.H * g.W, 3),
    w = randomArray(g.Co * g.C * 9, 4);
  const o1 = new Float32Array(g.B * g.Co * g.OH * g.OW),
    o2 = o1.slice();
  reference.conv2dForward(x, w, null, g, o1);
  fb.conv2dForward(x, w, null, g, o2);
  assertClose(o2, o1, 1e-4, 1e-4, 'fallback conv');
});

test('relu keeps NaN in the vector body and in the tail, on both backends, in tileAdd and the conv epilogue', () => {
  // Seven values: one vector of four, a tail of three; NaN in each part, and −0, which becomes +0.
  const x = Float32Array.from([NaN, -1, 2, -0, 3, NaN, -5]);
  const want = [NaN, 0, 2, 0, 3, NaN, 0];
  for (const be of wasm ? [reference, wasm] : [reference]) {
    const y = new Float32Array(7);
    be.relu(x, y);
    assert.deepEqual(Array.from(y), want);
    assert.ok(Object.is(y[3], 0), 'relu(−0) is +0');
    // The bias add + relu of the fused Linear → ReLU (tileAdd), adding zeros.
    const t = new Float32Array(7);
    be.tileAdd(x, new Float32Array(7), t, true);
    assert.deepEqual(Array.from(t), want, 'tileAdd with relu');
  }
  if (!wasm) return;
  // A 1×1 convolution with weight 1 on a 1×7 image: the epilogue's relu, direct and im2col paths alike.
  const g: ConvGeom = geom(1, 1, 1, 7, 1, 1, 1, 1, 0, 1);
  for (const path of ['direct', 'im2col'] as const) {
    const out = new Float32Array(7);
    wasm.conv2dForward(x, Float32Array.of(1), null, g, out, { relu: true }, path);
    assert.deepEqual(Array.from(out), want, path);
  }
});

test('1-D max-pool of 2 (1×2 windows, stride 2) equals the reference: NaN, ties, groups of four, tails, odd W', () => {
  if (!wasm) return;
  const geoms: PoolGeom[] = [
    { P: 5, H: 1, W: 23, kh: 1, kw: 2, sh: 1, sw: 2, ph: 0, pw: 0, OH: 1, OW: 11 },
    { P: 2, H: 3, W: 18, kh: 1, kw: 2, sh: 1, sw: 2, ph: 0, pw: 0, OH: 3, OW: 9 },
  ];
  for (const g of geoms) {
    const rng = new Rng(g.W);
    const x = Float32Array.from({ length: g.P * g.H * g.W }, () => rng.int(3)); // 0, 1, 2: many ties
    for (const i of [0, 3, 9, 30, 47, 60, 101]) if (i < x.length) x[i] = NaN;
    // −0 against +0: the first of a tie stays, in the SIMD body (pairs 8–9, 12–13) and the tail.
    for (const [i, v] of [
      [8, -0],
      [9, 0],
      [12, 0],
      [13, -0],
      [20, -0],
      [21, 0],
    ])
      x[i] = v;
    const dy = Float32Array.from({ length: g.P * g.OH * g.OW }, (_, i) => (i % 5 === 0 ? -0 : rng.uniform(-1, 1)));
    const want = new Float32Array(g.P * g.OH * g.OW),
      got = want.slice();
    reference.pool2dForward(x, g, 'max', want);
    wasm.pool2dForward(x, g, 'max', got);
    assert.deepEqual(got, want, 'forward');
    const dWant = new Float32Array(x.length).fill(9),
      dGot = dWant.slice();
    reference.pool2dBackward(x, dy, g, 'max', dWant);
    wasm.pool2dBackward(x, dy, g, 'max', dGot);
    assert.deepEqual(dGot, dWant, 'backward');
    assert.equal(dGot.filter((v) => v !== 0).length, dy.filter((v) => v !== 0).length);
  }
});

test('max-pool 2×2 backward routes each gradient to the first NaN, else maximal input: ties, body and tail', () => {
  if (!wasm) return;
  // OW 5: one group of four windows and a tail of one; odd H and W leave a row and a column no window covers.
  const g: PoolGeom = { P: 3, H: 7, W: 11, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: 3, OW: 5 };
  const rng = new Rng(21);
  const x = Float32Array.from({ length: g.P * g.H * g.W }, () => rng.int(3)); // values 0, 1, 2: many ties
  for (const i of [0, 5, 13, 40, 90, 150, 200]) x[i] = NaN;
  const dy = Float32Array.from({ length: g.P * g.OH * g.OW }, (_, i) => (i % 5 === 0 ? -0 : rng.uniform(-1, 1)));
  const want = new Float32Array(x.length).fill(9),
    got = want.slice();
  reference.pool2dBackward(x, dy, g, 'max', want);
  wasm.pool2dBackward(x, dy, g, 'max', got);
  assert.deepEqual(got, want);
  assert.ok(
    got.every((v) => !Object.is(v, -0)),
    'a −0 gradient lands as +0, as 0 + g gives',
  );
  // Every window's gradient went to exactly one of its inputs.
  assert.equal(got.filter((v) => v !== 0).length, dy.filter((v) => v !== 0).length);
});
