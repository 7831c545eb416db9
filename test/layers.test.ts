import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../src/index.js';
import {
  AvgPool2d,
  BatchNorm1d,
  BatchNorm2d,
  Conv1d,
  Conv2d,
  Dropout,
  Flatten,
  GlobalPool2d,
  Linear,
  MaxPool1d,
  MaxPool2d,
  Module,
  Rng,
  Sequential,
  SGD,
  Tensor,
  buildModel,
  ReLU,
  Tanh,
  LeakyReLU,
  Sigmoid,
  Hardtanh,
  noGrad,
  Normalize,
  specOf,
} from '../src/index.js';

interface Case {
  name: string;
  make: () => Module;
  input: number[];
  output: number[];
  params: number;
}

const cases: Case[] = [
  {
    name: 'Linear',
    make: () => new Linear(6, 4, { rng: new Rng(1) }),
    input: [5, 6],
    output: [5, 4],
    params: 6 * 4 + 4,
  },
  {
    name: 'Linear without bias',
    make: () => new Linear(6, 4, { bias: false }),
    input: [5, 6],
    output: [5, 4],
    params: 24,
  },
  {
    name: 'Conv2d',
    make: () => new Conv2d(3, 5, 3, { padding: 1, rng: new Rng(2) }),
    input: [2, 3, 6, 7],
    output: [2, 5, 6, 7],
    params: 5 * 3 * 9 + 5,
  },
  {
    name: 'Conv2d stride 2',
    make: () => new Conv2d(2, 4, 3, { stride: 2 }),
    input: [2, 2, 9, 9],
    output: [2, 4, 4, 4],
    params: 4 * 2 * 9 + 4,
  },
  {
    name: 'Conv1d',
    make: () => new Conv1d(3, 4, 5, { padding: 2 }),
    input: [2, 3, 10],
    output: [2, 4, 10],
    params: 4 * 3 * 5 + 4,
  },
  { name: 'MaxPool2d', make: () => new MaxPool2d(2), input: [2, 3, 8, 7], output: [2, 3, 4, 3], params: 0 },
  { name: 'AvgPool2d', make: () => new AvgPool2d(3, 1, 1), input: [2, 3, 5, 5], output: [2, 3, 5, 5], params: 0 },
  { name: 'MaxPool1d', make: () => new MaxPool1d(2), input: [2, 3, 9], output: [2, 3, 4], params: 0 },
  { name: 'GlobalPool2d avg', make: () => new GlobalPool2d('avg'), input: [2, 3, 4, 4], output: [2, 3], params: 0 },
  { name: 'GlobalPool2d max', make: () => new GlobalPool2d('max'), input: [2, 3, 4, 4], output: [2, 3], params: 0 },
  { name: 'BatchNorm1d', make: () => new BatchNorm1d(6), input: [8, 6], output: [8, 6], params: 12 },
  { name: 'BatchNorm2d', make: () => new BatchNorm2d(3), input: [4, 3, 5, 5], output: [4, 3, 5, 5], params: 6 },
  { name: 'Dropout', make: () => new Dropout(0.3, 1), input: [4, 10], output: [4, 10], params: 0 },
  { name: 'Flatten', make: () => new Flatten(), input: [2, 3, 4, 5], output: [2, 60], params: 0 },
  {
    name: 'Normalize per channel',
    make: () => new Normalize([0.5, -1, 2], [0.25, 1, 4]),
    input: [2, 3, 4, 5],
    output: [2, 3, 4, 5],
    params: 0,
  },
  {
    name: 'activations',
    make: () => new Sequential(ReLU(), Tanh(), LeakyReLU(0.2), Sigmoid(), Hardtanh()),
    input: [3, 4],
    output: [3, 4],
    params: 0,
  },
  {
    name: 'Sequential CNN',
    make: () => buildModel(F.referenceCnn, 3),
    input: [2, 1, 28, 28],
    output: [2, 10],
    params: 108618,
  },
  {
    name: 'Sequential MLP',
    make: () => buildModel(F.referenceMlp, 3),
    input: [2, 784],
    output: [2, 10],
    params: 784 * 256 + 256 + 256 * 128 + 128 + 1290,
  },
];

for (const c of cases) {
  test(`layer harness: ${c.name} (shapes, parameter count, state-dict round trip, a training step)`, () => {
    const rng = new Rng(11);
    const m = c.make();
    const x = Tensor.randn(c.input, rng);
    const y = m.forward(x);
    assert.deepEqual(y.shape, c.output, 'output shape');
    assert.equal(m.paramCount(), c.params, 'parameter count');

    // state dict round trip into a differently initialised twin gives identical eval outputs
    const twin = c.make();
    for (const p of twin.parameters()) p.data.fill(0.123);
    twin.loadStateDict(m.stateDict());
    m.eval();
    twin.eval();
    const a = noGrad(() => m.forward(x)),
      b = noGrad(() => twin.forward(x));
    assert.deepEqual(Array.from(b.data), Array.from(a.data), 'state-dict round trip changes outputs');
    m.train();

    if (c.params === 0) return;
    // one SGD step on a fixed target lowers the loss
    const target = Tensor.randn(c.output, new Rng(5));
    const opt = new SGD(m.parameters(), { lr: 0.01 });
    const loss = () => F.mse(m.forward(x), target);
    if (m.namedModules().some(([, l]) => l instanceof Dropout)) m.eval();
    const before = loss();
    opt.zeroGrad();
    before.backward();
    opt.step();
    const after = noGrad(loss);
    assert.ok(after.item() < before.item(), `loss did not fall: ${before.item()} → ${after.item()}`);
    for (const p of m.parameters()) assert.ok(p.grad, 'every parameter received a gradient');
  });
}

test('loadStateDict refuses missing names and wrong shapes with the name', () => {
  const m = new Linear(3, 2);
  assert.throws(() => m.loadStateDict({ weight: Tensor.zeros([2, 3]) }), /missing \[bias\]/);
  assert.throws(
    () => m.loadStateDict({ weight: Tensor.zeros([3, 2]), bias: Tensor.zeros([2]) }),
    /weight has shape \[3, 2\].*\[2, 3\]/,
  );
});

test('BatchNorm updates running statistics in training and uses them in eval', () => {
  const bn = new BatchNorm1d(2, 0.5);
  const x = Tensor.from([1, 10, 3, 20, 5, 30], [3, 2]);
  bn.forward(x);
  // batch mean [3, 20]; unbiased var [4, 100]; r = 0.5·r + 0.5·batch
  assert.deepEqual(Array.from(bn.runningMean.data), [1.5, 10]);
  assert.deepEqual(Array.from(bn.runningVar.data), [2.5, 50.5]);
  bn.eval();
  const y = bn.forward(Tensor.from([1.5, 10], [1, 2]));
  assert.ok(Math.abs(y.data[0]) < 1e-6 && Math.abs(y.data[1]) < 1e-6);
});

test('Dropout is the identity in eval mode and scales survivors by 1/(1-p) in training', () => {
  const d = new Dropout(0.5, 3);
  const x = Tensor.ones([1000]);
  const y = d.forward(x);
  const kept = y.toArray().filter((v) => v !== 0);
  assert.ok(kept.every((v) => v === 2));
  assert.ok(kept.length > 400 && kept.length < 600, `kept ${kept.length} of 1000`);
  d.eval();
  assert.equal(d.forward(x), x);
});

test(
  'Normalize computes (x − mean_c) / std_c per channel, passes gradients 1/std_c, and round-trips through the ' +
    'spec',
  () => {
    const n = new Normalize([1, -2], [2, 0.5]);
    const x = Tensor.from([3, 5, -2, 0, 1, 1, 0, -1], [2, 2, 2]);
    x.requiresGrad = true;
    const y = n.forward(x);
    assert.deepEqual(Array.from(y.data), [1, 2, 0, 4, 0, 0, 4, 2]);
    F.sum(y).backward();
    assert.deepEqual(Array.from(x.grad!.data), [0.5, 0.5, 2, 2, 0.5, 0.5, 2, 2]);
    // one value for every channel, on a flat [N, features] batch
    assert.deepEqual(Array.from(new Normalize(1, 2).forward(Tensor.from([1, 3, 5], [1, 3])).data), [0, 1, 2]);
    const spec = { format: 'frugal-model' as const, version: 1 as const, input: [2, 2], layers: [n.toSpec()] };
    const m = buildModel(spec);
    assert.deepEqual(specOf(m, [2, 2]), spec);
    assert.deepEqual(Array.from(noGrad(() => m.forward(x)).data), Array.from(y.data));
    assert.throws(() => new Normalize([0, 0], [1]), /mean has 2 values but std has 1/);
    assert.throws(() => new Normalize(0, 0), /std must be positive/);
    assert.throws(() => new Normalize([], []), /mean must be a finite number or a non-empty array/);
    assert.throws(() => n.forward(Tensor.zeros([1, 3, 2])), /statistics for 2 channels but the input has 3/);
    assert.throws(
      () => buildModel({ ...spec, layers: [{ type: 'normalize', mean: [0], std: ['x'] }] }),
      /layer 0: Normalize: std must be positive/,
    );
  },
);

test('broadcasting over runs (a per-channel bias) gives the element-by-element result', () => {
  const rng = new Rng(5);
  for (const [as, bs] of [
    [
      [2, 3, 4, 5],
      [1, 3, 1, 1],
    ],
    [
      [2, 3, 4, 5],
      [3, 1, 1],
    ],
    [
      [2, 3, 4, 5],
      [2, 1, 1, 1],
    ],
    [
      [2, 3, 4, 5],
      [1, 3, 4, 1],
    ],
    [
      [2, 3, 4, 5],
      [1, 3, 1, 5],
    ],
  ]) {
    const a = Tensor.rand(as, rng),
      b = Tensor.rand(bs, rng, 0.5, 2);
    const full = (i: number[]) =>
      b.data[bs.reduce((off, n, d) => off * n + (n === 1 ? 0 : i[d + as.length - bs.length]), 0)];
    for (const [op, f] of [
      [F.add, (x: number, y: number) => x + y],
      [F.sub, (x: number, y: number) => x - y],
      [F.mul, (x: number, y: number) => x * y],
      [F.div, (x: number, y: number) => x / y],
    ] as const) {
      const o = op(a, b);
      for (let k = 0; k < a.size; k++) {
        const idx = as.map((_, d) => Math.floor(k / as.slice(d + 1).reduce((p, q) => p * q, 1)) % as[d]);
        assert.equal(o.data[k], Math.fround(f(a.data[k], full(idx))), `${op.name} [${as}] by [${bs}] at ${k}`);
      }
    }
  }
});

test('binConv2d equals one conv2d per bin, forward and gradients (float32 kernels)', () => {
  const rng = new Rng(8),
    H = 3;
  const x = Tensor.rand([H, 2, 4, 6, 5], rng, -1, 1),
    w = Tensor.rand([H, 5, 4, 3, 3], rng, -1, 1);
  x.requiresGrad = true;
  w.requiresGrad = true;
  const y = F.binConv2d(x, w, { padding: 1 });
  const gy = Tensor.rand(y.shape, rng, -1, 1);
  F.sum(F.mul(y, gy)).backward();
  const slab = (t: Tensor, h: number) => {
    const n = t.size / H;
    return new Tensor(Float32Array.from(t.data.subarray(h * n, (h + 1) * n)), t.shape.slice(1));
  };
  for (let h = 0; h < H; h++) {
    const xh = slab(x, h),
      wh = slab(w, h);
    xh.requiresGrad = true;
    wh.requiresGrad = true;
    const yh = F.conv2d(xh, wh, null, { padding: 1 });
    F.sum(F.mul(yh, slab(gy, h))).backward();
    assert.deepEqual(Array.from(slab(y, h).data), Array.from(yh.data), `bin ${h} output`);
    assert.deepEqual(Array.from(slab(x.grad!, h).data), Array.from(xh.grad!.data), `bin ${h} input gradient`);
    assert.deepEqual(Array.from(slab(w.grad!, h).data), Array.from(wh.grad!.data), `bin ${h} weight gradient`);
  }
  assert.throws(
    () => F.binConv2d(x, Tensor.zeros([2, 5, 4, 3, 3])),
    /the same H, got \[3, 2, 4, 6, 5\] and \[2, 5, 4, 3, 3\]/,
  );
  assert.throws(
    () => F.binConv2d(x, Tensor.zeros([3, 5, 3, 3, 3])),
    /binConv2d: input has 4 channels but the weights expect 3/,
  );
});

test('bad layer arguments and bad inputs give errors that name the problem', () => {
  assert.throws(() => new Linear(0, 3), /in must be an integer ≥ 1/);
  assert.throws(() => new Conv2d(3, 4, 3, { stride: 0 }), /stride must be an integer ≥ 1/);
  assert.throws(() => new Dropout(1), /p must be in \[0, 1\)/);
  assert.throws(() => new Linear(4, 2).forward(Tensor.zeros([3, 5])), /Linear\(4→2\) got input with last dimension 5/);
  assert.throws(
    () => new Conv2d(3, 4, 3).forward(Tensor.zeros([1, 2, 8, 8])),
    /input has 2 channels but the weights expect 3/,
  );
  assert.throws(() => new Conv2d(1, 1, 5).forward(Tensor.zeros([1, 1, 3, 3])), /does not fit a 3×3 input/);
  assert.throws(() => F.add(Tensor.zeros([2, 3]), Tensor.zeros([4])), /cannot be broadcast/);
  assert.throws(() => F.matmul(Tensor.zeros([2, 3]), Tensor.zeros([4, 2])), /inner dimensions differ/);
  assert.throws(() => F.crossEntropy(Tensor.zeros([2, 3]), [0, 3]), /label 3 at row 1 is outside 0..2/);
  assert.throws(() => F.reshape(Tensor.zeros([2, 3]), [4, 2]), /cannot reshape/);
});

test('model spec: unknown layers and shape mismatches are refused with the layer named', () => {
  const base = { format: 'frugal-model' as const, version: 1 as const, input: [4] };
  assert.throws(
    () => buildModel({ ...base, layers: [{ type: 'lstm' }] }),
    /layer 0: unknown layer type 'lstm'; known types:/,
  );
  assert.throws(
    () =>
      buildModel({
        ...base,
        layers: [
          { type: 'linear', in: 4, out: 3 },
          { type: 'linear', in: 5, out: 2 },
        ],
      }),
    /layer 1 \(linear\) does not fit its input \[2, 3\]/,
  );
  assert.throws(() => buildModel({ ...base, layers: [{ type: 'linear', in: 4 }] }), /needs a numeric 'out'/);
  assert.throws(
    () => buildModel({ ...base, input: [-1], layers: [{ type: 'relu' }] }),
    /"input" must be the shape of one sample/,
  );
});

test('the same seed builds the same model; another seed a different one', () => {
  const a = buildModel(F.referenceMlp, 7),
    b = buildModel(F.referenceMlp, 7),
    c = buildModel(F.referenceMlp, 8);
  assert.deepEqual(
    Array.from(a.parameters()[0].data.subarray(0, 50)),
    Array.from(b.parameters()[0].data.subarray(0, 50)),
  );
  assert.notDeepEqual(
    Array.from(a.parameters()[0].data.subarray(0, 50)),
    Array.from(c.parameters()[0].data.subarray(0, 50)),
  );
});
