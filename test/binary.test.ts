import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  BinaryConv2d,
  BinaryLinear,
  JETS,
  JET_TREE_OPS,
  NeuralJetConv2d,
  Rng,
  SGD,
  Sequential,
  Tensor,
  buildModel,
  conv2d,
  crossEntropy,
  binaryKernels,
  jetTree,
  noGrad,
  oneHotSte,
  softmax,
  steSign,
  sum,
  mul,
  matmul,
  reference,
  wasmBackend,
  packBinary,
  PackedBinaryLayer,
  PackedJetLayer,
  SignThreshold,
  BatchNorm,
  profileModel,
  formatProfile,
  type Backend,
  type ModelSpec,
  type BinarySummary,
} from '../src/index.js';
import { assertClose, randomArray } from './helpers.js';
import { mkdtempSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { saveModel, loadModel, specOf } from '../src/node.js';

const sign = (v: number) => (v >= 0 ? 1 : -1);

test('steSign: sign(0) = +1; the straight-through gradient passes where |x| ≤ clip and stops elsewhere', () => {
  const x = new Tensor(Float32Array.from([-2, -1, -0.5, 0, 0.5, 1, 1.5]), [7]);
  x.requiresGrad = true;
  const y = steSign(x);
  assert.deepEqual([...y.data], [-1, -1, -1, 1, 1, 1, 1]);
  const g = Float32Array.from([1, 2, 3, 4, 5, 6, 7]);
  sum(mul(y, new Tensor(g, [7]))).backward();
  assert.deepEqual([...x.grad!.data], [0, 2, 3, 4, 5, 6, 0]);
  x.grad = null;
  sum(mul(steSign(x, Infinity), new Tensor(g, [7]))).backward();
  assert.deepEqual([...x.grad!.data], [...g]);
  assert.throws(() => steSign(x, 0), /clip must be positive/);
});

test("oneHotSte: one-hot of the arg-max (first of ties); gradient is the softmax's", () => {
  const x = new Tensor(Float32Array.from([0.1, 2, -1, 3, 3, 0]), [2, 3]);
  x.requiresGrad = true;
  const y = oneHotSte(x);
  assert.deepEqual([...y.data], [0, 1, 0, 1, 0, 0]);
  const g = new Tensor(Float32Array.from([0.3, -1, 2, 1, 0.5, -0.2]), [2, 3]);
  sum(mul(y, g)).backward();
  const x2 = new Tensor(x.data.slice(), [2, 3]);
  x2.requiresGrad = true;
  sum(mul(softmax(x2), g)).backward();
  assertClose(x.grad!.data, x2.grad!.data, 1e-6, 1e-6, 'straight-through softmax gradient');
});

test(
  'BinaryLinear: ±1 products, the STE gradient on the latent weights, clipping after steps, per-channel α, ' +
    'warning without clipping',
  () => {
    const l = new BinaryLinear(5, 3, { rng: new Rng(1) });
    const x = Tensor.randn([4, 5], new Rng(2));
    const y = noGrad(() => l.forward(x));
    for (let b = 0; b < 4; b++)
      for (let o = 0; o < 3; o++) {
        let s = 0;
        for (let i = 0; i < 5; i++) s += sign(x.data[b * 5 + i]) * sign(l.weight.data[o * 5 + i]);
        assert.equal(y.data[b * 3 + o], s);
      }
    // Gradient w.r.t. the latent W: Σ_b g·sign(x) where |W| ≤ 1 (all of them after init in [−1, 1]).
    l.zeroGrad();
    sum(l.forward(x)).backward();
    for (let o = 0; o < 3; o++)
      for (let i = 0; i < 5; i++) {
        let s = 0;
        for (let b = 0; b < 4; b++) s += sign(x.data[b * 5 + i]);
        assert.equal(l.weight.grad!.data[o * 5 + i], s);
      }
    new SGD(l.parameters(), { lr: 10 }).step();
    assert.ok(
      l.weight.data.some((v) => Math.abs(v) > 1),
      'the big step pushed latent weights out of range',
    );
    noGrad(() => l.forward(x));
    assert.ok(
      l.weight.data.every((v) => Math.abs(v) <= 1),
      'clipped to [−1, 1] before the next use',
    );
    const a = new BinaryLinear(5, 3, { rng: new Rng(3), scale: 'channel' });
    const ya = noGrad(() => a.forward(x));
    for (let o = 0; o < 3; o++) {
      const alpha = [...a.weight.data.slice(o * 5, o * 5 + 5)].reduce((s, v) => s + Math.abs(v), 0) / 5;
      let s = 0;
      for (let i = 0; i < 5; i++) s += sign(x.data[i]) * sign(a.weight.data[o * 5 + i]);
      assert.ok(Math.abs(ya.data[o] - alpha * s) < 1e-5, `α·(±1 dot) for output ${o}`);
    }
    const warned: string[] = [],
      orig = console.warn;
    console.warn = (m: string) => {
      warned.push(m);
    };
    try {
      new BinaryLinear(4, 4, { clip: null });
    } finally {
      console.warn = orig;
    }
    assert.match(warned.join('\n'), /without clipping/);
    assert.throws(() => new BinaryLinear(4, 4, { clip: 0 }), /clip must be a positive number or null/);
    assert.throws(
      () => new BinaryLinear(4, 4, { inputQuantizer: 'sign' as never }),
      /inputQuantizer must be 'ste_sign' or 'none'/,
    );
    assert.throws(() => l.forward(Tensor.randn([2, 4], new Rng(1))), /expects \[N, 5\]/);
  },
);

test('BinaryConv2d: binary inputs are padded with padValue (±1), full-precision inputs with 0', () => {
  const x = Tensor.randn([2, 3, 5, 4], new Rng(4));
  for (const pv of [1, -1] as const) {
    const c = new BinaryConv2d(3, 4, 3, { padding: 1, padValue: pv, rng: new Rng(5) });
    const y = noGrad(() => c.forward(x));
    // Oracle: sign the input, pad it with pv by hand, convolve without padding.
    const [B, C, H, W] = x.shape,
      P = new Float32Array(B * C * (H + 2) * (W + 2)).fill(pv);
    for (let i = 0; i < B * C; i++)
      for (let r = 0; r < H; r++)
        for (let q = 0; q < W; q++) P[(i * (H + 2) + r + 1) * (W + 2) + q + 1] = sign(x.data[(i * H + r) * W + q]);
    const wb = new Tensor(c.weight.data.map(sign), c.weight.shape);
    const ref = noGrad(() => conv2d(new Tensor(P, [B, C, H + 2, W + 2]), wb, null));
    assert.deepEqual([...y.data], [...ref.data], `padValue ${pv}`);
    assert.ok(
      y.data.every((v) => Number.isInteger(v)),
      'integer pre-activations',
    );
  }
  const f = new BinaryConv2d(3, 4, 3, { padding: 1, inputQuantizer: 'none', rng: new Rng(6) });
  const yf = noGrad(() => f.forward(x));
  const ref = noGrad(() => conv2d(x, new Tensor(f.weight.data.map(sign), f.weight.shape), null, { padding: 1 }));
  assertClose(yf.data, ref.data, 1e-5, 1e-5, 'full-precision input, zero padding');
  assert.throws(() => new BinaryConv2d(3, 4, 3, { padValue: 0 as never }), /padValue must be \+1 or −1/);
});

/** Gauss–Jordan solve of X·A = Bm for X (A n×n), in float64. */
function solveRight(Bm: number[][], A: number[][]): number[][] {
  const n = A.length,
    At = A[0].map((_, j) => A.map((r) => r[j]));
  return Bm.map((b) => {
    const M = At.map((r, i) => [...r, b[i]]);
    for (let c = 0; c < n; c++) {
      const p = M.slice(c).reduce((best, r, i) => (Math.abs(r[c]) > Math.abs(M[best][c]) ? c + i : best), c);
      [M[c], M[p]] = [M[p], M[c]];
      for (let r = 0; r < n; r++)
        if (r !== c) {
          const f = M[r][c] / M[c][c];
          for (let k = c; k <= n; k++) M[r][k] -= f * M[c][k];
        }
    }
    return M.map((r, i) => r[n] / r[i]);
  });
}

test(
  'neural jets: nine separable jets, the tree equals direct convolution exactly, every learned kernel lies in ' +
    'the ±1 jet span',
  () => {
    const rows = Array.from({ length: 9 }, (_, j) => [...JETS.slice(j * 9, j * 9 + 9)]);
    assert.deepEqual(rows[0], [1, 2, 1, 2, 4, 2, 1, 2, 1], 'binomial Gaussian');
    assert.deepEqual(rows[1], [-1, 0, 1, -2, 0, 2, -1, 0, 1], 'Sobel along x');
    assert.deepEqual(rows[3], [-1, -2, -1, 0, 0, 0, 1, 2, 1], 'Sobel along y');
    // Tree against conv2d with the nine kernels, on random integer images (exact).
    const C = 3,
      H = 7,
      W = 6,
      rng = new Rng(7);
    const img = Float32Array.from({ length: C * H * W }, () => Math.floor(rng.uniform(-8, 8)));
    const tree = jetTree(img, C, H, W);
    const direct = noGrad(() => conv2d(new Tensor(img, [C, 1, H, W]), new Tensor(JETS, [9, 1, 3, 3]), null));
    assert.deepEqual([...tree], [...direct.data], 'tree = direct convolution');
    for (const [h, w] of [
      [7, 6],
      [5, 9],
      [3, 3],
      [8, 11],
    ]) {
      const im = Float32Array.from({ length: C * h * w }, () => Math.floor(rng.uniform(-8, 8)));
      const r = new Float32Array(C * 9 * (h - 2) * (w - 2)),
        q = new Float32Array(r.length);
      binaryKernels.reference.jetTree(im, C, h, w, r);
      binaryKernels.wasm()?.jetTree(im, C, h, w, q);
      assert.deepEqual([...(binaryKernels.wasm() ? q : r)], [...r], `WebAssembly tree = reference tree on ${h}×${w}`);
      const d = noGrad(() => conv2d(new Tensor(im, [C, 1, h, w]), new Tensor(JETS, [9, 1, 3, 3]), null));
      assert.deepEqual([...r], [...d.data], `reference tree = direct convolution on ${h}×${w}`);
    }
    // signPad (a packed jet layer's input): ±1 signs inside a border of padValue, WebAssembly = reference = by hand.
    for (const [h, w, p, pv] of [
      [5, 7, 1, 1],
      [4, 9, 2, -1],
      [3, 3, 0, 1],
      [6, 5, 1, -1],
    ] as const) {
      const im = Float32Array.from({ length: C * h * w }, (_, i) => (i % 5 === 0 ? 0 : rng.uniform(-1, 1)));
      const hp = h + 2 * p,
        wp = w + 2 * p,
        want = new Float32Array(C * hp * wp).fill(pv);
      for (let c = 0; c < C; c++)
        for (let r = 0; r < h; r++)
          for (let q = 0; q < w; q++) want[(c * hp + r + p) * wp + q + p] = im[(c * h + r) * w + q] >= 0 ? 1 : -1;
      for (const be of [binaryKernels.reference, binaryKernels.wasm()].filter((b) => b !== null)) {
        const got = new Float32Array(want.length).fill(7);
        be.signPad(im, C, h, w, p, pv, got);
        assert.deepEqual([...got], [...want], `signPad ${h}×${w} p ${p} pad ${pv}`);
      }
    }
    assert.equal(JET_TREE_OPS, 20);
    assert.throws(() => jetTree(img, C, 2, 30), /at least 3×3/);
    for (const constrained of [false, true]) {
      const l = new NeuralJetConv2d(4, 5, { rng: new Rng(8), constrained });
      // Train a few steps so the coefficients move, then check the span.
      const x = Tensor.randn([8, 4, 6, 6], new Rng(9)),
        t = Int32Array.from({ length: 8 }, (_, i) => i % 5);
      const opt = new Adam(l.parameters(), { lr: 0.05 });
      for (let s = 0; s < 5; s++) {
        l.zeroGrad();
        crossEntropy(sumHW(l.forward(x)), t).backward();
        opt.step();
      }
      const K = noGrad(() => l.effectiveKernel());
      const kernels = Array.from({ length: 20 }, (_, i) => [...K.data.slice(i * 9, i * 9 + 9)]);
      const coef = solveRight(kernels, rows);
      for (const c of coef) {
        const r = c.map((v) => Math.round(v));
        assert.ok(
          c.every((v, i) => Math.abs(v - r[i]) < 1e-4),
          `integer coefficients ${c}`,
        );
        if (constrained) assert.deepEqual(r.map(Math.abs).sort(), [0, 0, 0, 0, 0, 0, 0, 0, 1], 'one jet per pair, ±1');
        else
          assert.ok(
            r.every((v) => v === 1 || v === -1),
            `±1 coefficients ${r}`,
          );
      }
      if (constrained)
        assert.ok(
          l.choice!.grad!.data.some((v) => v !== 0),
          'the choice scores get gradients',
        );
    }
  },
);

/** Sum over the spatial axes: [B, C, H, W] → [B, C] (a cheap head for the tests). */
function sumHW(y: Tensor): Tensor {
  return sum(y, [2, 3]);
}

test(
  'binary and jet layers in model specs: built, trained a few steps (the loss falls), saved and reloaded with ' +
    'equal outputs',
  () => {
    const spec: ModelSpec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 8, 8],
      layers: [
        { type: 'conv2d', in: 1, out: 6, kernel: 3, padding: 1, bias: false },
        { type: 'batchnorm2d', features: 6 },
        { type: 'jet-conv2d', in: 6, out: 6, padValue: -1 },
        { type: 'batchnorm2d', features: 6 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'binary-conv2d', in: 6, out: 8, kernel: 3, padding: 1 },
        { type: 'batchnorm2d', features: 8 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' },
        { type: 'binary-linear', in: 32, out: 16, scale: 'channel' },
        { type: 'batchnorm1d', features: 16 },
        { type: 'linear', in: 16, out: 3 },
      ],
    };
    const m = buildModel(spec, 1) as Sequential;
    const x = Tensor.randn([16, 1, 8, 8], new Rng(10)),
      t = Int32Array.from({ length: 16 }, (_, i) => i % 3);
    const opt = new Adam(m.parameters(), { lr: 0.01 });
    const loss = () => {
      m.zeroGrad();
      const l = crossEntropy(m.forward(x), t);
      l.backward();
      opt.step();
      return l.data[0];
    };
    const first = loss();
    let last = first;
    for (let s = 0; s < 30; s++) last = loss();
    assert.ok(last < first, `loss ${first} → ${last}`);
    m.eval();
    const y = noGrad(() => m.forward(x)).data.slice();
    const again = buildModel(spec, 2) as Sequential;
    again.loadStateDict(m.stateDict());
    again.eval();
    assertClose(noGrad(() => again.forward(x)).data, y, 1e-5, 1e-5, 'reloaded model');
    assert.deepEqual(
      m.layers.map((l) => l.toSpec().type),
      spec.layers.map((l) => l.type),
    );
  },
);

test(
  'packBinary: XNOR-popcount inference equals the float simulation — integer pre-activations and logits ' +
    'exactly — with odd channel counts, both pad values, folded thresholds',
  () => {
    const spec: ModelSpec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 9, 9],
      layers: [
        { type: 'conv2d', in: 1, out: 5, kernel: 3, padding: 1 },
        { type: 'batchnorm2d', features: 5 },
        { type: 'binary-conv2d', in: 5, out: 7, kernel: 3, padding: 1, padValue: -1 },
        { type: 'batchnorm2d', features: 7 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'binary-conv2d', in: 7, out: 65, kernel: 3, padding: 1, stride: 2 },
        { type: 'batchnorm2d', features: 65 },
        { type: 'flatten' },
        { type: 'binary-linear', in: 65 * 2 * 2, out: 33 },
        { type: 'batchnorm1d', features: 33 },
        { type: 'linear', in: 33, out: 10 },
      ],
    };
    const jets: ModelSpec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 9, 9],
      layers: [
        { type: 'conv2d', in: 1, out: 5, kernel: 3, padding: 1 },
        { type: 'batchnorm2d', features: 5 },
        { type: 'jet-conv2d', in: 5, out: 6, padValue: -1 },
        { type: 'batchnorm2d', features: 6 },
        { type: 'jet-conv2d', in: 6, out: 7, stride: 2, constrained: true },
        { type: 'batchnorm2d', features: 7 },
        { type: 'flatten' },
        { type: 'binary-linear', in: 7 * 5 * 5, out: 9 },
        { type: 'batchnorm1d', features: 9 },
        { type: 'linear', in: 9, out: 4 },
      ],
    };
    checkPacked(spec, { packed: [2, 5, 8], folded: [3, 6], keptFloat: [0, 1, 4, 7, 9, 10] });
    checkPacked(jets, { packed: [2, 4, 7], folded: [3, 5], keptFloat: [0, 1, 6, 8, 9] });
    const fp = buildModel(
      { ...spec, layers: [{ type: 'binary-conv2d', in: 1, out: 4, kernel: 3, inputQuantizer: 'none' }] },
      1,
    );
    assert.throws(() => packBinary(fp), /full-precision input.*keep a full-precision first layer/);
  },
);

function checkPacked(spec: ModelSpec, expected: { packed: number[]; folded: number[]; keptFloat: number[] }): void {
  const m = buildModel(spec, 3) as Sequential;
  // Non-trivial batch norms: random statistics, some negative γ (the threshold flips).
  const rng = new Rng(11);
  for (const l of m.layers) {
    if (!(l instanceof BatchNorm)) continue;
    const spread = l.numFeatures * 9;
    for (let c = 0; c < l.numFeatures; c++) {
      l.weight.data[c] = rng.uniform(-1.5, 1.5);
      l.bias.data[c] = rng.uniform(-1, 1);
      l.runningMean.data[c] = rng.uniform(-spread, spread) / 4;
      l.runningVar.data[c] = rng.uniform(0.5, spread);
    }
  }
  m.eval();
  const x = Tensor.randn([6, 1, 9, 9], new Rng(12));
  const want = noGrad(() => m.forward(x));
  const { model: p, report } = packBinary(m);
  assert.deepEqual(report, expected);
  const got = noGrad(() => p.forward(x));
  assert.deepEqual([...got.data], [...want.data], 'logits equal bit for bit');
  for (const t of p.layers.filter((l): l is SignThreshold => l instanceof SignThreshold)) {
    assert.ok(
      t.threshold.data.some(Number.isFinite) && t.upward.data.includes(0) && t.upward.data.includes(1),
      'thresholds inside the range, both directions',
    );
  }
  // Integer pre-activations of every packed layer equal the simulation's on the same input.
  const packedLayers = p.layers.filter(
    (q): q is PackedBinaryLayer | PackedJetLayer => q instanceof PackedBinaryLayer || q instanceof PackedJetLayer,
  );
  let h = x;
  noGrad(() => {
    for (const l of m.layers) {
      if (l instanceof BinaryConv2d || l instanceof BinaryLinear || l instanceof NeuralJetConv2d) {
        const packed = packedLayers.shift()!;
        const z = packed.integers(h),
          sim = l.forward(h);
        assert.deepEqual([...z.data], [...sim.data], `${l.kind} pre-activations`);
        assert.ok(z.data.every(Number.isInteger));
      }
      h = l.forward(h);
    }
  });
  // Saved packed (weights as bit strings), loaded back: the same outputs, a far smaller file.
  const dir = mkdtempSync(join(tmpdir(), 'frugal-pack-'));
  const pf = join(dir, 'packed.safetensors'),
    ff = join(dir, 'float.safetensors');
  saveModel(pf, p, specOf(p, spec.input));
  saveModel(ff, m, spec);
  const back = loadModel(pf).model;
  back.eval();
  assert.deepEqual([...noGrad(() => back.forward(x)).data], [...want.data], 'reloaded packed model');
  assert.ok(
    statSync(pf).size < statSync(ff).size,
    `packed file ${statSync(pf).size} B < float file ${statSync(ff).size} B`,
  );
  // The packed model accounts the same MACs, all of the binary layers' ones as XNOR-popcount.
  const pm = profileModel(m, spec.input),
    pp = profileModel(back, spec.input);
  assert.equal(pp.macs, pm.macs);
  assert.equal((pp.summary.binary as BinarySummary).macs, (pm.summary.binary as BinarySummary).macs);
  // A truncated bit string is refused with the reason.
  const bytes = readFileSync(pf);
  writeFileSync(join(dir, 'bad.safetensors'), bytes.subarray(0, bytes.length - 1));
  assert.throws(() => loadModel(join(dir, 'bad.safetensors')), /truncated|length|size|bytes/);
}

test(
  'accounting: 1-bit parameters, the share of MACs done as XNOR-popcount, packed bytes, jet additions (as ' +
    'frugal info shows them)',
  () => {
    const spec: ModelSpec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 8, 8],
      layers: [
        { type: 'conv2d', in: 1, out: 64, kernel: 3, padding: 1, bias: false },
        { type: 'batchnorm2d', features: 64 },
        { type: 'binary-conv2d', in: 64, out: 64, kernel: 3, padding: 1 },
        { type: 'batchnorm2d', features: 64 },
        { type: 'jet-conv2d', in: 64, out: 32 },
        { type: 'batchnorm2d', features: 32 },
        { type: 'flatten' },
        { type: 'linear', in: 32 * 64, out: 10 },
      ],
    };
    const p = profileModel(buildModel(spec, 1) as Sequential, spec.input);
    const floatConv = 64 * 9 * 64,
      bconv = 64 * 64 * 9 * 64,
      jet = 32 * 64 * 9 * 64,
      fc = 32 * 64 * 10;
    assert.equal(p.macs, floatConv + bconv + jet + fc);
    assert.deepEqual(p.summary.binary, {
      params: 64 * 64 * 9 + 32 * 64 * 9,
      macs: bconv,
      macShare: bconv / p.macs,
      packedBytes: p.bytes - 4 * 64 * 64 * 9 + (64 * 64 * 9) / 8 - 4 * 32 * 64 * 9 + (32 * 64 * 9) / 8,
    });
    assert.equal(p.layers[2].bytes / p.layers[2].extras!.packedBytes, 32, 'binary weights 32× smaller packed');
    assert.equal(p.layers[4].extras!.addOps, 20 * 64 * 64 + 9 * 32 * 64 * 64);
    const c = profileModel(
      buildModel(
        { ...spec, layers: spec.layers.map((l) => (l.type === 'jet-conv2d' ? { ...l, constrained: true } : l)) },
        1,
      ) as Sequential,
      spec.input,
    );
    assert.ok(
      c.layers[4].extras!.addOps < p.layers[4].extras!.addOps && c.layers[4].extras!.addOps < bconv / 2,
      'constrained jets: a tree and one addition per pair',
    );
    assert.match(formatProfile(p), /1-bit params.*binary MACs.*packed bytes/);
  },
);
