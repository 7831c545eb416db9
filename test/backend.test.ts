import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reference, wasmBackend, Rng, type ConvGeom, type PoolGeom } from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';

const wasm = wasmBackend();

test('the WebAssembly backend loads on this engine', () => {
  assert.ok(wasm, 'wasm backend failed to load');
});

test('wasm gemm equals reference on random and odd shapes, all transpose combinations', () => {
  const rng = new Rng(7);
  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 7], [4, 8, 16], [17, 9, 33], [65, 70, 300], [5, 1030, 3], [130, 7, 513]];
  for (let t = 0; t < 6; t++) shapes.push([1 + rng.int(90), 1 + rng.int(90), 1 + rng.int(300)]);
  for (const [M, N, K] of shapes) {
    for (const ta of [false, true]) for (const tb of [false, true]) for (const acc of [false, true]) {
      const A = randomArray(M * K, M * 31 + K), B = randomArray(K * N, N * 17 + K);
      const C0 = randomArray(M * N, 99);
      const Cr = C0.slice(), Cw = C0.slice();
      reference.gemm(ta, tb, M, N, K, A, B, Cr, acc);
      wasm!.gemm(ta, tb, M, N, K, A, B, Cw, acc);
      assertClose(Cw, Cr, 1e-4, 1e-4, `gemm ${M}x${N}x${K} ta=${ta} tb=${tb} acc=${acc}`);
    }
  }
});

function geom(B: number, C: number, H: number, W: number, Co: number, kh: number, kw: number, s: number, p: number, d: number): ConvGeom {
  const OH = Math.floor((H + 2 * p - d * (kh - 1) - 1) / s) + 1, OW = Math.floor((W + 2 * p - d * (kw - 1) - 1) / s) + 1;
  return { B, C, H, W, Co, kh, kw, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, OH, OW };
}

test('wasm convolution forward and backward equal reference (stride, padding, dilation, odd sizes)', () => {
  const cases = [geom(2, 3, 7, 9, 5, 3, 3, 1, 0, 1), geom(3, 1, 28, 28, 16, 3, 3, 1, 0, 1), geom(2, 5, 11, 10, 7, 3, 2, 2, 1, 1),
    geom(1, 4, 13, 13, 3, 3, 3, 1, 2, 2), geom(4, 6, 5, 6, 9, 1, 1, 1, 0, 1), geom(2, 3, 9, 9, 4, 5, 5, 3, 2, 1)];
  cases.forEach((g, ci) => {
    const x = randomArray(g.B * g.C * g.H * g.W, 1 + ci), w = randomArray(g.Co * g.C * g.kh * g.kw, 50 + ci), b = randomArray(g.Co, 9);
    const n = g.B * g.Co * g.OH * g.OW;
    const outR = new Float32Array(n), outW = new Float32Array(n);
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
});

test('wasm pooling and elementwise kernels equal reference', () => {
  const pools: PoolGeom[] = [
    { P: 6, H: 7, W: 9, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: 3, OW: 4 },
    { P: 3, H: 8, W: 8, kh: 3, kw: 3, sh: 2, sw: 2, ph: 1, pw: 1, OH: 4, OW: 4 },
    { P: 2, H: 1, W: 11, kh: 1, kw: 3, sh: 1, sw: 1, ph: 0, pw: 0, OH: 1, OW: 9 },
  ];
  for (const g of pools) for (const mode of ['max', 'avg'] as const) {
    const x = randomArray(g.P * g.H * g.W, g.H * 3 + g.W), dy = randomArray(g.P * g.OH * g.OW, 5);
    const a = new Float32Array(g.P * g.OH * g.OW), b = a.slice();
    reference.pool2dForward(x, g, mode, a); wasm!.pool2dForward(x, g, mode, b);
    assertClose(b, a, 1e-6, 1e-6, `${mode} pool forward`);
    const da = new Float32Array(x.length), db = da.slice();
    reference.pool2dBackward(x, dy, g, mode, da); wasm!.pool2dBackward(x, dy, g, mode, db);
    assertClose(db, da, 1e-6, 1e-5, `${mode} pool backward`);
  }
  for (const n of [1, 3, 4, 7, 64, 1001]) {
    const x = randomArray(n, n), y = randomArray(n, n + 1);
    const r = new Float32Array(n), w = new Float32Array(n);
    reference.relu(x, r); wasm!.relu(x, w); assertClose(w, r, 0, 0, 'relu');
    reference.reluBackward(x, y, r); wasm!.reluBackward(x, y, w); assertClose(w, r, 0, 0, 'relu backward');
    for (const k of ['add', 'sub', 'mul', 'div'] as const) {
      reference.binary(k, x, y, r); wasm!.binary(k, x, y, w); assertClose(w, r, 1e-6, 1e-6, k);
    }
    const h = { lr: 0.01, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0.01, bc1: 0.1, bc2: 0.001, decoupled: true };
    for (const decoupled of [true, false]) {
      const p1 = x.slice(), m1 = y.slice().map(Math.abs), v1 = m1.slice(), p2 = p1.slice(), m2 = m1.slice(), v2 = v1.slice();
      reference.adam(p1, y, m1, v1, { ...h, decoupled }); wasm!.adam(p2, y, m2, v2, { ...h, decoupled });
      assertClose(p2, p1, 1e-5, 1e-4, 'adam p'); assertClose(m2, m1, 1e-6, 1e-5, 'adam m'); assertClose(v2, v1, 1e-6, 1e-5, 'adam v');
    }
  }
});
