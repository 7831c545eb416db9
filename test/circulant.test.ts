import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CircConv2d, CircLinear, Conv2d, Linear, Rng, Sequential, Tensor, buildModel, crossEntropy, noGrad, projectCirculant, reference, toCirculant,
  wasmBackend, profileModel, circMults, reshape, type Module,
} from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';

/** Relative error ‖a − b‖∞ / max(‖b‖∞, tiny). */
function relErr(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0, m = 1e-12;
  for (let i = 0; i < b.length; i++) { d = Math.max(d, Math.abs(a[i] - b[i])); m = Math.max(m, Math.abs(b[i])); }
  return d / m;
}

test('real FFT kernel: WebAssembly equals the reference DFT for N = 1 … 1024, and irfft inverts it', () => {
  const wb = wasmBackend();
  for (const N of [1, 2, 4, 8, 16, 64, 512, 1024]) {
    const M = 5, Fb = (N >> 1) + 1, x = randomArray(M * N, N + 3) as Float32Array;
    const r1 = new Float64Array(M * Fb), i1 = new Float64Array(M * Fb);
    reference.rfft(Float64Array.from(x), M, N, r1, i1);
    const back = new Float64Array(M * N);
    reference.irfft(r1, i1, M, N, back);
    assertClose(back, x, 1e-9, 1e-9, `reference irfft∘rfft N=${N}`);
    if (!wb) continue;
    const r2 = new Float32Array(M * Fb), i2 = new Float32Array(M * Fb), y = new Float32Array(M * N);
    wb.rfft(x, M, N, r2, i2);
    const e = relErr([...r2, ...i2], [...r1, ...i1]);
    assert.ok(e < 1e-5, `rfft N=${N}: ${e}`);
    wb.irfft(r2, i2, M, N, y);
    assert.ok(relErr(y, x) < 1e-5, `irfft N=${N}: ${relErr(y, x)}`);
  }
  assert.throws(() => wb?.rfft(new Float32Array(12), 1, 12, new Float32Array(7), new Float32Array(7)), /power of two/);
});

test('per-bin complex product kernel: WebAssembly equals the reference in all three modes, odd bin counts', () => {
  const wb = wasmBackend();
  if (!wb) return;
  for (const [B, R, S, Fb] of [[1, 1, 1, 1], [3, 5, 2, 9], [2, 4, 7, 5], [1, 16, 16, 33]]) {
    for (const mode of [0, 1, 2] as const) {
      const [I, J] = mode === 0 ? [B, S] : mode === 1 ? [B, R] : [S, R];
      const aLen = (mode === 0 ? B * R : B * S) * Fb, wLen = (mode === 2 ? B * R : S * R) * Fb;
      const a: [Float32Array, Float32Array] = [randomArray(aLen, 1) as Float32Array, randomArray(aLen, 2) as Float32Array];
      const w: [Float32Array, Float32Array] = [randomArray(wLen, 3) as Float32Array, randomArray(wLen, 4) as Float32Array];
      const y1: [Float32Array, Float32Array] = [new Float32Array(I * J * Fb), new Float32Array(I * J * Fb)];
      const y2: [Float32Array, Float32Array] = [new Float32Array(I * J * Fb), new Float32Array(I * J * Fb)];
      reference.cbin(a, w, y1, B, R, S, Fb, mode); wb.cbin(a, w, y2, B, R, S, Fb, mode);
      assertClose([...y2[0], ...y2[1]], [...y1[0], ...y1[1]], 1e-5, 1e-5, `cbin mode ${mode} ${B}×${R}×${S}×${Fb}`);
    }
  }
});

function gradsOf(m: Module, x: Tensor, y: Int32Array): { out: Float32Array; grads: Float32Array[]; dx: Float32Array } {
  m.zeroGrad(); x.grad = null;
  const out = m.forward(x);
  const flat = out.rank === 2 ? out : reshape(out, [out.shape[0], -1]);
  crossEntropy(flat, y).backward();
  return { out: out.data.slice() as Float32Array, grads: m.parameters().map((p) => p.grad!.data.slice() as Float32Array), dx: x.grad!.data.slice() as Float32Array };
}

test('CircLinear and CircConv2d: the FFT path equals the expanded-dense path, forward and gradients (≤ 1e-4 relative)', () => {
  const cases: [string, () => CircLinear | CircConv2d, number[]][] = [
    ['CircLinear 16→8, N=4', () => new CircLinear(16, 8, 4, { rng: new Rng(1) }), [5, 16]],
    ['CircLinear 64→64, N=64', () => new CircLinear(64, 64, 64, { rng: new Rng(2) }), [3, 64]],
    ['CircLinear 8→16, N=2, no bias', () => new CircLinear(8, 16, 2, { bias: false, rng: new Rng(3) }), [4, 8]],
    ['CircConv2d 8→8 k3 N=4 pad 1', () => new CircConv2d(8, 8, 3, 4, { padding: 1, rng: new Rng(4) }), [2, 8, 6, 5]],
    ['CircConv2d 16→8 k3 N=8 stride 2', () => new CircConv2d(16, 8, 3, 8, { stride: 2, rng: new Rng(5) }), [2, 16, 7, 7]],
    ['CircConv2d 4→8 k1 N=2', () => new CircConv2d(4, 8, 1, 2, { rng: new Rng(6) }), [3, 4, 4, 4]],
  ];
  for (const [name, make, shape] of cases) {
    const m = make();
    const x = Tensor.randn(shape, new Rng(7)); x.requiresGrad = true;
    const n = shape[0];
    const out0 = noGrad(() => m.forward(x));
    const width = out0.size / n;
    const y = Int32Array.from({ length: n }, (_, i) => (i * 3) % width);
    m.path = 'fft';
    const a = gradsOf(m, x, y);
    m.path = 'dense';
    const b = gradsOf(m, x, y);
    assert.ok(relErr(a.out, b.out) <= 1e-4, `${name} forward: ${relErr(a.out, b.out)}`);
    a.grads.forEach((g, i) => assert.ok(relErr(g, b.grads[i]) <= 1e-4, `${name} gradient ${i}: ${relErr(g, b.grads[i])}`));
    assert.ok(relErr(a.dx, b.dx) <= 1e-4, `${name} input gradient: ${relErr(a.dx, b.dx)}`);
  }
});

test('expanded kernel is block-circulant with C[a, b] = w[(a − b) mod N]; parameters are exactly dense/N', () => {
  const l = new CircLinear(8, 12, 4, { rng: new Rng(8) });
  const W = noGrad(() => l.expand()).data, w = l.weight.data;
  for (let o = 0; o < 12; o++) for (let i = 0; i < 8; i++) {
    const s = Math.floor(o / 4), r = Math.floor(i / 4), a = o % 4, b = i % 4;
    assert.equal(W[o * 8 + i], w[(s * 2 + r) * 4 + (((a - b) % 4) + 4) % 4]);
  }
  for (const N of [2, 4, 8, 16]) {
    const c = new CircConv2d(32, 64, 3, N, { bias: false });
    assert.equal(c.weight.size, (32 * 64 * 9) / N);
    const d = new CircLinear(256, 128, N, { bias: false });
    assert.equal(d.paramCount(), (256 * 128) / N);
  }
});

test('projection onto circulant blocks: exact for circulant input, idempotent, and optimal against random circulants', () => {
  const N = 4, out = 8, inC = 12, taps = 9;
  const W = randomArray(out * inC * taps, 11);
  const w = projectCirculant(W, out, inC, taps, N);
  const conv = new CircConv2d(inC, out, 3, N, { bias: false });
  conv.weight.data.set(w);
  const P = noGrad(() => conv.expand()).data;
  assertClose(projectCirculant(P, out, inC, taps, N), w, 1e-7, 0, 'idempotent');
  const dist = (a: ArrayLike<number>) => { let s = 0; for (let i = 0; i < W.length; i++) s += (W[i] - a[i]) ** 2; return s; };
  const best = dist(P);
  const rng = new Rng(12);
  for (let t = 0; t < 20; t++) {
    const other = new CircConv2d(inC, out, 3, N, { bias: false });
    for (let i = 0; i < other.weight.size; i++) other.weight.data[i] = w[i] + 0.05 * rng.normal();
    assert.ok(dist(noGrad(() => other.expand()).data) >= best, 'no circulant is closer than the projection');
  }
});

test('toCirculant converts eligible layers with the projected weights and says why others stay dense; bad block sizes are refused', () => {
  const model = new Sequential(new Conv2d(1, 8, 3, { padding: 1, rng: new Rng(1) }), new Conv2d(8, 16, 3, { padding: 1, rng: new Rng(2) }), new Linear(16 * 4 * 4, 10, { rng: new Rng(3) }));
  const { model: c, report } = toCirculant(model, { blockSize: 4, include: ['conv2d'] });
  assert.deepEqual(report.converted.map((r) => r.layer), [1]);
  assert.equal(report.converted[0].paramsAfter, 8 * 16 * 9 / 4 + 16);
  assert.match(report.skipped[0].reason, /does not divide its channels \(in 1, out 8\)/);
  assert.ok(c.layers[1] instanceof CircConv2d);
  assert.throws(() => toCirculant(model, { blockSize: 3 }), /power of two/);
  assert.throws(() => new CircConv2d(12, 8, 3, 8), /must divide both channel counts \(in 12, out 8\)/);
  assert.throws(() => new CircLinear(8, 8, 6), /power of two/);
  const spec = { format: 'frugal-model' as const, version: 1 as const, input: [8, 4, 4], layers: [{ type: 'circconv2d', in: 8, out: 8, kernel: 3, block: 4, padding: 1 }, { type: 'flatten' }, { type: 'circlinear', in: 128, out: 16, block: 8 }] };
  const built = buildModel(spec, 1);
  assert.equal(built.paramCount(), 8 * 8 * 9 / 4 + 8 + 128 * 16 / 8 + 16);
  const p = profileModel(built, spec.input);
  assert.equal(p.layers[0].fftMults, circMults(4, 2, 2, 9) * 16);
  assert.ok(p.fftFormMults! < p.macs);
});

test('inference cache of weight spectra and expanded kernels follows weight changes', () => {
  for (const path of ['fft', 'dense'] as const) {
    const l = new CircLinear(16, 16, 8, { rng: new Rng(9) });
    l.path = path;
    const x = Tensor.randn([2, 16], new Rng(10));
    const a = noGrad(() => l.forward(x).data.slice());
    assert.deepEqual(noGrad(() => l.forward(x).data.slice()), a, 'cached result is the same');
    l.weight.data[3] += 0.5;
    const b = noGrad(() => l.forward(x).data.slice());
    assert.notDeepEqual(b, a, 'a weight change is seen');
    assertClose(b, l.forward(x).data, 1e-6, 1e-6, `${path}: cached and uncached agree`);
  }
});
