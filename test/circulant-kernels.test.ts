import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CircLinear,
  Rng,
  Tensor,
  noGrad,
  CIRC_GEMV,
  fftKernels,
  setThreads,
  getThreads,
  wasmBackend,
} from '../src/index.js';
import type { ConvGeom } from '../src/index.js';
import { assertClose, geom, randomArray } from './helpers.js';

// The circulant kernel family (FFT): WebAssembly held equal to the reference.
const ref = fftKernels.reference;

/** Relative error ‖a − b‖∞ / max(‖b‖∞, tiny). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 1e-12;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

test(
  'real FFT kernel: WebAssembly equals the reference DFT for N = 1 … 1024 (four-lane blocks and single rows), ' +
    'and irfft inverts it',
  () => {
    const wb = fftKernels.wasm();
    for (const N of [1, 2, 4, 8, 16, 64, 512, 1024]) {
      const M = 9,
        Fb = (N >> 1) + 1,
        x = randomArray(M * N, N + 3) as Float32Array;
      const r1 = new Float64Array(M * Fb),
        i1 = new Float64Array(M * Fb);
      ref.rfft(Float64Array.from(x), M, N, r1, i1);
      const back = new Float64Array(M * N);
      ref.irfft(r1, i1, M, N, back);
      assertClose(back, x, 1e-9, 1e-9, `reference irfft∘rfft N=${N}`);
      if (!wb) continue;
      const r2 = new Float32Array(M * Fb),
        i2 = new Float32Array(M * Fb),
        y = new Float32Array(M * N);
      wb.rfft(x, M, N, r2, i2);
      const e = relErr([...r2, ...i2], [...r1, ...i1]);
      assert.ok(e < 1e-5, `rfft N=${N}: ${e}`);
      // The imaginary parts of bins 0 and N/2 must be ignored.
      for (let m = 0; m < M; m++) {
        i2[m * Fb] = 7;
        i2[m * Fb + Fb - 1] = -3;
      }
      wb.irfft(r2, i2, M, N, y);
      assert.ok(relErr(y, x) < 1e-5, `irfft N=${N}: ${relErr(y, x)}`);
    }
    assert.throws(
      () => wb?.rfft(new Float32Array(12), 1, 12, new Float32Array(7), new Float32Array(7)),
      /power of two/,
    );
  },
);

test(
  'packed bin-major FFT kernels: WebAssembly equals the reference (runs of RP, odd counts, N = 2 … 4096), and ' +
    'irfftPacked inverts',
  () => {
    const wb = fftKernels.wasm();
    // [M, N, RP, P]: P > 1 reads vectors down the middle axis of [M/P, N, P] (channels of pixels).
    for (const [M, N, RP, P] of [
      [6, 2, 3, 1],
      [12, 4, 4, 1],
      [10, 8, 5, 1],
      [9, 16, 1, 1],
      [16, 64, 8, 1],
      [7, 32, 7, 1],
      [8, 4096, 4, 1],
      [5, 2048, 5, 1],
      [24, 8, 12, 6],
      [18, 2, 9, 9],
      [32, 16, 16, 16],
      [10, 4, 10, 5],
      [64, 4096, 32, 8],
      // RP a multiple of 16: sixteen vectors at a time (packedIO16), threaded from M·N = 2^15.
      [64, 32, 16, 1],
      [96, 128, 32, 1],
      [256, 128, 32, 1],
      [32, 2048, 16, 1],
      [48, 4, 16, 1],
      [16, 8, 16, 1],
    ]) {
      const x = randomArray(M * N, M + N + P) as Float32Array;
      const p1 = new Float64Array(M * N);
      ref.rfftPacked(Float64Array.from(x), M, N, RP, p1, P);
      // Spot check of the layout: vector m's X[0] (the sum of its elements) sits at slot (0, 0).
      const m = M - 1,
        b = Math.floor(m / RP),
        r = m % RP,
        g = Math.floor(m / P),
        p = m % P;
      const sum = Array.from({ length: N }, (_, n) => x[(g * N + n) * P + p]).reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(p1[b * 2 * RP + r] - sum) < 1e-4, `packed X[0] of vector ${m}`);
      const back = new Float64Array(M * N);
      ref.irfftPacked(p1, M, N, RP, back, P);
      assertClose(back, x, 1e-9, 1e-9, `reference irfftPacked∘rfftPacked ${M}×${N} RP ${RP} P ${P}`);
      if (!wb) continue;
      const p2 = new Float32Array(M * N),
        y = new Float32Array(M * N);
      wb.rfftPacked(x, M, N, RP, p2, P);
      assert.ok(relErr(p2, p1) < 1e-5, `wasm rfftPacked ${M}×${N} RP ${RP} P ${P}: ${relErr(p2, p1)}`);
      wb.irfftPacked(p2, M, N, RP, y, P);
      assert.ok(relErr(y, x) < 1e-5, `wasm irfftPacked ${M}×${N} RP ${RP} P ${P}: ${relErr(y, x)}`);
    }
    assert.throws(() => wb?.rfftPacked(new Float32Array(12), 4, 3, 2, new Float32Array(12)), /power of two/);
    assert.throws(() => wb?.rfftPacked(new Float32Array(24), 6, 4, 4, new Float32Array(24)), /must divide/);
    assert.throws(() => wb?.rfftPacked(new Float32Array(48), 12, 4, 6, new Float32Array(48), 4), /must divide/);
  },
);

test('per-bin complex product kernel: WebAssembly equals the reference in all three modes, odd bin counts', () => {
  const wb = fftKernels.wasm();
  if (!wb) return;
  for (const [B, R, S, Fb] of [
    [1, 1, 1, 1],
    [3, 5, 2, 9],
    [2, 4, 7, 5],
    [1, 16, 16, 33],
  ]) {
    for (const mode of [0, 1, 2] as const) {
      const [I, J] = mode === 0 ? [B, S] : mode === 1 ? [B, R] : [S, R];
      const aLen = (mode === 0 ? B * R : B * S) * Fb,
        wLen = (mode === 2 ? B * R : S * R) * Fb;
      const a: [Float32Array, Float32Array] = [
        randomArray(aLen, 1) as Float32Array,
        randomArray(aLen, 2) as Float32Array,
      ];
      const w: [Float32Array, Float32Array] = [
        randomArray(wLen, 3) as Float32Array,
        randomArray(wLen, 4) as Float32Array,
      ];
      const y1: [Float32Array, Float32Array] = [new Float32Array(I * J * Fb), new Float32Array(I * J * Fb)];
      const y2: [Float32Array, Float32Array] = [new Float32Array(I * J * Fb), new Float32Array(I * J * Fb)];
      ref.cbin(a, w, y1, B, R, S, Fb, mode);
      wb.cbin(a, w, y2, B, R, S, Fb, mode);
      assertClose([...y2[0], ...y2[1]], [...y1[0], ...y1[1]], 1e-5, 1e-5, `cbin mode ${mode} ${B}×${R}×${S}×${Fb}`);
    }
  }
});

test(
  'one-call inference product (circGemv): equals the op-by-op FFT path and the expanded path; WebAssembly ' +
    'equals the reference',
  () => {
    // [in, out, N, batch, bias, pad]: S = out/N not a multiple of 4, N = 2 … 512, padding, no bias.
    const cases: [number, number, number, number, boolean, boolean][] = [
      [64, 64, 8, 1, true, false],
      [48, 12, 4, 5, true, false],
      [32, 64, 16, 2, false, false],
      [16, 24, 2, 8, true, false],
      [100, 36, 8, 3, true, true],
      [256, 256, 128, 1, true, false],
    ];
    for (const [inF, outF, N, B, bias, pad] of cases) {
      const l = new CircLinear(inF, outF, N, { bias, pad, rng: new Rng(inF + N) });
      l.path = 'fft';
      const x = Tensor.randn([B, inF], new Rng(B + N));
      const name = `${inF}→${outF} N=${N} batch ${B}${bias ? '' : ' no bias'}${pad ? ' padded' : ''}`;
      assert.ok(
        noGrad(() => l.usesGemv(B)),
        `${name}: takes the one-call path`,
      );
      assert.ok(!l.usesGemv(B), `${name}: not with gradients on`);
      const one = noGrad(() => l.forward(x).data.slice());
      const ops = l.forward(x).data.slice(); // gradients on: rfft, binProduct / bin GEMMs, irfft
      l.path = 'dense';
      const dense = noGrad(() => l.forward(x).data.slice());
      assert.ok(relErr(one, ops) <= 1e-5, `${name} vs op path: ${relErr(one, ops)}`);
      assert.ok(relErr(one, dense) <= 1e-4, `${name} vs expanded: ${relErr(one, dense)}`);
    }
    assert.equal(
      noGrad(() => new CircLinear(64, 64, 8).usesGemv(CIRC_GEMV.maxBatch + 1)),
      false,
      'large batches take the bin-GEMM path',
    );
    const wb = fftKernels.wasm();
    for (const [B, R, S, N] of [
      [1, 3, 5, 8],
      [2, 4, 4, 2],
      [3, 2, 7, 32],
    ]) {
      const Fb = (N >> 1) + 1,
        x = randomArray(B * R * N, N) as Float32Array,
        wt = randomArray(2 * Fb * R * S, R) as Float32Array,
        b = randomArray(S * N, S) as Float32Array;
      const y1 = new Float64Array(B * S * N);
      ref.circGemv(Float64Array.from(x), B, R, S, N, Float64Array.from(wt), Float64Array.from(b), y1);
      // Against the definition: y = irfft(Σ_r W ⊙ rfft(x)) + b, through the reference's own kernels.
      const xr = new Float64Array(B * R * Fb),
        xi = new Float64Array(B * R * Fb);
      ref.rfft(Float64Array.from(x), B * R, N, xr, xi);
      const yr = new Float64Array(B * S * Fb),
        yi = new Float64Array(B * S * Fb);
      const wr = new Float64Array(S * R * Fb),
        wi = new Float64Array(S * R * Fb);
      for (let s = 0; s < S; s++)
        for (let r = 0; r < R; r++)
          for (let f = 0; f < Fb; f++) {
            wr[(s * R + r) * Fb + f] = wt[(f * R + r) * S + s];
            wi[(s * R + r) * Fb + f] = wt[Fb * R * S + (f * R + r) * S + s];
          }
      ref.cbin([xr, xi], [wr, wi], [yr, yi], B, R, S, Fb, 0);
      const y0 = new Float64Array(B * S * N);
      ref.irfft(yr, yi, B * S, N, y0);
      assertClose(
        y1,
        y0.map((v, i) => v + b[i % (S * N)]),
        1e-9,
        1e-9,
        `reference circGemv ${B}×${R}×${S} N=${N}`,
      );
      if (!wb) continue;
      const y2 = new Float32Array(B * S * N);
      wb.circGemv(x, B, R, S, N, wt, b, y2);
      assert.ok(relErr(y2, y1) < 1e-5, `wasm circGemv ${B}×${R}×${S} N=${N}: ${relErr(y2, y1)}`);
    }
  },
);

const threaded = !!wasmBackend()?.features.shared;

test(
  'FFT kernels and binConv2d: results are bit-identical whatever the thread count',
  { skip: !threaded && 'the threaded build is not loaded in this run' },
  async () => {
    const fw = fftKernels.wasm()!;
    const run = () => {
      // binConv2d's bins: one after another on one thread, side by side on two (4 bins of 16 → 16 channels).
      const bg = geom(4, 16, 13, 13, 16, 3, 3, 1, 1, 1),
        bx = randomArray(4 * 4 * 16 * 169, 8),
        bw = randomArray(4 * 16 * 16 * 9, 9),
        bout = new Float32Array(4 * 4 * 16 * 169);
      fw.binConv2dForward(bx, bw, bg, 4, bout);
      const dg = geom(2, 16, 20, 20, 16, 3, 3, 1, 1, 1),
        dx2 = randomArray(4 * 2 * 16 * 400, 10),
        dout = new Float32Array(4 * 2 * 16 * 400); // the direct kernel's shapes
      fw.binConv2dForward(dx2, bw, dg, 4, dout);
      // 288 taps with 11-wide outputs: the channel-vectorized kernel's shapes; a GEMM would sum K in two blocks.
      const cg = geom(4, 32, 13, 13, 16, 3, 3, 1, 0, 1),
        cx = randomArray(4 * 4 * 32 * 169, 11),
        cw = randomArray(4 * 16 * 32 * 9, 12),
        cout = new Float32Array(4 * 4 * 16 * 121);
      fw.binConv2dForward(cx, cw, cg, 4, cout);
      // Batched FFTs split over threads (M·N above the threshold, M not a multiple of 4).
      const fm = 1027,
        fn = 64,
        fx = randomArray(fm * fn, 6),
        re = new Float32Array(fm * 33),
        im = new Float32Array(fm * 33),
        back = new Float32Array(fm * fn);
      fw.rfft(fx, fm, fn, re, im);
      fw.irfft(re, im, fm, fn, back);
      // Packed, strided (P = 49 positions, R = 2 channel blocks per run).
      const pm = 64 * 49,
        pn = 16,
        px = randomArray(pm * pn, 7),
        packed = new Float32Array(pm * pn),
        pback = new Float32Array(pm * pn);
      fw.rfftPacked(px, pm, pn, 98, packed, 49);
      fw.irfftPacked(packed, pm, pn, 98, pback, 49);
      return [re, im, back, packed, pback, bout, dout, cout];
    };
    await setThreads(1);
    const one = run();
    await setThreads(2);
    assert.equal(getThreads(), 2);
    const two = run();
    one.forEach((a, i) => assert.deepEqual(two[i], a, `output ${i} differs between 1 and 2 threads`));
  },
);
