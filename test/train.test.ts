import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  buildModel,
  evaluate,
  fit,
  loadFashionMnist,
  NonFiniteLossError,
  referenceCnn,
  referenceMlp,
  SGD,
  SUBSET_DIR,
  subset,
} from '../src/node.js';

const data = loadFashionMnist(SUBSET_DIR);

test('end to end: the reference MLP learns Fashion-MNIST from the shipped subset in seconds', () => {
  const model = buildModel(referenceMlp, 1);
  const r = fit(model, {
    train: data.train,
    epochs: 3,
    batchSize: 64,
    optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
    seed: 1,
    inputShape: [784],
  });
  const ev = evaluate(model, data.test, { shape: [784] });
  assert.ok(r.history[2].loss < r.history[0].loss, 'training loss falls');
  // Chance is 10%. PyTorch with this recipe reached 79.5% (3 epochs) here; we measured 77.7%.
  assert.ok(ev.accuracy >= 0.75, `test accuracy ${ev.accuracy}`);
  assert.ok(r.samplesPerSecond > 0 && r.trainSeconds > 0);
});

test('end to end: the reference CNN trains on the shipped subset', () => {
  const model = buildModel(referenceCnn, 1);
  fit(model, {
    train: data.train,
    epochs: 2,
    batchSize: 32,
    optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
    seed: 1,
  });
  const ev = evaluate(model, data.test);
  assert.ok(ev.accuracy >= 0.75, `test accuracy ${ev.accuracy}`);
  assert.ok(ev.balancedAccuracy > 0.7);
  assert.equal(
    ev.confusion.flat().reduce((a, b) => a + b, 0),
    data.test.count,
  );
});

test('the same seed gives the same training run; a different seed a different one', () => {
  const small = subset(
    data.train,
    Array.from({ length: 512 }, (_, i) => i),
  );
  const run = (seed: number) => {
    const m = buildModel(referenceMlp, seed);
    fit(m, { train: small, epochs: 1, batchSize: 64, optimizer: new Adam(m.parameters()), seed, inputShape: [784] });
    return Array.from(m.parameters()[0].data.subarray(0, 64));
  };
  assert.deepEqual(run(3), run(3));
  assert.notDeepEqual(run(3), run(4));
});

test('a non-finite loss stops the run naming the step and the parameter', () => {
  const m = buildModel(referenceMlp, 1);
  m.parameters()[2].data[5] = NaN;
  assert.throws(
    () =>
      fit(m, {
        train: data.train,
        epochs: 1,
        batchSize: 32,
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        inputShape: [784],
      }),
    (e: Error) =>
      e instanceof NonFiniteLossError && /epoch 1, step 1: parameter 2\.weight holds non-finite values/.test(e.message),
  );
});

test('a non-finite loss from overflowing activations names the first layer that overflowed', () => {
  const m = buildModel(referenceMlp, 1);
  m.parameters()[0].data.fill(3e38);
  assert.throws(
    () =>
      fit(m, {
        train: data.train,
        epochs: 1,
        batchSize: 32,
        optimizer: new SGD(m.parameters(), { lr: 0.1 }),
        inputShape: [784],
      }),
    /first non-finite output at layer 0 \(linear\)/,
  );
});

test('early stopping ends a run whose validation loss stops improving', () => {
  const m = buildModel(referenceMlp, 1);
  const tiny = subset(
    data.train,
    Array.from({ length: 64 }, (_, i) => i),
  );
  const r = fit(m, {
    train: tiny,
    validation: subset(
      data.test,
      Array.from({ length: 200 }, (_, i) => i),
    ),
    epochs: 60,
    batchSize: 16,
    optimizer: new Adam(m.parameters(), { lr: 1e-2 }),
    inputShape: [784],
    earlyStopping: { patience: 2 },
  });
  assert.ok(r.stoppedEarly && r.epochsRun < 60, `ran ${r.epochsRun} epochs`);
});
