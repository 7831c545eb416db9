import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../src/index.js';
import {
  Adam,
  AdamW,
  Rng,
  SGD,
  Tensor,
  cosineSchedule,
  kaimingUniform_,
  orthogonal_,
  stepSchedule,
  warmup,
  xavierNormal_,
  backendFor,
  reference,
  setBackend,
  type Optimizer,
  type ParamGroup,
} from '../src/index.js';

test('orthogonal init gives orthonormal rows (wide) or columns (tall)', () => {
  for (const shape of [
    [4, 9],
    [9, 4],
    [6, 6],
  ]) {
    const t = orthogonal_(Tensor.zeros(shape), new Rng(1));
    const [r, c] = shape;
    const tall = r >= c;
    const k = tall ? c : r,
      n = tall ? r : c;
    for (let i = 0; i < k; i++)
      for (let j = 0; j < k; j++) {
        let d = 0;
        for (let q = 0; q < n; q++)
          d += tall ? t.data[q * c + i] * t.data[q * c + j] : t.data[i * c + q] * t.data[j * c + q];
        assert.ok(Math.abs(d - (i === j ? 1 : 0)) < 1e-5, `shape ${shape}: <${i},${j}> = ${d}`);
      }
  }
});

test('Kaiming and Xavier draw with the documented spread', () => {
  const k = kaimingUniform_(Tensor.zeros([256, 100]), new Rng(2));
  const bound = Math.sqrt(2) * Math.sqrt(3 / 100);
  assert.ok(k.toArray().every((v) => Math.abs(v) <= bound));
  const x = xavierNormal_(Tensor.zeros([300, 200]), new Rng(3));
  const std = Math.sqrt(x.toArray().reduce((s, v) => s + v * v, 0) / x.size);
  assert.ok(Math.abs(std - Math.sqrt(2 / 500)) < 0.002, `std ${std}`);
});

test('SGD with momentum and nesterov follows PyTorch formulas step by step', () => {
  for (const nesterov of [false, true]) {
    const p = Tensor.from([1, -2], [2]);
    p.requiresGrad = true;
    const opt = new SGD([p], { lr: 0.1, momentum: 0.9, nesterov, weightDecay: 0.01 });
    let x = [1, -2],
      buf: number[] | null = null;
    for (let step = 0; step < 3; step++) {
      const g = [0.5 * (step + 1), -0.25];
      p.grad = Tensor.from(g, [2]);
      opt.step();
      const gd = g.map((v, i) => v + 0.01 * x[i]);
      buf = buf ? buf.map((b, i) => 0.9 * b + gd[i]) : gd;
      x = x.map((v, i) => v - 0.1 * (nesterov ? gd[i] + 0.9 * buf![i] : buf![i]));
      assert.ok(
        p.toArray().every((v, i) => Math.abs(v - x[i]) < 1e-6),
        `nesterov=${nesterov} step ${step}: ${p.toArray()} vs ${x}`,
      );
    }
  }
});

test('Adam and AdamW follow Kingma & Ba / Loshchilov & Hutter on both backends', () => {
  for (const be of [null, reference]) {
    setBackend(be);
    for (const W of [Adam, AdamW]) {
      const p = Tensor.from([0.5, -1.5, 2], [3]);
      p.requiresGrad = true;
      const opt = new W([p], { lr: 0.01, weightDecay: 0.1 });
      let x = [0.5, -1.5, 2],
        m = [0, 0, 0],
        v = [0, 0, 0];
      for (let t = 1; t <= 4; t++) {
        const g = [0.3, -0.1 * t, 1];
        p.grad = Tensor.from(g, [3]);
        opt.step();
        x = x.map((xi, i) => {
          let gi = g[i];
          if (W === AdamW) xi -= 0.01 * 0.1 * xi;
          else gi += 0.1 * xi;
          m[i] = 0.9 * m[i] + 0.1 * gi;
          v[i] = 0.999 * v[i] + 0.001 * gi * gi;
          const mh = m[i] / (1 - 0.9 ** t),
            vh = v[i] / (1 - 0.999 ** t);
          return xi - (0.01 * mh) / (Math.sqrt(vh) + 1e-8);
        });
        assert.ok(
          p.toArray().every((val, i) => Math.abs(val - x[i]) < 1e-5),
          `${W.name} on ${backendFor('float32').name} t=${t}: ${p.toArray()} vs ${x}`,
        );
      }
    }
  }
  setBackend(null);
});

test("a parameter group's lr sets its rate in every term of SGD, Adam and AdamW; schedules scale groups alike", () => {
  type Make = (p: Tensor[] | ParamGroup[], lr: number) => Optimizer;
  const run = (opt: Make, groupLr: number | undefined, lr: number, schedule?: number) => {
    const p = Tensor.from([0.5, -1, 2, 0.25], [4]),
      q = Tensor.from([1, 2, -3, 0.5], [4]);
    const o = opt([{ params: [p], lr: groupLr }, { params: [q] }], lr);
    for (let k = 0; k < 3; k++) {
      if (schedule !== undefined && k === 1) o.lr = schedule;
      p.grad = Tensor.from([0.1 * k + 0.3, -0.2, 0.05, 1], [4]);
      q.grad = Tensor.from([0.2, 0.1 * k, -1, 0.5], [4]);
      o.step();
    }
    return [Array.from(p.data), Array.from(q.data)];
  };
  const alone = (opt: Make, lr: number, schedule?: number) => {
    const p = Tensor.from([0.5, -1, 2, 0.25], [4]),
      o = opt([p], lr);
    for (let k = 0; k < 3; k++) {
      if (schedule !== undefined && k === 1) o.lr = schedule;
      p.grad = Tensor.from([0.1 * k + 0.3, -0.2, 0.05, 1], [4]);
      o.step();
    }
    return Array.from(p.data);
  };
  const opts: [string, Make][] = [
    ['SGD', (p, lr) => new SGD(p, { lr, momentum: 0.9, weightDecay: 0.01 })],
    ['Adam', (p, lr) => new Adam(p, { lr, weightDecay: 0.01 })],
    ['AdamW', (p, lr) => new AdamW(p, { lr, weightDecay: 0.1 })],
  ];
  for (const [name, opt] of opts) {
    assert.deepEqual(
      run(opt, 0.02, 0.08)[0],
      alone(opt, 0.02),
      `${name}: a group at lr 0.02 steps as an optimizer at 0.02`,
    );
    assert.deepEqual(
      run(opt, 0.02, 0.08)[1],
      run(opt, undefined, 0.08)[1],
      `${name}: the other group keeps the optimizer's lr`,
    );
    assert.notDeepEqual(
      run(opt, 0.02, 0.08)[0],
      run(opt, undefined, 0.08)[0],
      `${name}: the group's lr changes the step`,
    );
    // A schedule halving the optimizer's lr halves the group's too (0.08 → 0.04 makes 0.02 → 0.01).
    assert.deepEqual(run(opt, 0.02, 0.08, 0.04)[0], alone(opt, 0.02, 0.01), `${name}: schedules scale the group`);
  }
  const p = Tensor.zeros([2]);
  assert.throws(
    () => new SGD([{ params: [p], lr: 0 }], { lr: 0.1 }),
    /parameter group 0: lr must be a positive number, got 0/,
  );
  assert.throws(() => new SGD([{ params: [p] }, { params: [p] }], { lr: 0.1 }), /more than one group/);
  assert.throws(() => new Adam([{ params: [p], weightDecay: -1 }]), /weight decay must be ≥ 0/);
  // A group's weight decay replaces the optimizer's for its parameters only.
  const a = Tensor.from([1, 1], [2]),
    b = Tensor.from([1, 1], [2]);
  const o = new SGD([{ params: [a], weightDecay: 0 }, { params: [b] }], { lr: 0.5, weightDecay: 0.2 });
  a.grad = Tensor.zeros([2]);
  b.grad = Tensor.zeros([2]);
  o.step();
  assert.deepEqual(
    [a.toArray(), b.toArray()],
    [
      [1, 1],
      [Math.fround(0.9), Math.fround(0.9)],
    ],
  );
});

test('optimizers refuse impossible hyperparameters', () => {
  const p = [Tensor.zeros([2])];
  assert.throws(() => new SGD(p, { lr: -1 }), /learning rate must be a positive number/);
  assert.throws(() => new SGD(p, { lr: 0.1, momentum: 1.5 }), /momentum must be in \[0, 1\)/);
  assert.throws(() => new SGD(p, { lr: 0.1, nesterov: true }), /nesterov needs momentum/);
  assert.throws(() => new Adam(p, { beta1: 1 }), /beta1 must be in \[0, 1\)/);
  assert.throws(() => new Adam([], {}), /no parameters/);
});

test('schedules: step, cosine and warm-up', () => {
  const s = stepSchedule(1, 2, 0.5);
  assert.deepEqual([0, 1, 2, 3, 4].map(s), [1, 1, 0.5, 0.5, 0.25]);
  const c = cosineSchedule(1, 10, 0.1);
  assert.equal(c(0), 1);
  assert.ok(Math.abs(c(5) - 0.55) < 1e-12);
  assert.ok(Math.abs(c(10) - 0.1) < 1e-12);
  const w = warmup(() => 2, 4);
  assert.deepEqual([0, 1, 2, 3, 4, 9].map(w), [0.5, 1, 1.5, 2, 2, 2]);
});

test('the seeded RNG repeats with the same seed and state', () => {
  const a = new Rng(5),
    b = new Rng(5);
  const xs = Array.from({ length: 5 }, () => a.random());
  assert.deepEqual(
    xs,
    Array.from({ length: 5 }, () => b.random()),
  );
  const st = a.getState();
  const next = a.normal();
  a.setState(st);
  assert.equal(a.normal(), next);
  assert.notDeepEqual(
    xs,
    Array.from({ length: 5 }, () => new Rng(6).random()),
  );
});

test('bernoulliMask draws as random() < p does, element by element, and leaves the same state', () => {
  for (const p of [0.5, 0.1, 0.25, 1e-9, 0.999]) {
    const a = new Rng(11),
      b = new Rng(11),
      mask = new Float32Array(100_003);
    a.bernoulliMask(mask, p, 2.5);
    const want = Float32Array.from(mask, () => (b.random() < p ? 0 : 2.5));
    assert.deepEqual(mask, want, `p ${p}`);
    assert.deepEqual(a.getState(), b.getState());
    const zeros = mask.filter((v) => v === 0).length / mask.length;
    assert.ok(Math.abs(zeros - p) < 0.01, `share of zeros ${zeros} at p ${p}`);
  }
  // dropout keeps its stream: the same seed gives the same mask as the per-element loop it replaced.
  const x = F.Tensor.from(new Float32Array(4096).fill(1), [64, 64]);
  const y = F.dropout(x, 0.3, new Rng(3)),
    r = new Rng(3);
  assert.deepEqual(
    y.data,
    Float32Array.from(y.data, () => (r.random() < 0.3 ? 0 : 1 / 0.7)),
  );
});

test('float64 tensors train end to end and agree with float32', () => {
  assert.equal(backendFor('float64'), reference);
  const run = (dtype: 'float32' | 'float64') => {
    const w = Tensor.randn([3, 4], new Rng(1), 1, dtype);
    w.requiresGrad = true;
    const x = Tensor.randn([2, 3], new Rng(2), 1, dtype);
    F.sum(F.tanh(F.matmul(x, w))).backward();
    return { grad: w.grad!, type: w.grad!.data.constructor };
  };
  const a = run('float64'),
    b = run('float32');
  assert.equal(a.type, Float64Array);
  assert.equal(b.type, Float32Array);
  a.grad.toArray().forEach((v, i) => assert.ok(Math.abs(v - b.grad.data[i]) < 1e-5));
});
