import { test } from 'node:test';
import assert from 'node:assert/strict';
import { add, applyMask, Linear, mul, noGrad, removePruning, Rng, Sequential, Tensor } from '../src/index.js';

test("forward pre-hooks and hooks run around a module's forward, in order, and go when removed in any order", () => {
  const l = new Linear(3, 2, { rng: new Rng(1) }),
    net = new Sequential(l);
  const x = Tensor.from([1, 2, 3], [1, 3]);
  const plain = noGrad(() => net.forward(x)).toArray();
  const calls: string[] = [];
  const a = l.registerForwardPreHook((_m, v) => {
    calls.push('pre');
    return mul(v, 2);
  });
  const b = l.registerForwardHook((_m, _v, y) => {
    calls.push('post1');
    return add(y, 1);
  });
  const c = l.registerForwardHook(() => {
    calls.push('post2');
  });
  const hooked = noGrad(() => net.forward(x)).toArray();
  assert.deepEqual(calls, ['pre', 'post1', 'post2']);
  const want = noGrad(() => l.constructor.prototype.forward.call(l, mul(x, 2)))
    .toArray()
    .map((v: number) => v + 1);
  assert.deepEqual(hooked, want, 'the input doubled before, one added after');
  b.remove();
  assert.deepEqual(
    noGrad(() => net.forward(x)).toArray(),
    noGrad(() => Linear.prototype.forward.call(l, mul(x, 2))).toArray(),
  );
  a.remove();
  c.remove();
  assert.deepEqual(noGrad(() => net.forward(x)).toArray(), plain);
  assert.ok(!Object.prototype.hasOwnProperty.call(l, 'forward'), "no hooks: the class's forward again");
});

test(
  'pruning works through hooks: masked forward with gradients through the mask, nothing ' + 'left after removePruning',
  () => {
    const l = new Linear(4, 2, { rng: new Rng(2) });
    const mask = [1, 0, 1, 0, 0, 1, 1, 1];
    applyMask(l, 'weight', mask);
    const x = Tensor.from([1, -1, 2, 0.5], [1, 4]);
    const y = l.forward(x);
    y.backward(Tensor.ones([1, 2]));
    const g = l
      .namedParameters()
      .find(([n]) => n === 'weightOrig')![1]
      .grad!.toArray();
    mask.forEach((m, i) => {
      if (!m) assert.equal(Math.abs(g[i]), 0, `pruned entry ${i} gets no gradient`);
    });
    assert.ok(g.some((v) => v !== 0));
    removePruning(l);
    assert.ok(!Object.prototype.hasOwnProperty.call(l, 'forward'));
    assert.deepEqual(noGrad(() => l.forward(x)).toArray(), noGrad(() => y).toArray());
  },
);

test('hooks wrap a forward the instance carries itself, and removing them puts that forward back', () => {
  const l = new Linear(2, 2, { rng: new Rng(3) });
  const own = (x: Tensor) => mul(x, 3);
  (l as { forward: (x: Tensor) => Tensor }).forward = own;
  let calls = 0;
  const h = l.registerForwardHook(() => {
    calls++;
  });
  const x = Tensor.from([1, 2], [1, 2]);
  assert.deepEqual(l.forward(x).toArray(), [3, 6], 'the own forward runs under the hook');
  assert.equal(calls, 1);
  h.remove();
  assert.equal(l.forward, own, 'the own forward is back');
});

test('a pruned weight read after a forward that threw is the fresh product once its values changed', () => {
  const l = new Linear(3, 2, { rng: new Rng(4) });
  applyMask(l, 'weight', [1, 0, 1, 1, 1, 0]);
  assert.throws(() => l.forward(Tensor.zeros([1, 5])), /last dimension 5/);
  const orig = l.namedParameters().find(([n]) => n === 'weightOrig')![1];
  orig.data.fill(2);
  orig.markChanged();
  assert.deepEqual(l.weight.toArray(), [2, 0, 2, 2, 2, 0]);
});
