// HSIC bottleneck (spec 03): the normalised HSIC against a literal float64 transcription of the authors'
// formula, its defining properties, the GEMM-shaped solve, block locality of the trainer, and refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  Sequential,
  Tensor,
  buildModel,
  backendName,
  gaussianKernel,
  hsicBlocks,
  hsicDiagnostics,
  hsicOptimizers,
  hsicStep,
  fitPermutation,
  maxAssignment,
  nhsic,
  oneHot,
  permutedAccuracy,
  spdInverse,
  trainHsic,
  withScope,
  HsicModelError,
  type ModelSpec,
  type StepContext,
} from '../src/index.js';

/**
 * Spec 03 verbatim in float64: K̄ = K H (right centring only), R = K̄ (K̄ + εmI)⁻¹ by Gauss–Jordan,
 * tr(R_X R_Y).
 */
function referenceNhsic(x: number[][], y: number[][], sigma: number, eps = 1e-5): number {
  const m = x.length;
  const R = (z: number[][]) => {
    const d = z[0].length;
    const K = z.map((a) =>
      z.map((b) => Math.exp(-a.reduce((s, v, j) => s + (v - b[j]) ** 2, 0) / (2 * sigma ** 2 * d))),
    );
    const Kb = K.map((row) => row.map((_, j) => row[j] - row.reduce((s, v) => s + v, 0) / m)); // K H
    // Solve R (K̄ + λI) = K̄, i.e. (K̄ + λI)ᵀ Rᵀ = K̄ᵀ, by Gauss–Jordan with partial pivoting.
    const A = Kb.map((row, i) => row.map((v, j) => Kb[j][i] + (i === j ? eps * m : 0)));
    const B = Kb.map((_, i) => Kb.map((row) => row[i]));
    for (let c = 0; c < m; c++) {
      let p = c;
      for (let r = c + 1; r < m; r++) if (Math.abs(A[r][c]) > Math.abs(A[p][c])) p = r;
      [A[c], A[p], B[c], B[p]] = [A[p], A[c], B[p], B[c]];
      for (let r = 0; r < m; r++) {
        if (r === c) continue;
        const f = A[r][c] / A[c][c];
        for (let j = 0; j < m; j++) {
          A[r][j] -= f * A[c][j];
          B[r][j] -= f * B[c][j];
        }
      }
    }
    const Rt = B.map((row, i) => row.map((v) => v / A[i][i]));
    return Rt[0].map((_, i) => Rt.map((row) => row[i])); // R = (Rᵀ)ᵀ
  };
  const Rx = R(x),
    Ry = R(y);
  let s = 0;
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) s += Rx[a][b] * Ry[b][a];
  return s;
}

const rows = (t: Tensor): number[][] => {
  const d = t.size / t.shape[0];
  return Array.from({ length: t.shape[0] }, (_, i) => Array.from(t.data.subarray(i * d, (i + 1) * d)));
};

test('normalised HSIC equals the literal float64 transcription of spec 03 (float64 and float32 paths)', () => {
  const rng = new Rng(3);
  for (const [m, dx, dy, sigma] of [
    [6, 4, 3, 1],
    [20, 12, 5, 2],
    [90, 30, 10, 6], // crosses the 64-row blocks of the solve
  ]) {
    const x = Tensor.rand([m, dx], rng, 0, 1, 'float64');
    const y = Tensor.rand([m, dy], rng, -1, 1, 'float64');
    y.data.forEach((v, i) => (y.data[i] = v + 0.3 * x.data[(i * 7) % x.size]));
    const ref = referenceNhsic(rows(x), rows(y), sigma);
    const f64 = nhsic(x, y, sigma);
    const f32 = nhsic(x.to('float32'), y.to('float32'), sigma);
    assert.ok(Math.abs(f64 - ref) < 1e-6 * Math.max(1, ref), `m ${m}: float64 ${f64} vs reference ${ref}`);
    // The documented float32 path (WebAssembly gemm): within 1e-3 relative of the float64 value.
    assert.ok(Math.abs(f32 - ref) < 1e-3 * Math.max(1, ref), `m ${m}: float32 ${f32} vs reference ${ref}`);
  }
});

test('float32 nHSIC on image-like data (m = 256, d = 784, σ = 6) stays within 1e-3 relative of float64', () => {
  const rng = new Rng(9);
  // Ten prototypes plus noise, pixels in [0, 1]: the kernel has the near-null spectrum of real batches.
  const protos = Array.from({ length: 10 }, () => Array.from({ length: 784 }, () => rng.random()));
  const labels = Array.from({ length: 256 }, (_, i) => i % 10);
  const x = Tensor.zeros([256, 784], 'float64');
  for (let i = 0; i < 256; i++)
    for (let j = 0; j < 784; j++)
      x.data[i * 784 + j] = Math.min(1, Math.max(0, protos[labels[i]][j] + 0.3 * (rng.random() - 0.5)));
  const y = oneHot(labels, 10, 'float64');
  const a = nhsic(x, y, 6),
    b = nhsic(x.to('float32'), y.to('float32'), 6);
  assert.ok(a > 5 && a <= 9 + 1e-9, `nHSIC(X, Y) ${a} should be near its bound 9 for class-clustered data`);
  assert.ok(Math.abs(a - b) < 1e-3 * a, `float32 ${b} vs float64 ${a} (backend ${backendName()})`);
});

test('spdInverse (blocked, on gemm) inverts symmetric positive definite matrices across block edges', () => {
  const rng = new Rng(5);
  for (const m of [1, 7, 64, 65, 150]) {
    const g = Tensor.randn([m, m], rng, 1, 'float64');
    const a = new Float64Array(m * m);
    for (let i = 0; i < m; i++)
      for (let j = 0; j < m; j++) {
        let s = 0;
        for (let k = 0; k < m; k++) s += g.data[i * m + k] * g.data[j * m + k];
        a[i * m + j] = s / m;
      }
    for (const dtype of ['float64', 'float32'] as const) {
      const A = dtype === 'float64' ? a : Float32Array.from(a);
      const S = withScope(() => Float64Array.from(spdInverse(A, m, 0.5)));
      let worst = 0;
      for (let i = 0; i < m; i++)
        for (let j = 0; j < m; j++) {
          let s = 0;
          for (let k = 0; k < m; k++) s += (a[i * m + k] + (i === k ? 0.5 : 0)) * S[k * m + j];
          worst = Math.max(worst, Math.abs(s - (i === j ? 1 : 0)));
        }
      assert.ok(worst < (dtype === 'float64' ? 1e-10 : 1e-4), `m ${m} ${dtype}: ‖AS − I‖∞ ${worst}`);
    }
  }
});

test('nHSIC of a variable with itself is far above nHSIC with independent noise', () => {
  const rng = new Rng(11);
  // Low-dimensional data: with ε·m tiny, a full-rank kernel counts every direction, so the dependence shows
  // where the kernel spectrum falls below ε·m (as for 784-d images at σ = 6).
  const x = Tensor.rand([64, 3], rng, 0, 1);
  const noise = Tensor.rand([64, 3], rng, 0, 1);
  const self = nhsic(x, x, 1),
    indep = nhsic(x, noise, 1);
  // Self-dependence is tr(P²) = Σ μ²/(μ + λ)²: many directions near 1; independent noise shares little.
  assert.ok(self > 3 * indep, `self ${self} vs independent ${indep}`);
  // A noisy copy lies in between.
  const noisy = Tensor.from(
    x.data.map((v, i) => v + 0.3 * noise.data[i]),
    x.shape,
  );
  const mid = nhsic(x, noisy, 1);
  assert.ok(mid < self && mid > indep, `self ${self} > noisy ${mid} > independent ${indep}`);
});

test('kernel width scales with the feature dimension: duplicating features leaves K unchanged', () => {
  const rng = new Rng(13);
  const z = Tensor.rand([8, 5], rng, 0, 1);
  const zz = Tensor.zeros([8, 10]);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 10; j++) zz.data[i * 10 + j] = z.data[i * 5 + (j % 5)];
  const k1 = gaussianKernel(z, 2),
    k2 = gaussianKernel(zz, 2);
  for (let i = 0; i < 64; i++) assert.ok(Math.abs(k1.data[i] - k2.data[i]) < 1e-6, `entry ${i}`);
  // With an unscaled width the doubled distances would change K: check the scaling is really σ²·d.
  const a = 1,
    b = 2;
  let d2 = 0;
  for (let j = 0; j < 5; j++) d2 += (z.data[a * 5 + j] - z.data[b * 5 + j]) ** 2;
  assert.ok(Math.abs(k1.data[a * 8 + b] - Math.exp(-d2 / (2 * 4 * 5))) < 1e-6);
  assert.ok(Math.abs(k2.data[a * 8 + b] - Math.exp((-2 * d2) / (2 * 4 * 5))) > 1e-3);
});

const tinyMlp = (hidden: number[]): ModelSpec => {
  const layers: ModelSpec['layers'] = [];
  let w = 12;
  for (const h of hidden) {
    layers.push({ type: 'linear', in: w, out: h }, { type: 'batchnorm1d', features: h }, { type: 'relu' });
    w = h;
  }
  return { format: 'frugal-model', version: 1, input: [12], layers };
};

function ctxFor(optimizers: ReturnType<typeof hsicOptimizers>): StepContext {
  return { epoch: 0, step: 1, optimizers, wantsPerSampleLoss: false, checkLoss: () => {} };
}

test('a block’s update does not depend on the layers above it', () => {
  const rng = new Rng(17);
  const x = Tensor.rand([16, 12], rng, 0, 1);
  const y = Int32Array.from({ length: 16 }, (_, i) => i % 4);
  const batch = { x, y, index: Int32Array.from({ length: 16 }, (_, i) => i) };
  // Same seed for the first two blocks; the layers above differ in width and weights.
  const a = buildModel(tinyMlp([10, 8, 6]), 1) as Sequential,
    b = buildModel(tinyMlp([10, 8, 3, 5]), 1) as Sequential;
  const upper = b.layers[6].parameters()[0];
  upper.data.forEach((_, i) => (upper.data[i] = Math.sin(i)));
  const w0 = Array.from(a.layers[0].parameters()[0].data);
  const run = (model: Sequential) => {
    const blocks = hsicBlocks(model),
      opts = hsicOptimizers(blocks, 0.05);
    withScope(() => hsicStep(blocks, { sigma: 1, beta: 2, classes: 4 })(model, batch, ctxFor(opts)));
    return [0, 3].map((i) => Array.from(model.layers[i].parameters()[0].data));
  };
  const [a0, a1] = run(a),
    [b0, b1] = run(b);
  assert.notDeepEqual(a0, w0, 'the first block must have been updated');
  assert.deepEqual(a0, b0);
  assert.deepEqual(a1, b1);
});

test('HSIC training on separable data raises nHSIC(Z, Y) and the unformatted readout beats chance', () => {
  // Four Gaussian clusters in 12-d; an MLP ending in 4 outputs; 5 epochs of HSIC, then the permutation.
  const rng = new Rng(21);
  const n = 240,
    centres = Array.from({ length: 4 }, () => Array.from({ length: 12 }, () => rng.random()));
  const images = new Uint8Array(n * 12),
    labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    labels[i] = i % 4;
    for (let j = 0; j < 12; j++)
      images[i * 12 + j] = Math.round(255 * Math.min(1, Math.max(0, centres[i % 4][j] + 0.25 * rng.normal())));
  }
  const train = { images, labels, count: n, sampleShape: [12], classes: 4 };
  const model = buildModel(tinyMlp([16, 4]), 3) as Sequential;
  const r = trainHsic(model, { train, epochs: 5, batchSize: 40, lr: 0.05, sigma: 5, beta: 50, classes: 4, seed: 1 });
  const first = r.probe[0],
    last = r.probe[r.probe.length - 1];
  for (let i = 0; i < 2; i++)
    assert.ok(last.zy[i] > first.zy[i], `block ${i}: nHSIC(Z, Y) ${first.zy[i]} → ${last.zy[i]}`);
  assert.ok(r.permutation && new Set(r.permutation).size === 4);
  const acc = permutedAccuracy(model, train, r.permutation).accuracy;
  // Probing uses batch statistics and puts the running statistics back.
  const buffers = () => model.namedBuffers().map(([, b]) => Array.from(b.data));
  const before = buffers();
  const x = Tensor.from(
    Array.from(images.subarray(0, 40 * 12), (v) => v / 255),
    [40, 12],
  );
  hsicDiagnostics(model, hsicBlocks(model), x, labels.subarray(0, 40), { sigma: 5, beta: 50, classes: 4 });
  assert.deepEqual(buffers(), before);
  assert.ok(acc > 0.85, `unformatted accuracy ${acc} on 4 separable classes (chance 0.25)`);
  assert.ok(r.hsic.history[0].metrics?.['nhsicZY.1'] !== undefined, 'per-layer diagnostics in the history');
});

test('bad input is refused with the reason', () => {
  const model = buildModel(tinyMlp([6, 4]), 1) as Sequential;
  const blocks = hsicBlocks(model);
  assert.throws(() => hsicStep(blocks, { sigma: 0, beta: 1 }), /sigma must be a positive number/);
  assert.throws(() => hsicStep(blocks, { sigma: -2, beta: 1 }), /sigma must be a positive number/);
  assert.throws(() => hsicStep(blocks, { sigma: 1, beta: -1 }), /beta must be a number ≥ 0/);
  const train = { images: new Uint8Array(24), labels: new Uint8Array([0, 1]), count: 2, sampleShape: [12], classes: 2 };
  assert.throws(
    () => trainHsic(model, { train, epochs: 1, batchSize: 1, lr: 0.1, sigma: 1, beta: 1 }),
    /batch size must be at least 2/,
  );
  const one = { ...train, count: 1, labels: new Uint8Array([0]), images: new Uint8Array(12) };
  assert.throws(
    () => trainHsic(model, { train: one, epochs: 1, batchSize: 4, lr: 0.1, sigma: 1, beta: 1 }),
    HsicModelError,
  );
  const spec: ModelSpec = {
    format: 'frugal-model',
    version: 1,
    input: [1, 8, 8],
    layers: [
      { type: 'conv2d', in: 1, out: 2, kernel: 3 },
      { type: 'circconv2d', in: 2, out: 2, kernel: 3, block: 2 },
    ],
  };
  assert.throws(
    () => hsicBlocks(buildModel(spec, 1)),
    /layer 1 \('circconv2d'\) cannot be trained by the HSIC trainer/,
  );
});

test('maxAssignment finds the best distinct columns (against brute force on random matrices)', () => {
  const rng = new Rng(5);
  const brute = (w: number[][]): number => {
    let best = -Infinity;
    const rec = (c: number, used: Set<number>, sum: number) => {
      if (c === w.length) return void (best = Math.max(best, sum));
      for (let j = 0; j < w[0].length; j++) if (!used.has(j)) rec(c + 1, new Set([...used, j]), sum + w[c][j]);
    };
    rec(0, new Set(), 0);
    return best;
  };
  for (let t = 0; t < 200; t++) {
    const C = 1 + (t % 5),
      W = C + (t % 3);
    const w = Array.from({ length: C }, () => Array.from({ length: W }, () => Math.round(10 * rng.normal()) / 4));
    const col = maxAssignment(w);
    assert.equal(new Set(col).size, C, 'distinct columns');
    assert.ok(col.every((j) => j >= 0 && j < W));
    assert.ok(Math.abs(col.reduce((s, j, c) => s + w[c][j], 0) - brute(w)) < 1e-9, `case ${t}`);
  }
  assert.throws(() => maxAssignment([[1], [2]]), /2 rows cannot go to 1 distinct columns/);
  // Non-finite or ragged weights are refused (the augmenting-path search would never end on a NaN row).
  assert.throws(
    () =>
      maxAssignment([
        [NaN, NaN],
        [1, 2],
      ]),
    /finite weights/,
  );
  assert.throws(
    () =>
      maxAssignment([
        [1, Infinity],
        [1, 2],
      ]),
    /finite weights/,
  );
  assert.throws(() => maxAssignment([[1, 2], [1]]), /2 finite weights/);
});

test('the unformatted readout fits the assignment of class means; greedy lets class 0 take class 1 unit', () => {
  // Identity outputs. Class 0's mean [0.50, 0.60, 0] prefers unit 1, which class 1 ([0, 1, 0]) needs more.
  const images = Uint8Array.from([230, 153, 0, 26, 153, 0, 0, 255, 0, 0, 0, 255]),
    labels = Uint8Array.from([0, 0, 1, 2]);
  const ds = { images, labels, count: 4, sampleShape: [3], classes: 3 };
  const model = buildModel(
    { format: 'frugal-model', version: 1, input: [3], layers: [{ type: 'linear', in: 3, out: 3 }] },
    1,
  ) as Sequential;
  const [W, b] = model.parameters();
  W.data.set([1, 0, 0, 0, 1, 0, 0, 0, 1]);
  b.data.fill(0);
  const exact = fitPermutation(model, ds, undefined),
    greedy = fitPermutation(model, ds, undefined, 'greedy');
  assert.deepEqual(exact, [0, 1, 2]);
  assert.deepEqual(greedy, [1, 0, 2]);
  assert.equal(permutedAccuracy(model, ds, exact).accuracy, 0.75);
  assert.equal(permutedAccuracy(model, ds, greedy).accuracy, 0.5);
});
