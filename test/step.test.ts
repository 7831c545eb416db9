import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  backprop,
  buildModel,
  crossEntropy,
  drawBatch,
  epochRng,
  fit,
  Linear,
  loadFashionMnist,
  logitGradNorm,
  perSampleCrossEntropy,
  shuffleSampler,
  matmul,
  Module,
  noGrad,
  NonFiniteLossError,
  normaliseProbabilities,
  referenceMlp,
  Rng,
  SGD,
  SUBSET_DIR,
  subset,
  Tensor,
  type Batch,
  type CheckpointStore,
  type FitOptions,
  type LayerSpec,
  type Sampler,
  type TrainStep,
} from '../src/node.js';

const data = loadFashionMnist(SUBSET_DIR);
const small = subset(
  data.train,
  Array.from({ length: 384 }, (_, i) => i),
);

function memoryStore(): CheckpointStore & { bytes: Uint8Array | null } {
  const s = {
    bytes: null as Uint8Array | null,
    save(b: Uint8Array) {
      s.bytes = b.slice();
    },
    load: () => s.bytes,
  };
  return s;
}

/** A fixed random projection of the pixels to 16 features, then a linear head. */
class Projected extends Module {
  readonly head: Linear;
  readonly proj: Tensor;
  constructor(seed: number) {
    super();
    this.proj = this.registerBuffer('proj', Tensor.randn([784, 16], new Rng(7), 0.05));
    this.head = this.registerModule('head', new Linear(16, 10, { rng: new Rng(seed) }));
  }
  features(x: Tensor): Tensor {
    return matmul(x, this.proj);
  }
  forward(x: Tensor): Tensor {
    return this.head.forward(this.features(x));
  }
  toSpec(): LayerSpec {
    return { type: 'projected' };
  }
}

/** Solve (A + λI) w = b for symmetric positive definite A by Gaussian elimination (small sizes). */
function solve(A: Float64Array, b: Float64Array, n: number, m: number): Float64Array {
  const a = A.slice(),
    x = b.slice();
  for (let k = 0; k < n; k++) {
    for (let i = k + 1; i < n; i++) {
      const f = a[i * n + k] / a[k * n + k];
      for (let j = k; j < n; j++) a[i * n + j] -= f * a[k * n + j];
      for (let c = 0; c < m; c++) x[i * m + c] -= f * x[k * m + c];
    }
  }
  for (let k = n - 1; k >= 0; k--) {
    for (let c = 0; c < m; c++) {
      let s = x[k * m + c];
      for (let j = k + 1; j < n; j++) s -= a[k * n + j] * x[j * m + c];
      x[k * m + c] = s / a[k * n + k];
    }
  }
  return x;
}

/**
 * No optimizer, no backward pass: the head moves a fraction η toward the batch's ridge
 * least-squares fit of the one-hot labels (features with a constant column for the bias).
 */
const leastSquaresStep: TrainStep = (model, batch) => {
  const m = model as Projected,
    eta = 0.3,
    lambda = 1e-2,
    d = 17,
    C = 10;
  const f = noGrad(() => m.features(batch.x)),
    N = batch.y.length;
  const A = new Float64Array(d * d),
    B = new Float64Array(d * C);
  for (let i = 0; i < N; i++) {
    const row = [...f.data.subarray(i * 16, i * 16 + 16), 1];
    for (let p = 0; p < d; p++) {
      for (let q = 0; q < d; q++) A[p * d + q] += row[p] * row[q];
      B[p * C + batch.y[i]] += row[p];
    }
  }
  for (let p = 0; p < d; p++) A[p * d + p] += lambda;
  const W = solve(A, B, d, C),
    w = m.head.weight.data,
    b = m.head.bias!.data;
  for (let c = 0; c < C; c++) {
    for (let p = 0; p < 16; p++) w[c * 16 + p] += eta * (W[p * C + c] - w[c * 16 + p]);
    b[c] += eta * (W[16 * C + c] - b[c]);
  }
  m.head.weight.markChanged();
  m.head.bias!.markChanged();
  const output = noGrad(() => m.forward(batch.x));
  return { loss: crossEntropy(output, batch.y), output, metrics: { rows: N } };
};

/** Run to 3 epochs at once, and as 2 epochs + resume into a fresh model; both must agree exactly. */
function resumeMatches(make: () => { model: Module; opts: Omit<FitOptions, 'train' | 'epochs' | 'batchSize'> }): void {
  const full = make();
  const a = fit(full.model, { ...full.opts, train: small, epochs: 3, batchSize: 64, seed: 5 });
  const store = memoryStore();
  const first = make();
  fit(first.model, { ...first.opts, train: small, epochs: 2, batchSize: 64, seed: 5, checkpoint: store });
  const second = make();
  for (const p of second.model.parameters()) p.data.fill(0.5); // must be overwritten by the checkpoint
  const b = fit(second.model, {
    ...second.opts,
    train: small,
    epochs: 3,
    batchSize: 64,
    seed: 5,
    checkpoint: store,
    resume: true,
  });
  assert.equal(b.resumedFromEpoch, 2);
  assert.deepEqual(
    b.history.map((h) => h.loss),
    a.history.map((h) => h.loss),
    'the same losses epoch by epoch',
  );
  const sd = second.model.stateDict();
  for (const [k, t] of Object.entries(full.model.stateDict()))
    assert.deepEqual(Array.from(sd[k].data), Array.from(t.data), k);
}

test(
  'fit runs a step with no optimizer and no backward pass (closed-form least squares), ' + 'and resumes it exactly',
  () => {
    const m = new Projected(1);
    const r = fit(m, {
      train: small,
      validation: subset(
        data.test,
        Array.from({ length: 300 }, (_, i) => i),
      ),
      epochs: 2,
      batchSize: 64,
      step: leastSquaresStep,
      seed: 1,
      inputShape: [784],
    });
    assert.ok(Number.isNaN(r.history[0].lr), 'no optimizer: no learning rate to log');
    assert.equal(r.history[0].metrics!.rows, 64, "the step's metrics are averaged into the log");
    assert.ok(
      r.history[1].valAccuracy! > 0.5,
      `a least-squares head on 16 random features: ${r.history[1].valAccuracy}`,
    );
    assert.ok(r.history[1].accuracy > 0.5, "training accuracy is counted from the step's output");
    resumeMatches(() => ({ model: new Projected(1), opts: { step: leastSquaresStep, inputShape: [784] } }));
  },
);

/** Adam on the first layer, SGD with momentum on the rest, both stepping every batch. */
const twoOptimizers: TrainStep = (model, batch, ctx) => {
  const { body, head } = ctx.optimizers;
  const out = model.forward(batch.x);
  const loss = crossEntropy(out, batch.y);
  ctx.checkLoss(loss.item(), batch.x);
  body.zeroGrad();
  head.zeroGrad();
  loss.backward();
  body.step();
  head.step();
  body.zeroGrad();
  head.zeroGrad();
  return { loss, output: out };
};

function twoOptimizerSetup(): { model: Module; opts: Omit<FitOptions, 'train' | 'epochs' | 'batchSize'> } {
  const model = buildModel(referenceMlp, 3);
  const ps = model.parameters();
  return {
    model,
    opts: {
      step: twoOptimizers,
      inputShape: [784],
      optimizers: {
        body: new Adam(ps.slice(0, 2), { lr: 2e-3 }),
        head: new SGD(ps.slice(2), { lr: 0.05, momentum: 0.9 }),
      },
    },
  };
}

test("fit runs a step with two optimizers and resumes it exactly (both optimizers' state restored)", () => {
  const { model, opts } = twoOptimizerSetup();
  const r = fit(model, { ...opts, train: small, epochs: 2, batchSize: 64, seed: 2 });
  assert.ok(r.history[1].loss < r.history[0].loss, 'loss falls');
  resumeMatches(twoOptimizerSetup);
  // With the head optimizer's momentum lost at resume, the run differs: the equality above has teeth.
  const full = twoOptimizerSetup();
  fit(full.model, { ...full.opts, train: small, epochs: 3, batchSize: 64, seed: 5 });
  const store = memoryStore();
  const a = twoOptimizerSetup();
  fit(a.model, { ...a.opts, train: small, epochs: 2, batchSize: 64, seed: 5, checkpoint: store });
  const b = twoOptimizerSetup(),
    head = b.opts.optimizers!.head;
  const wipe = { onEpochBegin: () => head.loadStateDict({ stepCount: head.stepCount, lr: head.lr, tensors: {} }) };
  fit(b.model, {
    ...b.opts,
    train: small,
    epochs: 3,
    batchSize: 64,
    seed: 5,
    checkpoint: store,
    resume: true,
    callbacks: [wipe],
  });
  assert.notDeepEqual(Array.from(b.model.parameters()[3].data), Array.from(full.model.parameters()[3].data));
  // A checkpoint without an optimizer's state is refused by name.
  const c = buildModel(referenceMlp, 3),
    single = memoryStore();
  fit(c, {
    train: small,
    epochs: 1,
    batchSize: 64,
    optimizer: new Adam(c.parameters()),
    inputShape: [784],
    checkpoint: single,
  });
  const d = twoOptimizerSetup();
  assert.throws(
    () => fit(d.model, { ...d.opts, train: small, epochs: 2, batchSize: 64, checkpoint: single, resume: true }),
    /no state for optimizer 'body'/,
  );
});

/** Learns which rows are hard: draws rows in proportion to their last loss (plus a floor), keeps that as state. */
function lossProportional(seed: number): Sampler & { seen: number } {
  let scores: number[] | null = null;
  const s = {
    seen: 0,
    *batches(epoch: number, n: number, bs: number) {
      scores ??= new Array(n).fill(1);
      const rng = epochRng(seed, epoch);
      for (let b = 0; b < Math.ceil(n / bs); b++) yield drawBatch(normaliseProbabilities(scores), bs, rng, true, true);
    },
    observe(idx: Int32Array, loss: Float32Array) {
      s.seen += idx.length;
      for (let i = 0; i < idx.length; i++) scores![idx[i]] = 0.1 + loss[i];
    },
    stateDict: () => scores,
    loadStateDict: (st: unknown) => {
      scores = st as number[];
    },
  };
  return s;
}

test(
  'a sampler gets per-sample losses after each step, its batches carry weights, and ' + 'resume restores its state',
  () => {
    const { model, opts } = twoOptimizerSetup();
    const sampler = lossProportional(4);
    const seenBatches: Batch[] = [];
    const spy: TrainStep = (m, b, ctx) => {
      seenBatches.push(b);
      assert.ok(ctx.wantsPerSampleLoss);
      return backprop()(m, b, ctx);
    };
    fit(model, {
      ...opts,
      optimizer: new Adam(model.parameters()),
      optimizers: undefined,
      step: spy,
      sampler,
      train: small,
      epochs: 1,
      batchSize: 64,
    });
    assert.equal(sampler.seen, 6 * 64, "observe() saw every step's rows");
    assert.ok(
      seenBatches.every((b) => b.weight && b.weight.length === b.y.length),
      'importance weights reach the step',
    );
    resumeMatches(() => {
      const s = twoOptimizerSetup();
      return {
        model: s.model,
        opts: { inputShape: [784], optimizer: new Adam(s.model.parameters()), sampler: lossProportional(4) },
      };
    });
  },
);

test("the default step weights the cross-entropy by the batch's weights", () => {
  const m = buildModel(referenceMlp, 1),
    opt = new SGD(m.parameters(), { lr: 0 + 1e-9 });
  const x = Tensor.rand([4, 784], new Rng(1)),
    y = Int32Array.from([1, 2, 3, 4]),
    weight = Float32Array.from([0, 2, 0, 2]);
  const ctx = {
    epoch: 0,
    step: 1,
    optimizer: opt,
    optimizers: { default: opt },
    wantsPerSampleLoss: true,
    checkLoss() {},
  };
  const r = backprop()(m, { x, y, index: Int32Array.from([0, 1, 2, 3]), weight }, ctx);
  const out = m.forward(x);
  assert.ok(Math.abs((r.loss as number) - crossEntropy(out, y, { weights: weight }).item()) < 1e-5);
  assert.notEqual(Math.round(1e4 * (r.loss as number)), Math.round(1e4 * crossEntropy(out, y).item()));
  const per = r.perSampleLoss!;
  assert.ok(
    Math.abs(per.reduce((a, b) => a + b, 0) / 4 - crossEntropy(out, y).item()) < 1e-5,
    'per-sample losses average to the loss',
  );
});

test('a custom step whose loss turns NaN stops the run naming epoch and step; missing optimizers are named', () => {
  let calls = 0;
  const bad: TrainStep = (m, b) => ({ loss: ++calls === 3 ? NaN : 1, output: noGrad(() => m.forward(b.x)) });
  assert.throws(
    () => fit(new Projected(1), { train: small, epochs: 1, batchSize: 64, step: bad, inputShape: [784] }),
    (e: Error) => e instanceof NonFiniteLossError && /epoch 1, step 3/.test(e.message),
  );
  assert.throws(
    () => fit(new Projected(1), { train: small, epochs: 1, batchSize: 64 }),
    /needs an optimizer; pass `optimizer`/,
  );
  const m = new Projected(1);
  assert.throws(
    () =>
      fit(m, {
        train: small,
        epochs: 1,
        batchSize: 64,
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        step: backprop({ optimizer: 'critic' }),
      }),
    /no optimizer named 'critic'/,
  );
});

test('a step that trains a module besides the model checkpoints it through `modules`, and resumes exactly', () => {
  const make = () => {
    const model = buildModel(referenceMlp, 5),
      extra = new Linear(10, 10, { rng: new Rng(6) });
    const step: TrainStep = (m, b, ctx) => {
      const out = extra.forward(m.forward(b.x));
      const loss = crossEntropy(out, b.y);
      ctx.optimizers.main.zeroGrad();
      ctx.optimizers.extra.zeroGrad();
      loss.backward();
      ctx.optimizers.main.step();
      ctx.optimizers.extra.step();
      return { loss, output: out };
    };
    const optimizers = {
      main: new SGD(model.parameters(), { lr: 0.05, momentum: 0.9 }),
      extra: new SGD(extra.parameters(), { lr: 0.05, momentum: 0.9 }),
    };
    return {
      model,
      opts: { step, optimizers, modules: { extra }, inputShape: [784] } as Omit<
        FitOptions,
        'train' | 'epochs' | 'batchSize'
      >,
    };
  };
  resumeMatches(make);
  const { model, opts } = make();
  assert.throws(
    () =>
      fit(model, { ...opts, modules: undefined, train: small, epochs: 1, batchSize: 64, checkpoint: memoryStore() }),
    /optimizer 'extra' trains a tensor that is neither a parameter of the model nor of fit's `modules`/,
  );
});

test('fit refuses the options that became step options, naming the replacement', () => {
  const m = new Projected(1),
    optimizer = new SGD(m.parameters(), { lr: 0.1 });
  const base = { train: small, epochs: 1, batchSize: 64, optimizer, inputShape: [784] };
  assert.throws(
    () => fit(m, { ...base, distill: { teacher: m } } as FitOptions),
    /step: backprop\(\{ loss: distillation/,
  );
  assert.throws(
    () => fit(m, { ...base, regularizer: () => Tensor.scalar(0) } as FitOptions),
    /backprop\(\{ regularizer \}\)/,
  );
});

test(
  'samplers get what they ask for: gradient-norm bounds, refusal of a step without ' + 'feedback, epoch statistics',
  () => {
    const logits = Tensor.from([2, 0, -1, 0.5, 0.5, 0.5], [2, 3]),
      y = Int32Array.from([0, 2]);
    const p0 = [Math.exp(2), 1, Math.exp(-1)].map((v, _i, a) => v / (Math.exp(2) + 1 + Math.exp(-1)));
    const want0 = Math.hypot(p0[0] - 1, p0[1], p0[2]),
      want1 = Math.hypot(1 / 3, 1 / 3, 1 / 3 - 1);
    const g = logitGradNorm(logits, y);
    assert.ok(Math.abs(g[0] - want0) < 1e-6 && Math.abs(g[1] - want1) < 1e-6, `${g}`);
    const ce = perSampleCrossEntropy(logits, y);
    assert.ok(Math.abs(ce[0] + Math.log(p0[0])) < 1e-6 && Math.abs(ce[1] - Math.log(3)) < 1e-6);
    let bounds = 0;
    const asking: Sampler = {
      ...shuffleSampler(1),
      requiresFeedback: true,
      wants: { gradNormBound: true },
      observe: (_i, _l, extra) => {
        bounds += extra!.gradNormBound!.length;
      },
      epochStats: () => ({ seen: bounds }),
    };
    const m = buildModel(referenceMlp, 1);
    const r = fit(m, {
      train: small,
      epochs: 1,
      batchSize: 64,
      optimizer: new Adam(m.parameters()),
      inputShape: [784],
      sampler: asking,
    });
    assert.equal(bounds, 384);
    assert.deepEqual(r.history[0].sampler, { seen: 384 });
    const silent: TrainStep = (mm, b) => ({ loss: 1, output: noGrad(() => mm.forward(b.x)) });
    assert.throws(
      () => fit(m, { train: small, epochs: 1, batchSize: 64, step: silent, inputShape: [784], sampler: asking }),
      /epoch 1, step 1: the sampler needs per-sample losses and the training step gave none/,
    );
  },
);
