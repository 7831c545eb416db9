// Spec 09's pieces: the synthetic rhythm generator, float datasets, the block architecture and the metrics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  boundaryRows,
  buildModel,
  crossEntropy,
  cropEcg,
  ecgDataset,
  ecgModelSpec,
  ecgParamCount,
  ecgMinSamples,
  padEcg,
  gatherBatch,
  noGrad,
  RHYTHMS,
  shockMetrics,
  sigmoid,
  subset,
  Tensor,
  vf,
  Rng,
  type ImageDataset,
} from '../src/index.js';
import { architectureCheck } from '../src/reproduce/ecg-search.js';
import { readDataset } from '../src/cli/option-groups.js';
import { resolveModel } from '../src/cli/commands/train.js';

test('ecgDataset: exact class counts at the paper ratio, every kind present, integer counts at 2.5 µV/LSB', () => {
  const { data, kinds } = ecgDataset({ shockable: 72, nonShockable: 317, seconds: 5, seed: 3 });
  assert.deepEqual(data.sampleShape, [1, 625]);
  assert.ok(data.images instanceof Float32Array);
  const sh = data.labels.filter((y) => y === 0).length;
  assert.equal(sh, 72);
  assert.equal(data.count - sh, 317);
  assert.ok(Math.abs((data.count - sh) / sh - 4.4) < 0.01, 'Sh : NSh ≈ 1 : 4.4 as in the paper');
  // Each kind's label matches its class, and each kind gets its share (± 1 strip).
  for (const [k, r] of RHYTHMS.entries()) {
    const rows = [...kinds.keys()].filter((i) => kinds[i] === k);
    assert.ok(
      rows.every((i) => data.labels[i] === r.label),
      r.name,
    );
    assert.ok(Math.abs(rows.length - r.share * (r.label === 0 ? 72 : 317)) <= 1, `${r.name}: ${rows.length}`);
  }
  assert.ok(
    data.images.every((v) => Number.isInteger(v)),
    'quantised to whole counts',
  );
  assert.ok(boundaryRows({ data, kinds }).length > 0.1 * data.count, 'boundary cases are part of the set');
  // Raw counts: a QRS or VF of about a millivolt is a few hundred counts, as the paper's 2.5 µV/LSB input.
  const pp = (i: number) => {
    const r = data.images.subarray(i * 625, (i + 1) * 625);
    return Math.max(...r) - Math.min(...r);
  };
  const nsr = [...kinds.keys()].filter((i) => RHYTHMS[kinds[i]].name === 'nsr').map(pp);
  assert.ok(
    nsr.every((v) => v > 150 && v < 2000),
    `NSR peak-to-peak counts ${nsr.slice(0, 5)}`,
  );
});

test('ecgDataset is deterministic by seed, and another seed gives other strips', () => {
  const o = { shockable: 10, nonShockable: 30, seconds: 2, seed: 7 };
  const a = ecgDataset(o),
    b = ecgDataset(o),
    c = ecgDataset({ ...o, seed: 8 });
  assert.deepEqual(a.data.images, b.data.images);
  assert.deepEqual(a.kinds, b.kinds);
  assert.notDeepEqual(a.data.images, c.data.images);
  assert.throws(() => ecgDataset({ ...o, shockable: -1 }), /shockable must be a count/);
});

test('VF amplitude: coarse and fine VF have the peak-to-peak asked for (before noise)', () => {
  const v = vf(625, new Rng(1), 100, 200);
  const pp = Math.max(...v) - Math.min(...v);
  assert.ok(pp >= 0.1 - 1e-6 && pp <= 0.2 + 1e-6, `${pp} mV`);
});

test('cropEcg keeps the first seconds of the same strips', () => {
  const s = ecgDataset({ shockable: 2, nonShockable: 3, seconds: 10, seed: 1 });
  const c = cropEcg(s, 2);
  assert.deepEqual(c.data.sampleShape, [1, 250]);
  assert.deepEqual(c.data.images.subarray(250, 500), s.data.images.subarray(1250, 1500));
  assert.throws(() => cropEcg(s, 11), /outside/);
});

test('float datasets: gatherBatch and subset use float samples as given; byte images are still scaled by 1/255', () => {
  const f: ImageDataset = {
    images: Float32Array.from([-3.5, 400, 2, 7]),
    labels: Uint8Array.from([0, 1]),
    count: 2,
    sampleShape: [1, 2],
    classes: 2,
  };
  assert.deepEqual([...gatherBatch(f, [1, 0]).x.data], [2, 7, -3.5, 400]);
  const s = subset(f, [1]);
  assert.ok(s.images instanceof Float32Array);
  assert.deepEqual([...s.images], [2, 7]);
  const u: ImageDataset = { ...f, images: Uint8Array.from([0, 255, 51, 102]) };
  assert.deepEqual(
    [...gatherBatch(u, [1]).x.data].map((v) => +v.toFixed(3)),
    [0.2, 0.4],
  );
  assert.ok(subset(u, [0]).images instanceof Uint8Array);
});

test("the paper's best setting has exactly 7521 parameters and a 5×10 map before global max-pooling", () => {
  const best = { filters: [20, 15, 15, 10, 5], kernels: [10, 10, 10, 10, 10] };
  const m = buildModel(ecgModelSpec(best), 1);
  assert.equal(
    m.parameters().reduce((a, p) => a + p.size, 0),
    7521,
  );
  assert.equal(ecgParamCount(best), 7521);
  assert.deepEqual(architectureCheck(), { params: 7521, preGmp: [5, 10] });
  // A two-unit softmax head would give 7527: the count pins the single sigmoid unit.
  assert.notEqual(ecgParamCount({ filters: [20, 15, 15, 10, 5, 2], kernels: [10, 10, 10, 10, 10, 1] }), 7521);
  // Global max-pooling makes the network length-agnostic from its 'valid' minimum, 311 samples (2.49 s), up:
  // a 2-s strip (250) is too short and is zero-padded for the length test.
  assert.equal(ecgMinSamples(best), 311);
  noGrad(() => {
    m.eval();
    for (const T of [311, 1250]) assert.deepEqual(m.forward(Tensor.zeros([3, 1, T])).shape, [3, 2]);
    assert.throws(() => m.forward(Tensor.zeros([1, 1, 310])));
  });
  const short = ecgDataset({ shockable: 1, nonShockable: 1, seconds: 2, seed: 1 });
  const padded = padEcg(short, 311);
  assert.deepEqual(padded.data.sampleShape, [1, 311]);
  assert.deepEqual(padded.data.images.subarray(30, 280), short.data.images.subarray(0, 250));
  assert.equal(padded.data.images[29], 0);
  assert.throws(() => ecgModelSpec({ filters: [5, 5, 5], kernels: [100, 100, 100] }), /shrink 625 samples/);
  assert.throws(() => ecgModelSpec({ filters: [5], kernels: [5, 5] }), /must be N ≥ 1 each/);
});

test('sigmoidlogits: cross-entropy over [0, z] is binary cross-entropy of σ(z), and σ(z) is p(non-shockable)', () => {
  const z = Tensor.from([1.3, -0.4], [2, 1]);
  const m = buildModel({ format: 'frugal-model', version: 1, input: [1], layers: [{ type: 'sigmoidlogits' }] }, 1);
  const logits = m.forward(z);
  const ce = crossEntropy(logits, [1, 0]).item();
  const p = sigmoid(z).data;
  const bce = -(Math.log(p[0]) + Math.log(1 - p[1])) / 2;
  assert.ok(Math.abs(ce - bce) < 1e-6, `${ce} vs ${bce}`);
});

test('shockMetrics: Se on the shockable class (label 0), Sp on the other, BAC their mean', () => {
  const truth = [0, 0, 0, 0, 1, 1, 1, 1, 1, 1];
  const pred = [0, 0, 0, 1, 1, 1, 1, 1, 1, 0];
  const m = shockMetrics(pred, truth);
  assert.equal(m.se, 0.75);
  assert.ok(Math.abs(m.sp - 5 / 6) < 1e-12);
  assert.ok(Math.abs(m.bac - (0.75 + 5 / 6) / 2) < 1e-12);
  // A detector that never shocks has Sp 100% but BAC 50%: accuracy (80%) would hide it.
  const never = shockMetrics(new Array(10).fill(1), truth);
  assert.deepEqual([never.se, never.sp, never.bac], [0, 1, 0.5]);
  // Swapped polarity (shockable called 1) fails: Se 0, not 100%.
  assert.equal(shockMetrics([1, 1, 1, 1, 0, 0, 0, 0, 0, 0], truth).se, 0);
  assert.ok(Number.isNaN(shockMetrics([1, 1], [1, 1]).se), 'no shockable strip: Se is undefined, not 100%');
  assert.throws(() => shockMetrics([0], [0, 1]), /one per strip/);
});

test('frugal train: --dataset ecg-synthetic and --model ecg are accepted; an unknown dataset names both', () => {
  assert.equal(readDataset({ dataset: 'ecg-synthetic' }), 'ecg-synthetic');
  assert.throws(() => readDataset({ dataset: 'ecg' }), /one of fashion-mnist, .*ecg-synthetic, got "ecg"/);
  const { spec } = resolveModel('ecg');
  assert.equal(
    buildModel(spec, 1)
      .parameters()
      .reduce((a, p) => a + p.size, 0),
    7521,
  );
});
