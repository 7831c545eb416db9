// Layer-wise BCGD of deep linear networks (spec 01): the exact step is the line-search minimum, the loss
// never rises, the Gram form is the direct form, and L* is the least-squares optimum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Rng,
  cloneNet,
  deepLinearFromSpec,
  deepLinearWidths,
  directProblem,
  endToEnd,
  fashionProblem,
  gramProblem,
  gramSolve,
  householderQr,
  initDeepLinear,
  lossOf,
  matmulF64,
  optimum,
  syntheticProblem,
  trainBcgd,
  zerosMat,
  type DeepLinear,
  type Mat,
  type ModelSpec,
} from '../src/index.js';
import { loadFashionMnist, SUBSET_DIR } from '../src/node.js';

/** Naive reference product (i-j-k), independent of the library's blocked kernels. */
function mm(a: Mat, b: Mat, ta = false, tb = false): Mat {
  const M = ta ? a.cols : a.rows,
    K = ta ? a.rows : a.cols,
    N = tb ? b.rows : b.cols;
  const out = zerosMat(M, N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++)
        s += (ta ? a.data[k * a.cols + i] : a.data[i * K + k]) * (tb ? b.data[j * b.cols + k] : b.data[k * N + j]);
      out.data[i * N + j] = s;
    }
  return out;
}
const prod = (ms: Mat[]) => ms.reduce((acc, m) => mm(m, acc));

/** A random deep linear problem: dims, depth and widths (some narrower than d_x) drawn from the seed. */
function randomCase(seed: number) {
  const rng = new Rng(seed);
  const int = (a: number, b: number) => a + Math.floor(rng.random() * (b - a + 1));
  const dx = int(2, 7),
    dy = int(1, 5),
    m = int(dx + 3, 40),
    depth = int(1, 5);
  const widths = [dx, ...Array.from({ length: depth - 1 }, () => int(1, 9)), dy];
  const p = syntheticProblem({ dx, dy, m, noise: 0.3, seed, condition: seed % 2 ? 30 : undefined });
  const init = seed % 3 ? 'orthogonal' : 'gaussian';
  return { p, net: initDeepLinear(widths, { init, seed }), widths };
}

const STEP = 'the exact step η* = m‖G‖²/‖AGB‖² is the minimum of a brute-force line search';
test(`${STEP}, with G = (1/m)AᵀRBᵀ`, () => {
  for (let seed = 1; seed <= 12; seed++) {
    const { p, net } = randomCase(seed);
    if (p.kind !== 'direct') throw new Error('direct problem expected');
    const L = net.weights.length;
    for (const order of ['forward', 'backward'] as const) {
      const j = order === 'forward' ? 1 : L; // the first block of the sweep
      const before = cloneNet(net);
      // Independent gradient: A = W_L⋯W_{j+1}, B = W_{j−1}⋯W_1 X, R = A W_j B − Y.
      const W = before.weights;
      const A = j === L ? null : prod(W.slice(j));
      const B = j === 1 ? p.x : mm(prod(W.slice(0, j - 1)), p.x);
      const out = mm(prod(W), p.x);
      const R = zerosMat(out.rows, out.cols);
      R.data.set(out.data.map((v, i) => v - p.y.data[i]));
      const rb = mm(R, B, false, true);
      const G = A ? mm(A, rb, true) : rb;
      G.data.forEach((_, i) => (G.data[i] /= p.m));
      const lossAt = (eta: number) => {
        const n: DeepLinear = cloneNet(before);
        n.weights[j - 1].data.forEach((_, i) => (n.weights[j - 1].data[i] -= eta * G.data[i]));
        return lossOf(p, endToEnd(n));
      };
      const r = trainBcgd(cloneNet(before), p, { order, maxSteps: 1 });
      const eta = r.records[0].eta;
      assert.equal(r.records[0].layer, j);
      // Golden-section search for the minimiser on [0, 4η*] (the loss is a convex parabola in η).
      let lo = 0,
        hi = 4 * eta;
      const phi = (Math.sqrt(5) - 1) / 2;
      for (let it = 0; it < 200; it++) {
        const a = hi - phi * (hi - lo),
          b = lo + phi * (hi - lo);
        if (lossAt(a) < lossAt(b)) hi = b;
        else lo = a;
      }
      const bf = (lo + hi) / 2;
      assert.ok(Math.abs(bf - eta) <= 1e-5 * eta, `seed ${seed} ${order}: η* ${eta}, line search ${bf}`);
      assert.ok(r.losses[1] <= lossAt(0.9 * eta) && r.losses[1] <= lossAt(1.1 * eta), `seed ${seed}: not a minimum`);
      // The decrease is m‖G‖⁴/(2‖AGB‖²) = η*‖G‖²/2, and the weights moved by exactly −η*G.
      const g2 = G.data.reduce((s, v) => s + v * v, 0);
      assert.ok(Math.abs(r.losses[0] - r.losses[1] - (eta * g2) / 2) <= 1e-9 * r.losses[0], `seed ${seed}: decrease`);
      const moved = r.net.weights[j - 1].data.map((v, i) => v - (W[j - 1].data[i] - eta * G.data[i]));
      assert.ok(Math.max(...moved.map(Math.abs)) < 1e-12, `seed ${seed}: update`);
    }
  }
});

test('P1 on random deep linear problems: the loss never rises, for either step, order, init and form', () => {
  let steps = 0;
  for (let seed = 1; seed <= 16; seed++) {
    const { p, net } = randomCase(seed);
    for (const step of ['exact', 'bound'] as const)
      for (const form of ['direct', 'gram'] as const) {
        const order = seed % 2 ? 'forward' : 'backward';
        const r = trainBcgd(cloneNet(net), form === 'gram' && p.kind === 'direct' ? gramProblem(p) : p, {
          step,
          order,
          maxSteps: 300,
        });
        for (let k = 1; k < r.losses.length; k++)
          assert.ok(
            r.losses[k] <= r.losses[k - 1] + 1e-12 * r.losses[k - 1],
            `seed ${seed} ${step} ${form} step ${k}: ${r.losses[k - 1]} → ${r.losses[k]}`,
          );
        assert.ok(r.losses[r.losses.length - 1] < r.losses[0], `seed ${seed} ${step} ${form}: no progress`);
        steps += r.steps;
      }
  }
  assert.ok(steps > 10_000);
});

test('the Gram form runs the same trajectory as the direct form', () => {
  for (const seed of [3, 4, 7]) {
    const { p, net } = randomCase(seed);
    if (p.kind !== 'direct') throw new Error('direct problem expected');
    const a = trainBcgd(cloneNet(net), p, { maxSteps: 40 }),
      b = trainBcgd(cloneNet(net), gramProblem(p), { maxSteps: 40 });
    for (let k = 0; k < a.losses.length; k++)
      assert.ok(Math.abs(a.losses[k] - b.losses[k]) <= 1e-9 * a.losses[0], `seed ${seed} step ${k}`);
    a.records.forEach((r, k) => assert.ok(Math.abs(r.eta - b.records[k].eta) <= 1e-7 * r.eta, `η at ${k}`));
    a.net.weights.forEach((w, j) =>
      w.data.forEach((v, i) => assert.ok(Math.abs(v - b.net.weights[j].data[i]) < 1e-8, `W_${j + 1}[${i}]`)),
    );
  }
  // Fashion-MNIST in chunks (the accumulator) equals the Gram matrices of the whole direct problem.
  const ds = loadFashionMnist(SUBSET_DIR).train;
  const d = fashionProblem(ds, { pool: 4, count: 4100 }),
    g = fashionProblem(ds, { pool: 4, count: 4100, form: 'gram' }),
    ref = gramProblem(d);
  assert.equal(g.m, 4100);
  g.c.data.forEach((v, i) => assert.ok(Math.abs(v - ref.c.data[i]) < 1e-8 * (1 + Math.abs(v)), `C[${i}]`));
  g.s.data.forEach((v, i) => assert.ok(Math.abs(v - ref.s.data[i]) < 1e-8 * (1 + Math.abs(v)), `S[${i}]`));
  assert.ok(Math.abs(g.t - ref.t) < 1e-9 * ref.t);
});

test('L* from the least-squares solve equals a direct solve, also when X is rank-deficient', () => {
  for (const seed of [1, 2, 3]) {
    const p = syntheticProblem({ dx: 6, dy: 3, m: 30, noise: 0.5, seed });
    const qr = optimum(p),
      gram = optimum(gramProblem(p));
    assert.equal(qr.method, 'qr');
    assert.equal(gram.method, 'gram');
    assert.ok(Math.abs(qr.loss - gram.loss) <= 1e-10 * qr.loss, `seed ${seed}: ${qr.loss} vs ${gram.loss}`);
    // Normal equations by the naive route: W* = YXᵀ(XXᵀ)⁻¹ through the library's QR of XXᵀ.
    const c = mm(p.x, p.x, false, true),
      s = mm(p.y, p.x, false, true);
    const { q, r } = householderQr(c);
    // XXᵀ = QR, so W* = S·R⁻¹Qᵀ.
    const wRef = mm(mm(s, inverseUpper(r)), q, false, true);
    assert.ok(Math.abs(lossOf(p, wRef) - qr.loss) <= 1e-10 * qr.loss);
    // Nothing beats it: random perturbations raise the loss.
    const rng = new Rng(seed);
    for (let t = 0; t < 5; t++) {
      const pert = { ...qr.w, data: qr.w.data.map((v) => v + 1e-3 * rng.normal()) };
      assert.ok(lossOf(p, pert) > qr.loss);
    }
  }
  // A duplicated feature: X has rank d_x − 1; L* is that of the problem without the duplicate.
  const p = syntheticProblem({ dx: 5, dy: 2, m: 40, noise: 0.2, seed: 9 });
  const x = zerosMat(6, 40);
  x.data.set(p.x.data);
  x.data.set(p.x.data.subarray(0, 40), 5 * 40);
  const dup = optimum(directProblem(x, p.y));
  assert.equal(dup.method, 'gram');
  assert.equal(dup.rank, 5);
  assert.ok(Math.abs(dup.loss - optimum(p).loss) <= 1e-9 * dup.loss, `${dup.loss} vs ${optimum(p).loss}`);
  assert.equal(gramSolve(zerosMat(3, 3), zerosMat(1, 3)).rank, 0);
});

function inverseUpper(r: Mat): Mat {
  const n = r.rows,
    inv = zerosMat(n, n);
  for (let c = 0; c < n; c++)
    for (let i = n - 1; i >= 0; i--) {
      let s = i === c ? 1 : 0;
      for (let k = i + 1; k < n; k++) s -= r.data[i * n + k] * inv.data[k * n + c];
      inv.data[i * n + c] = s / r.data[i * n + i];
    }
  return inv;
}

test('BCGD reaches L* at every depth on the synthetic problem, and the blocked GEMM equals the naive one', () => {
  const p = syntheticProblem({ dx: 10, dy: 10, m: 200, noise: 0.1, seed: 5 });
  const star = optimum(p).loss;
  for (const depth of [1, 2, 4, 8]) {
    const r = trainBcgd(initDeepLinear(deepLinearWidths(10, 10, depth), { seed: 5 }), p, {
      optimum: star,
      targetGap: 1e-6,
      maxSteps: 5000,
    });
    assert.equal(r.stoppedBy, 'target', `depth ${depth}`);
    assert.ok(r.flops[r.flops.length - 1] > r.flops[0]);
  }
  const rng = new Rng(3);
  const rand = (a: number, b: number) => ({ ...zerosMat(a, b), data: new Float64Array(a * b).map(() => rng.normal()) });
  for (const [M, K, N] of [
    [1, 1, 1],
    [7, 70, 600],
    [65, 3, 9],
  ]) {
    const a = rand(M, K),
      b = rand(K, N),
      bt = rand(N, K),
      at = rand(K, M);
    const fc = { flops: 0 };
    const same = (x: Mat, y: Mat) => x.data.every((v, i) => Math.abs(v - y.data[i]) < 1e-10 * (1 + Math.abs(v)));
    assert.ok(same(matmulF64(a, b, {}, fc), mm(a, b)));
    assert.ok(same(matmulF64(a, bt, { tb: true }), mm(a, bt, false, true)));
    assert.ok(same(matmulF64(at, b, { ta: true }), mm(at, b, true)));
    assert.equal(fc.flops, 2 * M * N * K);
  }
});

test('orthogonal-like init is semi-orthogonal; impossible depths, widths and nonlinear models are refused', () => {
  const net = initDeepLinear([5, 8, 8, 3], { seed: 2 });
  for (const w of net.weights) {
    const tall = w.rows >= w.cols;
    const g = tall ? mm(w, w, true) : mm(w, w, false, true);
    g.data.forEach((v, i) => assert.ok(Math.abs(v - (i % (g.cols + 1) === 0 ? 1 : 0)) < 1e-12));
  }
  assert.throws(() => deepLinearWidths(10, 10, 0), /depth must be an integer in \[1, 64\], got 0/);
  assert.throws(() => deepLinearWidths(10, 10, 2.5), /depth/);
  assert.throws(() => deepLinearWidths(10, 10, 3, 0), /width must be an integer/);
  assert.throws(() => deepLinearWidths(10, 10, 3, 1e9), /width must be an integer in \[1, 8192\]/);
  assert.throws(() => initDeepLinear([4]), /widths must list/);
  assert.throws(() => initDeepLinear([4, -1, 2]), /widths\[1\]/);
  assert.throws(() => initDeepLinear([4, 2], { init: 'xavier' as never }), /init must be/);
  const p = syntheticProblem({ dx: 4, dy: 2, m: 10 });
  assert.throws(() => trainBcgd(initDeepLinear([5, 2]), p), /maps 5 → 2 features but the problem has d_x = 4/);
  assert.throws(() => trainBcgd(initDeepLinear([4, 2]), p, { step: 'newton' as never }), /step must be/);
  const spec = (layers: ModelSpec['layers']): ModelSpec => ({
    format: 'frugal-model',
    version: 1,
    input: [1, 2, 2],
    layers,
  });
  assert.deepEqual(
    deepLinearFromSpec(
      spec([
        { type: 'flatten' },
        { type: 'linear', in: 4, out: 6, bias: false },
        { type: 'linear', in: 6, out: 3, bias: false },
      ]),
    ),
    [4, 6, 3],
  );
  assert.throws(
    () =>
      deepLinearFromSpec(
        spec([
          { type: 'linear', in: 4, out: 6, bias: false },
          { type: 'relu' },
          { type: 'linear', in: 6, out: 3, bias: false },
        ]),
      ),
    /layer 1 \('relu'\) is not linear: BCGD trains deep LINEAR networks/,
  );
  assert.throws(() => deepLinearFromSpec(spec([{ type: 'linear', in: 4, out: 3 }])), /layer 0 \('linear'\) has a bias/);
  assert.throws(
    () => deepLinearFromSpec(spec([{ type: 'linear', in: 5, out: 3, bias: false }])),
    /in = 5 features but receives 4/,
  );
  assert.throws(() => directProblem(zerosMat(2, 3), zerosMat(1, 4)), /x has 3 samples/);
});
