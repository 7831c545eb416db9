import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  backprop,
  buildModel,
  distillation,
  crossEntropy,
  distillLoss,
  fit,
  loadFashionMnist,
  Linear,
  Rng,
  SUBSET_DIR,
  subset,
  Tensor,
  referenceMlp,
  noGrad,
  argmax,
} from '../src/node.js';
import { assertClose } from './helpers.js';

/** A "teacher" that returns fixed logits whatever its input. */
class Fixed extends Linear {
  constructor(private readonly out: Tensor) {
    super(1, out.shape[1]);
  }
  override forward(): Tensor {
    return this.out;
  }
}

const softmaxRows = (z: ArrayLike<number>, n: number, c: number, T: number): number[] => {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const row = Array.from({ length: c }, (_, j) => z[i * c + j] / T),
      m = Math.max(...row),
      e = row.map((v) => Math.exp(v - m)),
      s = e.reduce((a, b) => a + b, 0);
    out.push(...e.map((v) => v / s));
  }
  return out;
};

test(
  'distillation loss: its value and gradient match the closed forms; α = 0 is the cross-entropy; bad settings ' +
    'are refused',
  () => {
    const n = 5,
      c = 4,
      rng = new Rng(1);
    const z = Tensor.randn([n, c], rng),
      t = Tensor.randn([n, c], rng),
      y = Int32Array.from([0, 3, 1, 2, 3]);
    const teacher = new Fixed(t),
      x = Tensor.zeros([n, 1]);
    for (const [T, alpha] of [
      [1, 0.5],
      [4, 0.7],
      [2, 1],
    ]) {
      z.requiresGrad = true;
      z.grad = null;
      const loss = distillLoss(z, y, x, { teacher, temperature: T, alpha });
      loss.backward();
      const p = softmaxRows(t.data, n, c, T),
        q = softmaxRows(z.data, n, c, T),
        s = softmaxRows(z.data, n, c, 1);
      let kl = 0,
        ce = 0;
      for (let i = 0; i < n * c; i++) kl += p[i] * Math.log(p[i] / q[i]);
      for (let i = 0; i < n; i++) ce -= Math.log(s[i * c + y[i]]);
      assert.ok(
        Math.abs(loss.item() - (((1 - alpha) * ce) / n + (alpha * T * T * kl) / n)) < 1e-5,
        `value T=${T} α=${alpha}`,
      );
      // d/dz = (1 − α)(softmax(z) − onehot(y))/n + α·T·(q_T − p_T)/n
      const g = Array.from(
        { length: n * c },
        (_, i) => ((1 - alpha) * (s[i] - (y[Math.floor(i / c)] === i % c ? 1 : 0)) + alpha * T * (q[i] - p[i])) / n,
      );
      assertClose(z.grad!.data, g, 1e-6, 1e-4, `gradient T=${T} α=${alpha}`);
    }
    z.requiresGrad = false;
    assert.equal(distillLoss(z, y, x, { teacher, alpha: 0 }).item(), crossEntropy(z, y).item());
    const lowT = /temperature must be a finite number ≥ 1/;
    assert.throws(() => distillLoss(z, y, x, { teacher, temperature: 0.5 }), lowT);
    assert.throws(() => distillLoss(z, y, x, { teacher, alpha: 1.5 }), /alpha must lie in \[0, 1\]/);
    assert.throws(
      () => distillLoss(z, y, x, { teacher: new Fixed(Tensor.zeros([n, 3])) }),
      /the teacher gives \[5,3\] where the model gives \[5,4\]/,
    );
  },
);

test('fit with distillation moves the student toward the teacher, which is left unchanged', () => {
  const data = loadFashionMnist(SUBSET_DIR),
    small = subset(
      data.train,
      Array.from({ length: 512 }, (_, i) => i),
    );
  const teacher = buildModel(referenceMlp, 1);
  fit(teacher, {
    train: small,
    epochs: 2,
    batchSize: 64,
    optimizer: new Adam(teacher.parameters(), { lr: 2e-3 }),
    seed: 1,
    inputShape: [784],
  });
  const before = teacher.parameters().map((p) => p.data.slice());
  const x = new Tensor(
    Float32Array.from(small.images.subarray(0, 256 * 784), (v) => v / 255),
    [256, 784],
  );
  const agree = (m: typeof teacher) =>
    noGrad(() => {
      const a = argmax(m.forward(x)),
        b = argmax(teacher.forward(x));
      return a.filter((v, i) => v === b[i]).length / a.length;
    });
  // Pure imitation (α = 1) from a fresh model: agreement with the teacher's predictions rises.
  const student = buildModel(referenceMlp, 2);
  const a0 = agree(student);
  fit(student, {
    train: small,
    epochs: 2,
    batchSize: 64,
    optimizer: new Adam(student.parameters(), { lr: 2e-3 }),
    seed: 2,
    inputShape: [784],
    step: backprop({ loss: distillation({ teacher, alpha: 1 }) }),
  });
  assert.ok(agree(student) > a0 + 0.3, `agreement ${a0} → ${agree(student)}`);
  teacher.parameters().forEach((p, i) => assert.deepEqual(p.data, before[i], 'teacher unchanged'));
  assert.throws(() => distillation({ teacher, temperature: 0 }), /temperature/);
});
