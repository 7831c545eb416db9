import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  DataLoader,
  loadFashionMnist,
  Rng,
  sequentialSampler,
  shuffleSampler,
  SUBSET_DIR,
  subset,
  weightedSampler,
  type Sampler,
} from '../src/node.js';

const data = loadFashionMnist(SUBSET_DIR);
const ds = subset(
  data.train,
  Array.from({ length: 50 }, (_, i) => i),
);
const rows = (s: Sampler, epoch: number, n: number, bs: number, dropLast = false) =>
  [...s.batches(epoch, n, bs, dropLast)].map((b) => Array.from(b.index));

test('the shuffle sampler gives the batches the loader gave before samplers, for the same seed', () => {
  // The loader's order before samplers: one Fisher–Yates pass seeded by (seed, epoch).
  const before = (seed: number, epoch: number, n: number) =>
    Array.from(new Rng((seed * 1000003 + epoch * 7919) >>> 0).shuffle(Int32Array.from({ length: n }, (_, i) => i)));
  for (const [seed, epoch] of [
    [0, 0],
    [3, 1],
    [17, 5],
  ]) {
    const loader = new DataLoader(ds, { batchSize: 8, shuffle: true, seed, dropLast: true });
    const got = [...loader.batches(epoch)].map((b) => Array.from(b.index));
    const want = before(seed, epoch, 50);
    assert.deepEqual(
      got,
      Array.from({ length: 6 }, (_, b) => want.slice(8 * b, 8 * b + 8)),
    );
    assert.deepEqual(rows(shuffleSampler(seed), epoch, 50, 8, true), got);
  }
  assert.deepEqual(rows(sequentialSampler(), 0, 5, 2), [[0, 1], [2, 3], [4]]);
  assert.deepEqual(
    [...new DataLoader(ds, { batchSize: 20 }).batches(0)].map((b) => b.index[0]),
    [0, 20, 40],
  );
});

test('the weighted sampler draws rows in proportion to p, never a row with p = 0, and weights rows by 1/(n·p)', () => {
  const p = [0, 1, 2, 3, 4, 0, 10];
  const counts = new Array(p.length).fill(0);
  const s = weightedSampler(p, { seed: 1, numSamples: 7000 });
  for (const b of s.batches(0, 7, 100, false)) for (const i of b.index) counts[i]++;
  const total = p.reduce((a, b) => a + b, 0);
  p.forEach((pi, i) => {
    const expect = (7000 * pi) / total,
      sd = Math.sqrt(expect * (1 - pi / total));
    assert.ok(
      Math.abs(counts[i] - expect) <= 4 * sd + 1e-9,
      `row ${i}: ${counts[i]} drawn, expected ${expect.toFixed(0)} ± ${sd.toFixed(0)}`,
    );
  });
  // Unbiased weights: the weighted mean of f over the draws estimates the uniform mean of f.
  const f = [5, -1, 2, 7, 3, 9, 1].map((v, i) => (p[i] ? v : 0));
  const u = weightedSampler(p, { seed: 2, numSamples: 20000, unbiased: true });
  let est = 0,
    k = 0;
  for (const b of u.batches(0, 7, 500, false))
    b.index.forEach((i, j) => {
      est += b.weight![j] * f[i];
      k++;
    });
  const uniform = f.reduce((a, b) => a + b, 0) / 7;
  assert.ok(Math.abs(est / k - uniform) < 0.1, `importance-weighted mean ${est / k} against ${uniform}`);
  // The same seed and epoch give the same draws; another epoch another.
  assert.deepEqual(rows(weightedSampler(p, { seed: 3 }), 2, 7, 3), rows(weightedSampler(p, { seed: 3 }), 2, 7, 3));
  assert.notDeepEqual(
    rows(weightedSampler(p, { seed: 3, numSamples: 50 }), 2, 7, 5),
    rows(weightedSampler(p, { seed: 3, numSamples: 50 }), 3, 7, 5),
  );
});

test('without replacement the weighted sampler draws distinct rows; impossible settings are refused by name', () => {
  const p = [1, 1, 1, 1, 0, 5];
  for (let e = 0; e < 20; e++) {
    const got = rows(weightedSampler(p, { replacement: false, seed: e, numSamples: 5 }), e, 6, 2).flat();
    assert.equal(new Set(got).size, 5);
    assert.ok(!got.includes(4));
  }
  const draw = (q: number[], o = {}) => rows(weightedSampler(q, o), 0, q.length, 2);
  assert.throws(() => draw(p, { replacement: false }), /6 rows asked without replacement, only 5 have p > 0/);
  assert.throws(() => draw([1, -1]), /probability -1 at row 1 is not a finite number ≥ 0/);
  assert.throws(() => draw([0, 0]), /sum to 0/);
  assert.throws(() => rows(weightedSampler([1, 2]), 0, 3, 2), /2 probabilities for 3 rows/);
  assert.throws(() => draw([1, 2], { numSamples: 0 }), /numSamples must be a positive integer/);
});

test('a user-written sampler drives the loader; rows out of range are refused by name', () => {
  const evens: Sampler = {
    *batches(_e, n, bs) {
      for (let i = 0; i < n; i += 2 * bs)
        yield { index: Int32Array.from({ length: bs }, (_, k) => i + 2 * k).filter((v) => v < n) };
    },
  };
  const loader = new DataLoader(ds, { batchSize: 4, sampler: evens });
  const got = [...loader.batches(0)];
  assert.deepEqual(Array.from(got[0].index), [0, 2, 4, 6]);
  assert.deepEqual(
    Array.from(got[0].y),
    [0, 2, 4, 6].map((i) => ds.labels[i]),
  );
  assert.equal(loader.length, 13, 'length defaults to ⌈n / batch size⌉');
  const bad: Sampler = {
    *batches() {
      yield { index: Int32Array.from([0, 50]) };
    },
  };
  assert.throws(
    () => [...new DataLoader(ds, { batchSize: 2, sampler: bad }).batches(0)],
    /batch row 50 is outside the dataset's 50 rows/,
  );
  assert.throws(() => new DataLoader(ds, { batchSize: 2, sampler: bad, shuffle: true }), /either a sampler or shuffle/);
});
