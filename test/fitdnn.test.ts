import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FitDnn,
  Rng,
  SGD,
  Tensor,
  buildModel,
  crossEntropy,
  drawOffsets,
  fitDnnMap,
  fitDnnNodeLoop,
  fitDnnStates,
  noGrad,
  profileJson,
  profileModel,
  formatProfile,
  solveDde,
  specOf,
  validateSpec,
  type FitDnnWeights,
  type ModelSpec,
} from '../src/index.js';
import { loadModel, saveModel } from '../src/node.js';
import { assertClose } from './helpers.js';

/** Random float64 weights of a Fit-DNN (M inputs, N nodes, L layers, D loops, P outputs), scaled by `scale`. */
function weights(rng: Rng, M: number, N: number, L: number, D: number, P: number, scale = 1): FitDnnWeights {
  const t = (shape: number[]) => Tensor.rand(shape, rng, -scale, scale, 'float64');
  return {
    inputWeight: t([N, M]),
    inputBias: t([N]),
    hiddenWeight: L > 1 ? t([L - 1, N, D]) : null,
    hiddenBias: L > 1 ? t([L - 1, N]) : null,
    outputWeight: t([P, N]),
    outputBias: t([P]),
  };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 1e-300;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

const spec = (layer: Record<string, unknown>): ModelSpec => ({
  format: 'frugal-model',
  version: 1,
  input: [1, 4, 4],
  layers: [
    { type: 'flatten' },
    { type: 'fit-dnn', in: 16, hidden: 12, layers: 3, diagonals: 5, theta: 0.5, out: 4, ...layer },
  ],
});

test('the Toeplitz map equals the direct node-by-node recurrence on random weights (carry across 3 layers)', () => {
  const rng = new Rng(3);
  for (const theta of [0.05, 0.5, 3]) {
    const M = 7,
      N = 9,
      L = 3,
      offsets = drawOffsets(N, 6, rng),
      w = weights(rng, M, N, L, offsets.length, 4);
    const u = Tensor.rand([5, M], rng, 0, 1, 'float64');
    const states = noGrad(() => fitDnnStates(u, w, { theta, offsets }));
    for (let b = 0; b < 5; b++) {
      const loop = fitDnnNodeLoop(u.data.subarray(b * M, (b + 1) * M), w, { theta, offsets });
      for (let l = 0; l < L; l++)
        assertClose(states[l].data.subarray(b * N, (b + 1) * N), loop[l], 1e-12, 1e-10, `θ ${theta} x^${l + 1}`);
    }
  }
});

test('the float32 layer (WebAssembly GEMMs) matches the float64 node loop', () => {
  const m = new FitDnn({ inFeatures: 20, hidden: 16, layers: 2, diagonals: 7, theta: 0.4, outFeatures: 3 }, new Rng(5));
  const u = Tensor.rand([4, 20], new Rng(6), 0, 1);
  const y = noGrad(() => m.forward(u));
  const w64 = Object.fromEntries(
    Object.entries(m.weights()).map(([k, t]) => [k, t ? t.to('float64') : null]),
  ) as unknown as FitDnnWeights;
  for (let b = 0; b < 4; b++) {
    const xs = fitDnnNodeLoop(u.data.subarray(b * 20, (b + 1) * 20), w64, m.mapOptions());
    const xL = xs[1];
    for (let p = 0; p < 3; p++) {
      let s = w64.outputBias.data[p];
      for (let n = 0; n < 16; n++) s += w64.outputWeight.data[p * 16 + n] * xL[n];
      assert.ok(Math.abs(y.data[b * 3 + p] - s) < 1e-5, `logit ${b},${p}: ${y.data[b * 3 + p]} vs ${s}`);
    }
  }
});

test('decoupled limit: at θ = 20 the map equals the sparse MLP x = f(a) to < 1e-6; at θ = 0.5 it does not', () => {
  const rng = new Rng(7),
    offsets = [-3, -1, 0, 2, 4],
    w = weights(rng, 6, 8, 3, offsets.length, 3);
  const u = Tensor.rand([4, 6], rng, 0, 1, 'float64');
  const dec = noGrad(() => fitDnnMap(u, w, { theta: 1, offsets, decoupled: true }));
  const at = (theta: number) => maxRel(noGrad(() => fitDnnMap(u, w, { theta, offsets })).data, dec.data);
  assert.ok(at(20) < 1e-6, `θ = 20: ${at(20)}`);
  assert.ok(at(0.5) > 1e-2, `θ = 0.5 should differ from decoupled: ${at(0.5)}`);
});

test('DDE solver: layer 1 is the exact solution; above θ ≈ 1 the map approaches the DDE as θ grows', () => {
  const rng = new Rng(11),
    N = 10,
    offsets = [-6, -2, 1, 3, 7],
    w = weights(rng, 5, N, 3, offsets.length, 3, 1.5);
  const u = Tensor.rand([2, 5], rng, 0, 1, 'float64');
  const errs: number[] = [];
  for (const theta of [0.2, 1, 4, 30]) {
    const o = { theta, offsets },
      map = noGrad(() => fitDnnStates(u, w, o));
    const dde = solveDde(u.data, 2, w, o, 64, true);
    // Layer 1: a(t) is constant per node, so the map is exact and the DDE must agree to rounding.
    assertClose(dde.states[0], map[0].data, 1e-12, 1e-10, `θ ${theta} layer 1`);
    // Inside node n of layer 1: x(t) = e^{−s} x_{n−1} + (1 − e^{−s}) sin(g(s_n)), s = time into the node.
    const traj = dde.trajectory!,
      n = 3,
      j = 17,
      s = (j / 64) * theta;
    let z = w.inputBias.data[n];
    for (let m = 0; m < 5; m++) z += w.inputWeight.data[n * 5 + m] * u.data[m];
    const exact = Math.exp(-s) * map[0].data[n - 1] + -Math.expm1(-s) * Math.sin((Math.PI / 2) * Math.tanh(z));
    assert.ok(Math.abs(traj[n * 64 + j] - exact) < 1e-12, `mid-node ${traj[n * 64 + j]} vs ${exact}`);
    errs.push(maxRel(dde.states[2], map[2].data));
  }
  // The gap grows from θ → 0 (nothing moves) to θ ≈ 1, then shrinks as θe^{−θ} (the delayed transient dies
  // within each node).
  for (let i = 2; i < errs.length; i++) assert.ok(errs[i] < errs[i - 1], `map–DDE gap not shrinking: ${errs}`);
  assert.ok(errs[0] > 1e-3 && errs[errs.length - 1] < 1e-6, `gaps ${errs}`);
});

test('DDE solver converges in N_h (second order: 4× more sub-steps, ≥ 10× smaller change)', () => {
  const rng = new Rng(13),
    offsets = [-3, 0, 2],
    w = weights(rng, 4, 6, 2, 3, 2, 2);
  const u = Tensor.rand([1, 4], rng, 0, 1, 'float64'),
    o = { theta: 0.5, offsets };
  const x = (nh: number) => solveDde(u.data, 1, w, o, nh).states[1];
  const d1 = maxRel(x(8), x(1024)),
    d2 = maxRel(x(32), x(1024));
  assert.ok(d2 < d1 / 10, `N_h 8: ${d1}, N_h 32: ${d2}`);
});

test('spec: built from JSON, offsets drawn (seeded, both signs) or given, round trip through specOf and a file', () => {
  const m = buildModel(spec({}), 4);
  const layer = m.layers[1] as FitDnn;
  const off = layer.config.offsets;
  assert.equal(off.length, 5);
  assert.ok(off[0] < 0 && off[4] > 0 && new Set(off).size === 5 && off.every((o) => o > -12 && o < 12), `${off}`);
  assert.deepEqual((buildModel(spec({}), 4).layers[1] as FitDnn).config.offsets, off, 'same seed, same loops');
  const again = buildModel(specOf(m, [1, 4, 4]), 99);
  assert.deepEqual((again.layers[1] as FitDnn).config.offsets, off);
  const given = buildModel(spec({ offsets: [5, -2, 0, 1, -11] }), 0).layers[1] as FitDnn;
  assert.deepEqual(given.config.offsets, [-11, -2, 0, 1, 5]);
  for (let s = 0; s < 20; s++) {
    const d = drawOffsets(3, 2, new Rng(s));
    assert.ok(d[0] < 0 && d[1] > 0, `draw ${d}`);
  }
  // A file saved from the spec without offsets keeps the trained loops (loaded with seed 0, not 4).
  const dir = mkdtempSync(join(tmpdir(), 'fitdnn-'));
  try {
    const path = join(dir, 'm.safetensors');
    saveModel(path, m, spec({}));
    const { model } = loadModel(path);
    assert.deepEqual((model.layers[1] as FitDnn).config.offsets, off);
    const x = Tensor.rand([3, 1, 4, 4], new Rng(1), 0, 1);
    assertClose(noGrad(() => model.forward(x)).data, noGrad(() => m.forward(x)).data, 0, 0, 'loaded logits');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('profile: parameters, delay loops, equivalent MACs, θ and L·N·θ', () => {
  const m = buildModel(spec({ offsets: [-3, -1, 0, 2, 4] }), 1);
  const p = profileModel(m, [1, 4, 4]),
    j = profileJson(p) as Record<string, unknown>;
  const used = 2 * (9 + 11 + 12 + 10 + 8); // Σ_d (N − |n'_d|) per hidden layer, two hidden layers
  assert.equal(p.params, 12 * 16 + 12 + 2 * (12 * 5 + 12) + 4 * 12 + 4);
  assert.equal(p.macs, 12 * 16 + used + 4 * 12 + 3 * 12);
  assert.equal(j.delayLoops, 5);
  assert.equal(j.theta, 0.5);
  assert.equal(j.processingTime, 3 * 12 * 0.5);
  assert.match(formatProfile(p), /L·N·θ/);
});

test('trains through autograd: loss falls on a separable toy problem; hidden gradients only on used entries', () => {
  const rng = new Rng(2),
    m = new FitDnn(
      { inFeatures: 8, hidden: 10, layers: 2, offsets: [-9, -4, 0, 3, 8], theta: 0.5, outFeatures: 2 },
      rng,
    );
  const x = Tensor.rand([32, 8], rng, 0, 1),
    y = new Int32Array(32);
  for (let i = 0; i < 32; i++) y[i] = x.data[i * 8] > x.data[i * 8 + 1] ? 1 : 0;
  const opt = new SGD(m.parameters(), { lr: 0.5 });
  let first = 0,
    last = 0;
  for (let it = 0; it < 60; it++) {
    m.zeroGrad();
    const loss = crossEntropy(m.forward(x), y);
    loss.backward();
    if (it === 0) {
      first = loss.item();
      const g = m.hiddenWeight!.grad!.data;
      for (let n = 0; n < 10; n++)
        [-9, -4, 0, 3, 8].forEach((o, d) => {
          if (n - o < 0 || n - o >= 10) assert.equal(g[n * 5 + d], 0, `unused entry ${n},${d}`);
        });
    }
    last = loss.item();
    opt.step();
  }
  assert.ok(last < 0.6 * first, `loss ${first} → ${last}`);
});

test('bad input is refused naming the field', () => {
  const bad: [Record<string, unknown>, RegExp][] = [
    [{ theta: 0 }, /'theta'/],
    [{ theta: -1 }, /'theta'/],
    [{ diagonals: 0 }, /'diagonals'/],
    [{ diagonals: 24 }, /'diagonals'.*23/],
    [{ hidden: 0 }, /'hidden'/],
    [{ layers: 0 }, /'layers'/],
    [{ offsets: [0, 1, 2, 3, 12] }, /'offsets'.*12.*out of range/],
    [{ offsets: [0, 1, 2, 3, -12] }, /'offsets'.*-12/],
    [{ offsets: [0, 1, 2, 2, 3] }, /'offsets' repeats 2/],
    [{ offsets: [0, 1, 2] }, /'offsets' has 3 entries/],
    [{ decoupled: 'yes' }, /'decoupled'/],
  ];
  for (const [fields, re] of bad) {
    assert.throws(() => validateSpec(spec(fields)), re, JSON.stringify(fields));
    assert.throws(() => buildModel(spec(fields)), re, JSON.stringify(fields));
  }
  assert.throws(
    () => new FitDnn({ inFeatures: 3, hidden: 4, layers: 2, diagonals: 2, theta: Number.NaN, outFeatures: 2 }),
    /'theta'/,
  );
  const m = new FitDnn({ inFeatures: 3, hidden: 4, layers: 2, diagonals: 2, theta: 1, outFeatures: 2 });
  assert.throws(() => m.forward(Tensor.zeros([2, 5])), /fit-dnn expects \[B, 3\]/);
  assert.throws(
    () =>
      new FitDnn({ inFeatures: 3, hidden: 4, layers: 2, diagonals: 2, outFeatures: 2, decoupled: true }).simulate({
        kind: 'dde',
      }),
    /decoupled/,
  );
});
