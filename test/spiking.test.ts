// Spiking networks (spec 07, issue 18 point 8): IF neuron rates and charge, the fast simulation against the
// plain reference spike for spike, conversion of a trained net, one-shot pruning and the device model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AvgPool2d,
  BatchNorm1d,
  ConductancePair,
  Conv2d,
  Flatten,
  IFNeuron,
  Linear,
  Rng,
  Sequential,
  SpikingNetwork,
  Tensor,
  Activation,
  Adam,
  MaxPool2d,
  autoPrune,
  backendName,
  buildModel,
  evaluate,
  fit,
  foldForSpiking,
  noGrad,
  programDevices,
  pruneByThreshold,
  simulateReference,
  spikingKernels,
  persistentArray,
  type SpikingKernels,
  checkIFOptions,
  toSpiking,
  loadFashionMnist,
  SUBSET_DIR,
  subset,
} from '../src/node.js';

/** One IF neuron driven by constant current I for T steps: its spike count and final potential. */
function drive(I: number, T: number, o: ConstructorParameters<typeof IFNeuron>[0] = {}): { n: number; v: number } {
  const neuron = new IFNeuron(o);
  neuron.steps = T;
  const y = neuron.forward(Tensor.full([T, 1], I));
  return { n: Array.from(y.data).reduce((a, b) => a + b, 0), v: neuron.potential![0] };
}

test('an IF neuron with constant input I ∈ (0, 1) fires at a rate → I (reset by subtraction)', () => {
  for (const I of [0.05, 0.37, 0.5, 0.81, 0.999]) {
    for (const T of [100, 1000, 10000]) {
      const { n } = drive(I, T);
      // Reset by subtraction keeps the residue: the count is ⌊T·I⌋ up to float rounding, so |rate − I| ≤ 1/T.
      assert.ok(Math.abs(n / T - I) <= 1 / T + 1e-6, `I ${I}, T ${T}: rate ${n / T}`);
    }
  }
  // Reset to zero loses the residue: I = 0.37 fires every 3rd step (rate 1/3), a bias that does not shrink with T.
  const z = drive(0.37, 3000, { reset: 'zero' });
  assert.equal(z.n, 1000);
  // A leak lowers the rate below I; zero input never fires.
  const leaky = drive(0.5, 1000, { leak: 0.05 }).n;
  assert.ok(leaky > 0 && leaky < 490, `leaky count ${leaky}`);
  assert.equal(drive(0, 1000).n, 0);
});

test('reset by subtraction conserves charge: Σ input = θ·spikes + V_T', () => {
  const rng = new Rng(4);
  for (const theta of [1, 0.75, 2]) {
    const T = 500,
      I = Array.from({ length: T }, () => rng.uniform(-0.2, 1.2));
    const neuron = new IFNeuron({ threshold: theta });
    neuron.steps = T;
    const n = Array.from(neuron.forward(Tensor.from(I, [T, 1])).data).reduce((a, b) => a + b, 0);
    const total = I.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(total - (theta * n + neuron.potential![0])) < 1e-3, `θ ${theta}: ${total} vs ${theta * n}+V`);
  }
});

/** Dyadic weights k/64: every partial sum is exact in float32, so any summation order gives the same currents. */
function dyadic(t: Tensor, rng: Rng, span = 24): void {
  for (let i = 0; i < t.size; i++) t.data[i] = (rng.int(2 * span + 1) - span) / 64;
  t.markChanged();
}

function smallSnn(coding: 'poisson' | 'constant', reset: 'subtract' | 'zero', chunkBudget?: number): SpikingNetwork {
  const rng = new Rng(7);
  const c1 = new Conv2d(1, 4, 3, { padding: 1 }),
    c2 = new Conv2d(4, 6, 3),
    fc = new Linear(6 * 2 * 2, 5);
  for (const l of [c1, c2, fc]) {
    dyadic(l.weight, rng);
    dyadic(l.bias!, rng, 4);
  }
  const IF = () => new IFNeuron({ reset });
  return new SpikingNetwork(
    [c1, IF(), new AvgPool2d(2), IF(), c2, IF(), new AvgPool2d(2), IF(), new Flatten(), fc, IF()],
    { input: [1, 12, 12], timesteps: 60, coding, seed: 3, chunkBudget },
  );
}

test('the WebAssembly IF kernel equals the reference bit for bit: leak, both resets, θ 0.7, tails', () => {
  const wasm = spikingKernels.wasm();
  if (!wasm) return assert.ok(process.env.FRUGAL_THREADS === '0' || !backendName().includes('wasm'));
  const rng = new Rng(5),
    B = 3,
    feat = 7,
    T = 40,
    n = B * feat;
  for (const constant of [false, true])
    for (const reset of ['subtract', 'zero'] as const)
      for (const leak of [0, 0.05])
        for (const threshold of [1, 0.7]) {
          const o = checkIFOptions({ threshold, reset, leak });
          const cur = Float32Array.from({ length: constant ? n : T * n }, () => rng.uniform(-0.3, 1.1));
          const run = (k: SpikingKernels) => {
            const v = new Float32Array(n),
              out = new Float32Array(T * n),
              counts = new Float32Array(feat);
            // Two calls: the membrane state carries from one to the next.
            k.ifSteps(v, cur, constant, out.subarray(0, 25 * n), counts, 25, B, o);
            k.ifSteps(v, constant ? cur : cur.subarray(25 * n), constant, out.subarray(25 * n), counts, 15, B, o);
            return { v, out, counts };
          };
          const a = run(wasm),
            b = run(spikingKernels.reference);
          const what = `constant ${constant}, ${reset}, leak ${leak}, θ ${threshold}`;
          assert.deepEqual(a.out, b.out, `${what}: spikes`);
          assert.deepEqual(a.v, b.v, `${what}: potentials`);
          assert.deepEqual(a.counts, b.counts, `${what}: counts`);
          const total = b.out.reduce((x, y) => x + y, 0);
          assert.ok(total > 0 && total < T * n, `${what}: some neurons fire, not all (${total})`);
          assert.equal(
            b.counts.reduce((x, y) => x + y, 0),
            total,
          );
        }
});

test('the event-driven linear kernel equals its reference bit for bit and the dense product closely', () => {
  const wasm = spikingKernels.wasm();
  if (!wasm) return assert.ok(process.env.FRUGAL_THREADS === '0' || !backendName().includes('wasm'));
  const rng = new Rng(9);
  for (const [R, K, N] of [
    [7, 13, 1],
    [5, 32, 10],
    [4, 9, 17],
    [6, 21, 7],
    [3, 40, 36],
  ])
    for (const withBias of [false, true]) {
      const s = Float32Array.from({ length: R * K }, () => (rng.random() < 0.3 ? 1 : 0));
      s.fill(1, 0, K); // a row of all spikes, and one of none
      s.fill(0, K, 2 * K);
      const w = Float32Array.from({ length: N * K }, () => rng.uniform(-1, 1)),
        bias = withBias ? Float32Array.from({ length: N }, () => rng.uniform(-1, 1)) : null;
      const a = new Float32Array(R * N),
        b = new Float32Array(R * N);
      wasm.spikeLinear(s, R, w, N, bias, a);
      spikingKernels.reference.spikeLinear(s, R, w, N, bias, b);
      assert.deepEqual(a, b, `${R}×${K}→${N}, bias ${withBias}`);
      // One row at a time into kernel memory (written in place) with sentinels after it: a row's last columns
      // must not spill (within a call, the next row would overwrite a spill and hide it).
      for (let r = 0; r < R; r++) {
        // At least MIN_POOLED (256) floats, or the array is not pooled in kernel memory and a copy is written.
        const o = persistentArray(Math.max(256, N + 3)).fill(7);
        wasm.spikeLinear(s.subarray(r * K, (r + 1) * K), 1, w, N, bias, o.subarray(0, N));
        assert.deepEqual(o.subarray(0, N), b.subarray(r * N, (r + 1) * N), `row ${r} alone`);
        assert.deepEqual(Array.from(o.subarray(N, N + 3)), [7, 7, 7], `${K}→${N}: nothing written past the row`);
      }
      for (let r = 0; r < R; r++)
        for (let c = 0; c < N; c++) {
          let dense = bias ? bias[c] : 0;
          for (let j = 0; j < K; j++) dense += s[r * K + j] * w[c * K + j];
          assert.ok(Math.abs(b[r * N + c] - dense) < 1e-4, `row ${r} col ${c}: ${b[r * N + c]} vs ${dense}`);
        }
    }
});

test('the WebAssembly simulation equals the plain reference simulation spike for spike', () => {
  const rng = new Rng(11),
    B = 5;
  // Pixels k/16: exact in float32, like the weights.
  const x = Float32Array.from({ length: B * 144 }, () => rng.int(17) / 16);
  for (const coding of ['constant', 'poisson'] as const) {
    for (const reset of ['subtract', 'zero'] as const) {
      // A small chunk budget forces several chunks of steps: the membrane state must carry across them.
      for (const budget of [undefined, 3000]) {
        const net = smallSnn(coding, reset, budget);
        const out = noGrad(() => net.forward(new Tensor(x, [B, 1, 12, 12])));
        const ref = simulateReference(smallSnn(coding, reset), x, B);
        assert.deepEqual(Array.from(out.data), Array.from(ref.output), `${coding}/${reset}/${budget}: outputs`);
        const counts = net.neurons().map((n) => n.counts!.reduce((a, b) => a + b, 0));
        assert.deepEqual(counts, ref.spikes, `${coding}/${reset}: spikes per population`);
        assert.ok(
          ref.spikes.every((s) => s > 0),
          'every population fires (the test would be empty otherwise)',
        );
      }
    }
  }
  if (!process.env.FRUGAL_THREADS) assert.match(backendName(), /wasm/);
});

test('conversion of a trained MLP reproduces its argmax on most inputs at large T, and normalisation matters', () => {
  const data = loadFashionMnist(SUBSET_DIR);
  const model = buildModel(
    {
      format: 'frugal-model',
      version: 1,
      input: [784],
      layers: [{ type: 'linear', in: 784, out: 64 }, { type: 'relu' }, { type: 'linear', in: 64, out: 10 }],
    },
    1,
  );
  const train = subset(
    data.train,
    Array.from({ length: 2000 }, (_, i) => i),
  );
  fit(model, {
    train,
    epochs: 2,
    batchSize: 64,
    optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
    seed: 1,
    inputShape: [784],
  });
  const test = subset(
    data.test,
    Array.from({ length: 300 }, (_, i) => i),
  );
  const predict = (m: Sequential | SpikingNetwork) =>
    noGrad(() => {
      const xs = Float32Array.from(test.images, (v) => v / 255);
      const y = (m as Sequential).forward(new Tensor(xs, [test.count, 784]));
      return Array.from({ length: test.count }, (_, i) => {
        let best = 0;
        for (let k = 1; k < 10; k++) if (y.data[i * 10 + k] > y.data[i * 10 + best]) best = k;
        return best;
      });
    });
  model.eval();
  const ann = predict(model);
  const agree = (p: number[]) => p.filter((v, i) => v === ann[i]).length / p.length;
  const { net } = toSpiking(model, { timesteps: 400, data: train, input: [784], coding: 'constant' });
  const a400 = agree(predict(net));
  assert.ok(a400 >= 0.95, `agreement with the ANN's argmax at T = 400: ${a400}`);
  const pois = toSpiking(model, { timesteps: 400, data: train, input: [784], coding: 'poisson' }).net;
  assert.ok(agree(predict(pois)) >= 0.9, 'Poisson input');
  const small = (normalization: 'max' | 'none') =>
    evaluate(new Sequential(toSpiking(model, { timesteps: 20, data: train, input: [784], normalization }).net), test, {
      shape: [784],
    }).accuracy;
  assert.ok(small('max') > small('none') + 0.02, 'without normalisation the SNN is worse at small T');
});

test('conversion folds batch norm exactly, drops a final softmax, refuses layers with no spiking equivalent', () => {
  const rng = new Rng(2);
  const lin = new Linear(6, 4, { rng }),
    bn = new BatchNorm1d(4);
  for (const t of [bn.weight, bn.bias, bn.runningMean]) for (let i = 0; i < 4; i++) t.data[i] = rng.uniform(-1, 1);
  for (let i = 0; i < 4; i++) bn.runningVar.data[i] = rng.uniform(0.5, 2);
  const model = new Sequential(lin, bn, new Activation('relu'), new Linear(4, 3, { rng }), new Activation('softmax'));
  model.eval();
  const items = foldForSpiking(model);
  assert.deepEqual(
    items.map((i) => i.kind),
    ['syn', 'relu', 'syn'],
  );
  const x = Tensor.rand([5, 6], rng);
  noGrad(() => {
    const want = new Sequential(lin, bn).forward(x);
    const got = (items[0] as { layer: Linear }).layer.forward(x);
    for (let i = 0; i < want.size; i++) assert.ok(Math.abs(want.data[i] - got.data[i]) < 1e-5);
  });
  const refuse = (m: Sequential, re: RegExp) =>
    assert.throws(() => toSpiking(m, { timesteps: 10, input: [1, 8, 8], normalization: 'none' }), re);
  refuse(new Sequential(new Conv2d(1, 2, 3), new Activation('relu'), new MaxPool2d(2)), /max pooling has no spiking/);
  refuse(new Sequential(new Linear(4, 4), new Activation('sigmoid'), new Linear(4, 2)), /sigmoid has no IF-rate/);
  refuse(new Sequential(new Linear(4, 4), new Activation('softmax'), new Linear(4, 2)), /softmax inside/);
  refuse(new Sequential(new Flatten(), new Activation('relu')), /no linear or conv2d layer to convert/);
  assert.throws(() => toSpiking(model, { timesteps: 0, input: [6] }), /timesteps must be an integer/);
  assert.throws(() => toSpiking(model, { timesteps: 10, input: [6] }), /needs training data/);
});

test('one-shot pruning never touches a weight at or above the threshold, and refuses to empty a layer', () => {
  const rng = new Rng(5);
  const model = new Sequential(new Linear(20, 10, { rng }), new Activation('relu'), new Linear(10, 3, { rng }));
  const before = model.parameters().map((p) => Float32Array.from(p.data));
  const r = pruneByThreshold(model, 0.12);
  model.parameters().forEach((p, k) => {
    const isWeight = p.rank === 2;
    for (let i = 0; i < p.size; i++) {
      const w = before[k][i];
      if (!isWeight || Math.abs(w) >= 0.12) assert.equal(p.data[i], w);
      else assert.equal(p.data[i], 0);
    }
  });
  assert.ok(r.fraction > 0.3 && r.fraction < 0.9, `fraction ${r.fraction}`);
  const snapshot = model.parameters().map((p) => Float32Array.from(p.data));
  assert.throws(() => pruneByThreshold(model, 10), /removes every weight of weight layer 0/);
  model.parameters().forEach((p, k) => assert.deepEqual(p.data, snapshot[k], 'nothing changed'));
  assert.throws(() => pruneByThreshold(model, -1), /threshold must be/);
});

test('autoPrune takes the largest threshold within 0.1 pt of validation accuracy', () => {
  const data = loadFashionMnist(SUBSET_DIR);
  const model = buildModel(
    {
      format: 'frugal-model',
      version: 1,
      input: [784],
      layers: [{ type: 'linear', in: 784, out: 32 }, { type: 'relu' }, { type: 'linear', in: 32, out: 10 }],
    },
    1,
  );
  const train = subset(
    data.train,
    Array.from({ length: 1500 }, (_, i) => i),
  );
  const val = subset(
    data.train,
    Array.from({ length: 500 }, (_, i) => 4000 + i),
  );
  fit(model, {
    train,
    epochs: 1,
    batchSize: 64,
    optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
    seed: 1,
    inputShape: [784],
  });
  const r = autoPrune(model, val, { input: [784] });
  const ok = r.curve.filter((p) => r.baseValAccuracy - p.valAccuracy <= 0.001);
  assert.equal(r.result.threshold, Math.max(...ok.map((p) => p.threshold)));
  assert.ok(
    r.curve.some((p) => p.threshold > r.result.threshold),
    'a larger threshold was tried and rejected',
  );
  assert.ok(r.baseValAccuracy - evaluate(model, val, { shape: [784] }).accuracy <= 0.001);
});

test('the conductance-pair device: levels, nonlinearity and variation against hand-computed values', () => {
  // L = 5, G ∈ [0.1, 1]: linear levels 0.1 + 0.225·p.
  const lin = new ConductancePair({ levels: 5 });
  assert.deepEqual(
    [0, 1, 2, 3, 4].map((p) => +lin.conductance(p).toFixed(6)),
    [0.1, 0.325, 0.55, 0.775, 1],
  );
  // Weights with max |w| = 0.9: β = 0.9/0.9 = 1; w = 0.5 → p = round(0.5/0.9·4) = 2 → β(0.55 − 0.1) = 0.45.
  const w = Float32Array.from([0.9, 0.5, -0.3, 0, 0.05]);
  const q = Array.from(lin.program(w, new Rng(1)), (v) => +v.toFixed(6));
  assert.deepEqual(q, [0.9, 0.45, -0.225, 0, 0]);
  // ν = 1: G(2) = 0.1 + 0.9·(1 − e^{−0.5})/(1 − e^{−1}) = 0.1 + 0.9·0.622459 = 0.660213.
  const nl = new ConductancePair({ levels: 5, nonlinearity: 1 });
  assert.ok(Math.abs(nl.conductance(2) - 0.660213) < 1e-6);
  assert.ok(Math.abs(nl.program(w, new Rng(1))[1] - 0.560213) < 1e-6);
  // σ = 0.05: each device scaled by (1 + σε) with the seeded normals, G⁺ first then G⁻.
  const v = new ConductancePair({ levels: 5, variation: 0.05 });
  const g = new Rng(9),
    e1 = g.normal(),
    e2 = g.normal();
  const got = v.program(Float32Array.from([0.9, 0.5]), new Rng(9))[0];
  assert.ok(Math.abs(got - (1 * (1 + 0.05 * e1) - 0.1 * (1 + 0.05 * e2))) < 1e-6);
  assert.deepEqual(Array.from(v.program(w, new Rng(3))), Array.from(v.program(w, new Rng(3))), 'seeded');
  for (const [o, re] of [
    [{ levels: 1 }, /levels must be an integer in \[2/],
    [{ levels: 16, variation: -0.1 }, /variation σ must be/],
    [{ levels: 16, nonlinearity: -1 }, /nonlinearity ν must be/],
  ] as const)
    assert.throws(() => new ConductancePair(o), re);
  // programDevices quantises every weight layer in place: at most L distinct magnitudes per layer.
  const model = new Sequential(new Linear(30, 20, { rng: new Rng(1) }));
  programDevices(model, new ConductancePair({ levels: 4 }));
  const mags = new Set(Array.from((model.layers[0] as Linear).weight.data, (x) => Math.abs(x).toFixed(6)));
  assert.ok(mags.size <= 4, `${mags.size} magnitudes`);
});

test('forwardAt gives, for each t, what a T = t simulation gives (one run makes the accuracy-against-T curve)', () => {
  const rng = new Rng(12),
    B = 3;
  const x = Float32Array.from({ length: B * 144 }, () => rng.int(17) / 16);
  const long = smallSnn('poisson', 'subtract');
  const outs = noGrad(() => long.forwardAt(new Tensor(x, [B, 1, 12, 12]), [7, 30, 60]));
  for (const [k, t] of [7, 30, 60].entries()) {
    const net = smallSnn('poisson', 'subtract');
    (net as unknown as { timesteps: number }).timesteps = t;
    const ref = simulateReference(net, x, B);
    assert.deepEqual(Array.from(outs[k].data), Array.from(ref.output), `t = ${t}`);
  }
  assert.throws(() => long.forwardAt(new Tensor(x, [B, 1, 12, 12]), [30, 7]), /ascending integers/);
});
