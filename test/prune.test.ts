import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Adam,
  Conv2d,
  Linear,
  Rng,
  SGD,
  Tensor,
  buildModel,
  vggSpec,
  noGrad,
  crossEntropy,
  reference,
  wasmBackend,
  applyMask,
  removePruning,
  reapplyMasks,
  pruneEntry,
  l1Unstructured,
  globalUnstructured,
  randomUnstructured,
  lnStructured,
  customMask,
  amountToCount,
  pruneToRate,
  compact,
  countWeights,
  analyse,
  toCsr,
  SparseLinear,
  SparseConv2d,
  proximalL1,
  cubicSparsity,
  fit,
  persistentArray,
  type ImageDataset,
  type Sequential,
  type Module,
  type ModelSpec,
  type Optimizer,
  type CircLinear,
} from '../src/index.js';
import { makeOptimizer } from '../src/cli/option-groups.js';
import { saveModel, loadModel } from '../src/node.js';
import { assertClose, randomArray } from './helpers.js';

/** Images whose class is written in their pixels (learnable), seeded. */
function synthetic(n: number, seed: number, shape = [1, 12, 12]): ImageDataset {
  const rng = new Rng(seed),
    size = shape.reduce((a, b) => a * b, 1);
  const images = new Uint8Array(n * size),
    labels = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    const y = rng.int(4);
    labels[i] = y;
    for (let j = 0; j < size; j++) images[i * size + j] = Math.floor(rng.random() * 60 + (j % 4 === y ? 150 : 0));
  }
  return { images, labels, count: n, sampleShape: shape, classes: 4 };
}

/** Bytes of tensor data in a safetensors file (its size less the 8-byte length and the JSON header). */
function dataBytes(path: string): number {
  const b = readFileSync(path);
  return b.length - 8 - Number(b.readBigUInt64LE(0));
}

const small = () => buildModel(vggSpec([4, 6, 8, 8], [1, 12, 12], 4), 3);
const input = [1, 12, 12];
const out = (m: Module, x: Tensor) =>
  noGrad(() => {
    m.eval();
    return m.forward(x).data.slice();
  });

test(
  'applyMask: masked weights get zero gradient and stay zero under SGD-momentum and Adam; removePruning keeps ' +
    'outputs',
  () => {
    for (const make of [
      (p: Tensor[]) => new SGD(p, { lr: 0.1, momentum: 0.9, weightDecay: 1e-3 }),
      (p: Tensor[]) => new Adam(p, { lr: 0.01, weightDecay: 1e-3 }),
    ]) {
      const l = new Linear(6, 5, { rng: new Rng(1) });
      const w0 = l.weight;
      const opt = make(l.parameters());
      const mask = Float32Array.from({ length: 30 }, (_, i) => (i % 3 === 0 ? 0 : 1));
      // a first step before pruning gives the optimizer state for those weights
      crossEntropy(l.forward(Tensor.randn([4, 6], new Rng(2))), Int32Array.from([0, 1, 2, 3])).backward();
      opt.step();
      opt.zeroGrad();
      applyMask(l, 'weight', mask);
      assert.deepEqual(
        l
          .namedParameters()
          .map(([n]) => n)
          .sort(),
        ['bias', 'weightOrig'],
      );
      assert.ok(l.stateDict().weightMask, 'mask is a buffer in the state dict');
      assert.equal(pruneEntry(l, 'weight')!.orig, w0, 'the trained tensor is the same object the optimizer holds');
      for (let s = 0; s < 5; s++) {
        const loss = crossEntropy(l.forward(Tensor.randn([4, 6], new Rng(3 + s))), Int32Array.from([0, 1, 2, 3]));
        loss.backward();
        const g = w0.grad!.data;
        for (let i = 0; i < 30; i++)
          if (mask[i] === 0) assert.ok(g[i] === 0, `gradient of masked weight ${i}: ${g[i]}`);
        opt.step();
        opt.zeroGrad();
        reapplyMasks(l);
        const w = l.weight.data;
        for (let i = 0; i < 30; i++)
          if (mask[i] === 0)
            assert.ok(w[i] === 0 && w0.data[i] === 0, `masked weight ${i}: ${w[i]}, trained tensor ${w0.data[i]}`);
      }
      const x = Tensor.randn([3, 6], new Rng(9));
      const before = out(l, x);
      assert.equal(removePruning(l), 1);
      assert.deepEqual(
        l
          .namedParameters()
          .map(([n]) => n)
          .sort(),
        ['bias', 'weight'],
      );
      assert.ok(!('weightMask' in l.stateDict()));
      assert.deepEqual(out(l, x), before, 'outputs identical after removePruning');
    }
  },
);

test('pruning methods: amounts as fraction or count, L1, random, global, structured by norm, custom masks', () => {
  assert.equal(amountToCount(0.25, 40), 10);
  assert.equal(amountToCount(7, 40), 7);
  assert.throws(() => amountToCount(41, 40), /only 40/);
  assert.throws(() => amountToCount(-0.1, 40), /fraction/);
  assert.throws(() => amountToCount(2.5, 40), /neither/);
  const zeros = (m: Module) => Array.from(m.stateDict().weightMask.data).filter((v) => v === 0).length;
  const a = new Conv2d(3, 4, 3, { rng: new Rng(4) });
  const w = a.weight.data.slice();
  l1Unstructured(a, { amount: 0.5 });
  assert.equal(zeros(a), 54);
  const kept = Array.from(a.weight.data)
      .filter((v) => v !== 0)
      .map(Math.abs),
    cut = Array.from(w)
      .filter((_, i) => a.weight.data[i] === 0)
      .map(Math.abs);
  assert.ok(Math.min(...kept) >= Math.max(...cut), 'L1 keeps the largest magnitudes');
  l1Unstructured(a, { amount: 10 });
  assert.equal(zeros(a), 64, 'a count prunes among the remaining weights; masks compose');
  const r = new Linear(10, 10, { rng: new Rng(5) });
  randomUnstructured(r, { amount: 0.3, seed: 1 });
  assert.equal(zeros(r), 30);
  const g1 = new Linear(8, 8, { rng: new Rng(6) }),
    g2 = new Linear(8, 4, { rng: new Rng(7) });
  globalUnstructured(
    [
      [g1, 'weight'],
      [g2, 'weight'],
    ],
    { amount: 0.5 },
  );
  assert.equal(zeros(g1) + zeros(g2), 48);
  const s = new Conv2d(2, 6, 3, { rng: new Rng(8) });
  lnStructured(s, { amount: 2, n: 1 });
  const rows = Array.from({ length: 6 }, (_, c) => s.weight.data.slice(c * 18, (c + 1) * 18).every((v) => v === 0));
  assert.equal(rows.filter(Boolean).length, 2, 'two whole output channels removed');
  const c = new Linear(3, 2);
  assert.throws(() => customMask(c, [1, 0, 1]), /6/);
  assert.throws(() => customMask(c, [1, 0, 1, 1, 0.5, 1]), /only 0 and 1/);
  assert.throws(() => applyMask(c, 'kernel', [1]), /no parameter 'kernel'.*weight, bias/);
  customMask(c, [1, 0, 1, 1, 0, 1]);
  assert.throws(() => {
    (c as unknown as { weight: Tensor }).weight = Tensor.zeros([2, 3]);
  }, /removePruning/);
});

test('cubic schedule (Zhu & Gupta): starts at s_i, ends exactly at s_f, monotone', () => {
  const o = { final: 0.9, start: 10, end: 110 };
  assert.equal(cubicSparsity(0, o), 0);
  assert.equal(cubicSparsity(110, o), 0.9);
  assert.equal(cubicSparsity(500, o), 0.9);
  assertClose([cubicSparsity(60, o)], [0.9 - 0.9 * 0.125], 1e-12);
  for (let t = 10; t < 110; t++) assert.ok(cubicSparsity(t + 1, o) >= cubicSparsity(t, o));
});

test('pruneToRate unstructured: achieved parameter and MAC rates equal the target within ±0.5 pt in one run', () => {
  const data = synthetic(192, 1);
  for (const [metric, target] of [
    ['params', 0.8],
    ['flops', 0.6],
  ] as const) {
    const m = small();
    const r = pruneToRate(m, {
      target,
      metric,
      input,
      train: data,
      epochs: 2,
      batchSize: 32,
      seed: 1,
      optimizer: (p) => new SGD(p, { lr: 0.05, momentum: 0.9 }),
    });
    const got = metric === 'params' ? r.achieved.params : r.achieved.flops;
    assert.ok(Math.abs(got - target) <= 0.005, `${metric}: achieved ${got}, target ${target}`);
    // measured again on the returned weights, independently of the result object
    const c = countWeights(analyse(m, input));
    const again = metric === 'params' ? 1 - c.nonzero / c.params : 1 - c.effectiveMacs / c.macs;
    assertClose([again], [got], 1e-12);
    assert.ok(!m.namedParameters().some(([n]) => n.endsWith('Orig')), 'pruning made permanent');
  }
});

test('pruneToRate refuses bad and unreachable targets with the reason', () => {
  const data = synthetic(64, 2);
  const base = { input, train: data, epochs: 1, batchSize: 32, optimizer: (p: Tensor[]) => new SGD(p, { lr: 0.01 }) };
  for (const t of [0, 1, -0.2, 1.5, NaN])
    assert.throws(() => pruneToRate(small(), { ...base, target: t }), /strictly between 0 and 1/);
  assert.throws(() => pruneToRate(small(), { ...base, target: 0.995 }), /unreachable.*at most 98\.\d\d%/);
  assert.throws(() => pruneToRate(small(), { ...base, target: 0.99, structured: true }), /unreachable for this model/);
  assert.throws(() => pruneToRate(small(), { ...base, target: 0.5, metric: 'bytes' as 'params' }), /metric/);
});

test(
  'structured pruneToRate meets a FLOP budget; compact() deletes the channels, outputs equal the masked ' +
    'model, files shrink',
  () => {
    const data = synthetic(192, 3);
    const m = small();
    const r = pruneToRate(m, {
      target: 0.5,
      metric: 'flops',
      structured: true,
      input,
      train: data,
      epochs: 2,
      batchSize: 32,
      seed: 2,
      optimizer: (p) => new SGD(p, { lr: 0.05, momentum: 0.9 }),
    });
    assert.ok(Math.abs(r.achieved.flops - 0.5) <= 0.005, `achieved ${r.achieved.flops}`);
    assert.ok(r.channels!.some((c) => c.after < c.before));
    const x = Tensor.rand([5, ...input], new Rng(4));
    const masked = out(m, x);
    const { model: small2, report } = compact(m, input, { sparse: false });
    assertClose(out(small2, x), masked, 1e-5, 1e-5, 'compact vs masked');
    assert.deepEqual(
      report.removed.map((c) => c.after),
      r.channels!.map((c) => c.after),
    );
    const cc = countWeights(analyse(small2, input)),
      dense = r.dense;
    assertClose([1 - cc.macs / dense.macs], [r.achieved.flops], 1e-12, 0, 'compacted dense MACs = achieved rate');
    const dir = mkdtempSync(join(tmpdir(), 'frugal-prune-'));
    const spec = (mm: Sequential) => ({
      format: 'frugal-model' as const,
      version: 1 as const,
      input,
      layers: mm.layers.map((l) => l.toSpec()),
    });
    saveModel(join(dir, 'a.safetensors'), m, spec(m));
    saveModel(join(dir, 'b.safetensors'), small2, spec(small2));
    removePruning(m);
    saveModel(join(dir, 'a.safetensors'), m, spec(m));
    const ratio = dataBytes(join(dir, 'b.safetensors')) / dataBytes(join(dir, 'a.safetensors'));
    const elems = (mm: Module) => Object.values(mm.stateDict()).reduce((a, t) => a + t.size, 0);
    assertClose([ratio], [elems(small2) / elems(m)], 1e-12, 0, 'tensor bytes shrink with the kept entries');
    assert.ok(ratio < 0.8);
    const back = loadModel(join(dir, 'b.safetensors')).model;
    assertClose(out(back, x), masked, 1e-5, 1e-5, 'reloaded compact model');
  },
);

test(
  'structured pruneToRate keeps multiples of roundTo channels (default 4) where the band allows, any count ' +
    'with roundTo 1',
  () => {
    const data = synthetic(128, 5);
    const wide = () => buildModel(vggSpec([16, 16, 24, 24], [1, 12, 12], 4), 3);
    const opt = (p: Tensor[]) => new SGD(p, { lr: 0.05, momentum: 0.9 });
    const r4 = pruneToRate(wide(), {
      target: 0.5,
      metric: 'flops',
      structured: true,
      input,
      train: data,
      epochs: 1,
      batchSize: 32,
      seed: 2,
      optimizer: opt,
    });
    assert.ok(Math.abs(r4.achieved.flops - 0.5) <= 0.005, `achieved ${r4.achieved.flops}`);
    assert.ok(r4.channels!.some((c) => c.after < c.before));
    for (const c of r4.channels!)
      assert.ok(c.after % 4 === 0 || c.after === c.before, `layer ${c.layer} keeps ${c.after} of ${c.before}`);
    const r1 = pruneToRate(wide(), {
      target: 0.5,
      metric: 'flops',
      structured: true,
      roundTo: 1,
      input,
      train: data,
      epochs: 1,
      batchSize: 32,
      seed: 2,
      optimizer: opt,
    });
    assert.ok(Math.abs(r1.achieved.flops - 0.5) <= 0.005, `achieved ${r1.achieved.flops}`);
    assert.ok(
      r1.channels!.some((c) => c.after % 4 !== 0),
      `roundTo 1 may keep any count: ${JSON.stringify(r1.channels)}`,
    );
    for (const bad of [0, 2.5, -4])
      assert.throws(
        () =>
          pruneToRate(wide(), {
            target: 0.5,
            structured: true,
            roundTo: bad,
            input,
            train: data,
            epochs: 1,
            batchSize: 32,
            optimizer: opt,
          }),
        /roundTo must be an integer ≥ 1/,
      );
  },
);

test('compact() of an unstructured model stores CSR layers: same outputs, smaller file, reloads', () => {
  const m = small();
  for (const l of analyse(m, input).layers) l1Unstructured(l.module, { amount: 0.8 });
  const x = Tensor.randn([3, ...input], new Rng(5), 3);
  const masked = out(m, x);
  const spread = Math.max(...masked.map((v, i) => Math.abs(v - masked[i % 4])));
  assert.ok(spread > 1e-4, 'the outputs depend on the input (a degenerate net would hide a broken kernel)');
  const { model: sp, report } = compact(m, input);
  assert.ok(report.sparseLayers.length >= 3, `sparse layers ${report.sparseLayers}`);
  assert.ok(sp.layers.some((l) => l instanceof SparseConv2d) && sp.layers.some((l) => l instanceof SparseLinear));
  const head = sp.layers[sp.layers.length - 1] as SparseLinear,
    denseHead = m.layers[m.layers.length - 1] as Linear;
  assertClose(head.toDense(), denseHead.weight.data, 0, 0, 'CSR holds exactly the masked weights');
  assertClose(out(sp, x), masked, 1e-5, 1e-5, 'CSR model vs masked');
  const dir = mkdtempSync(join(tmpdir(), 'frugal-sparse-'));
  removePruning(m);
  const spec = (mm: Sequential) => ({
    format: 'frugal-model' as const,
    version: 1 as const,
    input,
    layers: mm.layers.map((l) => l.toSpec()),
  });
  saveModel(join(dir, 'd.safetensors'), m, spec(m));
  saveModel(join(dir, 's.safetensors'), sp, spec(sp));
  const r = dataBytes(join(dir, 's.safetensors')) / dataBytes(join(dir, 'd.safetensors'));
  assert.ok(r < 0.5, `CSR tensor bytes are ${r} of the dense ones`);
  assertClose(out(loadModel(join(dir, 's.safetensors')).model, x), masked, 1e-5, 1e-5, 'reloaded CSR model');
  const xg = Tensor.rand([1, ...input], new Rng(6));
  xg.requiresGrad = true;
  assert.throws(() => sp.forward(xg), /inference layer/);
});

test('proximal L1 drives weights to exactly zero during training', () => {
  const data = synthetic(128, 4);
  const m = small();
  const opt = new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 });
  const before = countWeights(analyse(m, input));
  assert.equal(before.nonzero, before.params);
  fit(m, {
    train: data,
    epochs: 2,
    batchSize: 32,
    optimizer: opt,
    callbacks: [proximalL1(m, { lambda: 0.5, optimizer: opt })],
  });
  const after = countWeights(analyse(m, input));
  assert.ok(after.nonzero < 0.8 * after.params, `non-zero ${after.nonzero} of ${after.params}`);
  assert.throws(() => proximalL1(m, { lambda: -1, optimizer: opt }), /lambda/);
});

test(
  'pruneToRate hands its optimizer factory the model, so circulant layers keep lr/N ' +
    'under SGD (as the CLI builds it)',
  () => {
    const spec: ModelSpec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 12, 12],
      layers: [
        { type: 'flatten' },
        { type: 'circlinear', in: 144, out: 32, block: 8 },
        { type: 'relu' },
        { type: 'linear', in: 32, out: 10 },
      ],
    };
    const model = buildModel(spec, 1) as Sequential;
    let made: Optimizer | null = null;
    pruneToRate(model, {
      target: 0.5,
      metric: 'params',
      input: [1, 12, 12],
      train: synthetic(64, 2),
      epochs: 1,
      batchSize: 32,
      optimizer: (_params, m) => (made = makeOptimizer('sgd', m, 0.05, 0.9, 0)),
    });
    const circ = model.layers[1] as CircLinear;
    assert.equal(made!.rateOf(circ.weight), 0.05 / 8, 'the circulant weight steps at lr/N');
    assert.equal(made!.rateOf((model.layers[3] as Linear).bias!), 0.05);
  },
);
