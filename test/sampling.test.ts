import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backprop,
  crossEntropyLoss,
  fit,
  gatherBatch,
  kfDistribution,
  kfSampler,
  kfScorer,
  Linear,
  loadFashionMnist,
  obsSampler,
  obsProbabilities,
  rasSampler,
  asSampler,
  adaptiveSampler,
  Rng,
  samplerByName,
  SGD,
  shuffleSampler,
  stratumProbabilities,
  SUBSET_DIR,
  subset,
  type Batch,
  type CheckpointStore,
  type ImageDataset,
  type Module,
  type SampledBatch,
  type Sampler,
  type TrainStep,
} from '../src/node.js';
import { tinyProblem } from '../src/reproduce/ras-measure.js';
import { memoryStore } from './helpers.js';

/** A small imbalanced synthetic dataset: 3 classes of 40, 15 and 5 rows, 6 features (criterion 1's problem). */
function synthetic(): ImageDataset {
  return tinyProblem().ds;
}

/** The gradient of the (weighted, batch-mean) cross-entropy of the default step, flattened. */
function gradient(model: Module, ds: ImageDataset, b: SampledBatch | { index: Int32Array; weight?: Float32Array }) {
  const { x, y } = gatherBatch(ds, b.index);
  for (const p of model.parameters()) p.grad = null;
  const batch: Batch = { x, y, index: b.index, ...(b.weight ? { weight: b.weight } : {}) };
  crossEntropyLoss(model.forward(x), batch, model).backward();
  const parts = model.parameters().map((p) => Array.from(p.grad!.data));
  return Float64Array.from(parts.flat());
}

/**
 * The largest |z| over coordinates of (mean of T mini-batch gradients − full-data gradient), z using
 * the batches' own standard error: below 3 when the sampler's weighted estimate is unbiased.
 */
function maxZ(model: Module, ds: ImageDataset, sampler: Sampler, T = 2000, bs = 8, drop = false): number {
  const all = Int32Array.from({ length: ds.count }, (_, i) => i);
  const full = gradient(model, ds, { index: all });
  const sum = new Float64Array(full.length),
    sum2 = new Float64Array(full.length);
  let t = 0;
  for (const b of sampler.batches(0, ds.count, bs, true)) {
    const g = gradient(model, ds, drop ? { index: b.index } : b);
    for (let c = 0; c < g.length; c++) {
      sum[c] += g[c];
      sum2[c] += g[c] * g[c];
    }
    if (++t === T) break;
  }
  assert.equal(t, T);
  let worst = 0;
  for (let c = 0; c < full.length; c++) {
    const mean = sum[c] / T,
      sd = Math.sqrt(Math.max(1e-30, sum2[c] / T - mean * mean));
    worst = Math.max(worst, Math.abs(mean - full[c]) / (sd / Math.sqrt(T)));
  }
  return worst;
}

const ds = synthetic();
const model = new Linear(6, 3, { rng: new Rng(5) });
const N = 2000 * 8;
/** A skewed side-information state: stratum 1 looks 20× easier than the others. */
const skewed = { g2: [4, 0.01, 1], lastHit: [0, 0, 0], steps: 0 };

test('AS, RAS-R1, RAS-R2 and KF: the ω-weighted mean of 2000 mini-batch gradients is the full gradient', () => {
  for (const reg of ['none', 'mixture', 'kl'] as const) {
    const s = adaptiveSampler({ strata: ds.labels, regularizer: reg, seed: 2, numSamples: N });
    s.loadStateDict!(skewed);
    const p = s.probabilities();
    assert.ok(Math.max(...p) / Math.min(...p) > 2, `${reg}: the state is not skewed (${p})`);
    const z = maxZ(model, ds, s);
    assert.ok(z < 3, `${reg}: max |z| ${z.toFixed(2)}`);
  }
  const kf = kfSampler({ score: kfScorer(model, ds), seed: 2, tauThreshold: 0, numSamples: N });
  const z = maxZ(model, ds, kf);
  assert.ok(z < 3, `kf: max |z| ${z.toFixed(2)}`);
  assert.equal(kf.tau().on, true);
});

test('the same check fails for biased samplers: RAS with its weights dropped, and OBS', () => {
  const s = rasSampler({ strata: ds.labels, seed: 2, numSamples: N });
  s.loadStateDict!(skewed);
  const z = maxZ(model, ds, s, 2000, 8, true);
  assert.ok(z > 3, `RAS without weights: max |z| ${z.toFixed(2)} should show the bias`);
  const obs = obsSampler({ seed: 2, numSamples: N });
  const all = Int32Array.from({ length: ds.count }, (_, i) => i);
  // Feed OBS every row's loss, so its ranking is the model's.
  const losses = Float32Array.from(all, (i) => 0.1 + (i % 7));
  obs.batches(0, ds.count, 8, false)[Symbol.iterator]().next();
  obs.observe!(all, losses);
  assert.equal(obs.biased, true);
  const zo = maxZ(model, ds, { ...obs, batches: (_e, n, bs, d) => obs.batches(1, n, bs, d) });
  assert.ok(zo > 3, `OBS: max |z| ${zo.toFixed(2)} should show the bias`);
});

test('probabilities sum to 1, E[ω] = 1, KF weights average to 1 under p, and R1 keeps p_i ≥ λ/n', () => {
  const w = [0.5, 0.3, 0.15, 0.05],
    g2 = [9, 1e-6, 0.04, 1];
  for (const reg of ['none', 'mixture', 'kl', 'floor'] as const) {
    for (const lambda of [0, 0.2, 0.7, 1]) {
      const p = stratumProbabilities(w, g2, reg, lambda);
      assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-12, `${reg} ${lambda}: Σp = 1`);
      const eOmega = p.reduce((a, pk, k) => a + pk * (w[k] / pk), 0);
      assert.ok(Math.abs(eOmega - 1) < 1e-12, `${reg} ${lambda}: E[ω] = ${eOmega}`);
      if (reg === 'mixture' || reg === 'floor')
        p.forEach((pk, k) => assert.ok(pk >= lambda * w[k] - 1e-15, `${reg} floor at ${k}`));
      if (reg === 'kl' && lambda > 0) {
        // μ = λ + V(p) with V the variance term on G scaled so Σ w_k G_k = 1; floor p_k ≥ λ w_k / μ.
        const s = w.reduce((a, wk, k) => a + wk * Math.sqrt(g2[k]), 0);
        const V = w.reduce((a, wk, k) => a + (wk * wk * g2[k]) / (s * s) / p[k], 0);
        p.forEach((pk, k) => assert.ok(pk >= (lambda * w[k]) / (lambda + V) - 1e-12, `R2 floor at ${k}`));
      }
    }
  }
  // R3 moves only what the floor needs: strata above it keep their ratios to each other; with λ = 0 it is AS.
  const r3 = stratumProbabilities(w, g2, 'floor', 0.2),
    as = stratumProbabilities(w, g2, 'none', 0);
  assert.ok(Math.abs(r3[1] - 0.2 * w[1]) < 1e-15, 'the starved stratum sits exactly on the floor');
  assert.ok(Math.abs(r3[0] / r3[3] - as[0] / as[3]) < 1e-9, 'strata above the floor keep their ratio');
  assert.deepEqual([...stratumProbabilities(w, g2, 'floor', 0)], [...as]);
  // Renormalising once, without redistributing, would break the floor here: the check has teeth.
  const once = as.map((pk, k) => Math.max(pk, 0.2 * w[k])),
    t = once.reduce((a, b) => a + b, 0);
  assert.ok(once[1] / t < 0.2 * w[1], 'a single clip-and-renormalise leaves the stratum under its floor');
  // AS has no floor: the easy stratum all but starves (the drawback RAS fixes).
  assert.ok(stratumProbabilities(w, g2, 'none', 0)[1] < 0.01);
  // Per row, through the sampler: Σ_i p_i = 1 and p_i ≥ λ/n.
  const s = rasSampler({ strata: ds.labels, lambda: 0.2 });
  s.loadStateDict!({ g2: [100, 1e-8, 1], lastHit: [0, 0, 0], steps: 0 });
  const q = s.rowProbabilities();
  assert.ok(Math.abs(q.reduce((a, b) => a + b, 0) - 1) < 1e-12);
  assert.ok(Math.min(...q) >= 0.2 / ds.count - 1e-15, `min p_i ${Math.min(...q)} < λ/n`);
  for (const b of s.batches(0, ds.count, 8, false)) for (const om of b.weight!) assert.ok(om <= 1 / 0.2 + 1e-6);
  const { p, weight } = kfDistribution([0.5, 0, 2, 1, 0.25]);
  assert.ok(Math.abs(p.reduce((a, v) => a + v, 0) - 1) < 1e-12);
  assert.ok(Math.abs(p.reduce((a, v, j) => a + v * weight[j], 0) - 1) < 1e-9);
});

test('uniform is the shuffle sampler: the same batches as before for a seed', () => {
  for (const seed of [0, 1, 9]) {
    for (const epoch of [0, 3]) {
      const a = [...samplerByName('uniform', { seed }).batches(epoch, 50, 8, false)].map((b) => Array.from(b.index));
      const b = [...shuffleSampler(seed).batches(epoch, 50, 8, false)].map((b) => Array.from(b.index));
      assert.deepEqual(a, b);
    }
  }
});

const fashion = loadFashionMnist(SUBSET_DIR);
const small = subset(
  fashion.train,
  Array.from({ length: 256 }, (_, i) => i),
);
const linear = () => new Linear(784, 10, { rng: new Rng(1) });

test('a sampler fed a NaN loss refuses it, and fit names the epoch and step', () => {
  const inner = backprop();
  let calls = 0;
  const step: TrainStep = (m, batch, ctx) => {
    const r = inner(m, batch, ctx);
    if (++calls === 3) r.perSampleLoss![1] = NaN;
    return r;
  };
  for (const name of ['obs', 'ras']) {
    calls = 0;
    const m = linear();
    assert.throws(
      () =>
        fit(m, {
          train: small,
          epochs: 1,
          batchSize: 32,
          inputShape: [784],
          step,
          optimizer: new SGD(m.parameters(), { lr: 0.1 }),
          sampler: samplerByName(name, { strata: small.labels, seed: 1 }),
          ...(name === 'ras' ? { step: gradStep(step) } : {}),
        }),
      /epoch 1, step 3: sampler: per-sample .*NaN at batch row 1/,
    );
  }
});

/** RAS scores by the gradient-norm bound: poison that instead of the loss. */
function gradStep(inner: TrainStep): TrainStep {
  let calls = 0;
  return (m, batch, ctx) => {
    const r = inner(m, batch, ctx);
    if (++calls === 3) r.gradNormBound![1] = NaN;
    return r;
  };
}

test('bad settings are refused with the reason', () => {
  for (const lambda of [-0.1, 1.5, NaN]) {
    assert.throws(() => rasSampler({ strata: [0, 1], lambda }), /lambda must lie in \[0, 1\]/);
    assert.throws(() => samplerByName('ras', { strata: [0, 1], lambda }), /lambda must lie in \[0, 1\]/);
  }
  assert.throws(() => samplerByName('importance'), /unknown sampler "importance"; choose one of uniform, obs, kf/);
  assert.throws(() => samplerByName('as'), /needs the strata/);
  assert.throws(() => samplerByName('kf'), /needs a score function/);
  const m = linear();
  const silent: TrainStep = (mm, batch, ctx) => ({ loss: backprop()(mm, batch, ctx).loss as number });
  for (const name of ['obs', 'as', 'ras']) {
    assert.throws(
      () =>
        fit(m, {
          train: small,
          epochs: 1,
          batchSize: 64,
          inputShape: [784],
          step: silent,
          optimizer: new SGD(m.parameters(), { lr: 0.1 }),
          sampler: samplerByName(name, { strata: small.labels }),
        }),
      /epoch 1, step 1: the sampler needs per-sample losses and the training step gave none/,
    );
  }
});

test('resume restores each sampler exactly: 2 epochs + resume = 3 epochs straight', () => {
  for (const name of ['obs', 'kf', 'as', 'ras', 'ras-kl']) {
    const run = (epochs: number, store: CheckpointStore, resume: boolean) => {
      if (resume) {
        const first = linear();
        fit(first, opts(first, 2, store, false, name));
      }
      const m = linear(); // resume into a fresh model and a fresh sampler
      const r = fit(m, opts(m, epochs, store, resume, name));
      return { r, weights: Array.from(m.weight.data) };
    };
    const straight = run(3, memoryStore(), false);
    const resumed = run(3, memoryStore(), true);
    assert.equal(resumed.r.resumedFromEpoch, 2, name);
    assert.deepEqual(resumed.weights, straight.weights, `${name}: weights differ after resume`);
    const stats = (r: typeof straight.r) => r.history.map((h) => JSON.stringify(h.sampler));
    assert.deepEqual(stats(resumed.r), stats(straight.r), `${name}: sampler statistics differ`);
  }
});

function opts(m: Linear, epochs: number, checkpoint: CheckpointStore, resume: boolean, name: string) {
  return {
    train: small,
    epochs,
    batchSize: 32,
    inputShape: [784],
    optimizer: new SGD(m.parameters(), { lr: 0.05, momentum: 0.9 }),
    sampler: samplerByName(name, {
      strata: small.labels,
      seed: 4,
      score: kfScorer(m, small, { shape: [784] }),
    }),
    checkpoint,
    resume,
  };
}

test('fit logs the per-epoch sampler statistics: max ω, effective sample size, per-stratum p, ages', () => {
  const m = linear();
  const sampler = asSampler({ strata: small.labels, seed: 1 });
  const r = fit(m, {
    train: small,
    epochs: 2,
    batchSize: 32,
    inputShape: [784],
    optimizer: new SGD(m.parameters(), { lr: 0.05 }),
    sampler,
  });
  const st = r.history[1].sampler as Record<string, unknown>;
  assert.equal((st.stratumP as number[]).length, 10);
  assert.ok(Math.abs((st.stratumP as number[]).reduce((a, b) => a + b, 0) - 1) < 1e-4);
  assert.ok((st.maxWeight as number) > 0 && (st.effectiveSampleSize as number) <= 1);
  assert.equal((st.estimateAge as number[]).length, 10);
  assert.equal(st.draws, 256);
});

test('OBS refuses feedback before it has drawn a batch', () => {
  assert.throws(() => obsSampler().observe!(Int32Array.of(0), Float32Array.of(1)), /before drawing a batch/);
});

test('OBS with rescore ranks every row by its current loss at each epoch start and counts the forward pass', () => {
  const n = 50;
  let epoch = 0;
  // Row i's loss grows with i in epoch 0 and falls with i in epoch 1: the ranking must follow the scorer.
  const rescore = (idx: Int32Array) => Float32Array.from(idx, (i) => (epoch === 1 ? i : n - i));
  const obs = obsSampler({ seed: 3, rescore, selectionPressure: 100 });
  const count = (e: number) => {
    epoch = e;
    const hits = new Array(n).fill(0);
    for (const b of obs.batches(e, n, 10, false)) for (const i of b.index) hits[i]++;
    return hits;
  };
  const top = (h: number[], rows: number[]) => rows.reduce((a, i) => a + h[i], 0);
  const lowRows = Array.from({ length: 10 }, (_, i) => i),
    highRows = Array.from({ length: 10 }, (_, i) => n - 1 - i);
  // The first epoch knows no loss: uniform, and no forward pass spent.
  const h0 = count(0);
  assert.ok(top(h0, highRows) < 2 * top(h0, lowRows) && top(h0, lowRows) < 2 * top(h0, highRows), `${h0}`);
  assert.equal(obs.epochStats!().extraForwardRows, 0);
  const h1 = count(1);
  assert.ok(top(h1, highRows) > 3 * top(h1, lowRows), `epoch 1 favours high i: ${h1}`);
  assert.equal(obs.epochStats!().extraForwardRows, n);
  const h2 = count(2);
  assert.ok(top(h2, lowRows) > 3 * top(h2, highRows), `epoch 2 follows the new scores: ${h2}`);
  const bad = obsSampler({ rescore: (idx) => new Float32Array(idx.length).fill(NaN) });
  assert.throws(() => bad.batches(1, 4, 2, false)[Symbol.iterator]().next(), /loss/);
  // Rows with no loss yet share the top ranks' mass: no row is favoured by its index.
  const p = obsProbabilities([-1, -1, -1, 0.5, 0.1], 100);
  assert.ok(p[0] === p[1] && p[1] === p[2] && p[2] > p[3] && p[3] > p[4], `${p}`);
  assert.deepEqual([...obsProbabilities([-1, -1], 100)], [0.5, 0.5]);
});

test('OBS re-ranks within the epoch: rows whose loss fell are drawn less in the rest of the epoch', () => {
  const n = 50,
    top = Array.from({ length: 10 }, (_, i) => n - 1 - i);
  const draws = (rerank: number) => {
    const obs = obsSampler({ seed: 5, rerank, rescore: (idx) => Float32Array.from(idx, (i) => i) });
    let late = 0,
      b = 0;
    for (const batch of obs.batches(1, n, 5, false)) {
      // After the first batch, the ten hardest rows have been learned: their observed loss is 0.
      if (b === 0) obs.observe!(Int32Array.from(top), new Float32Array(top.length));
      else for (const i of batch.index) if (top.includes(i)) late++;
      b++;
    }
    return late;
  };
  const frozen = draws(1),
    reranked = draws(10);
  assert.ok(reranked * 3 < frozen, `re-ranked ${reranked} vs frozen ${frozen} late draws of the learned rows`);
  assert.throws(() => obsSampler({ rerank: 0 }), /rerank must be an integer ≥ 1/);
});
