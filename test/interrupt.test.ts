// fit()'s stop request (issue 26, point 2): a run stopped between two steps writes a checkpoint at that batch,
// and resuming from it gives exactly the uninterrupted run, also with a sampler that learns from each step.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  Adam,
  buildModel,
  checkpointInfo,
  fit,
  loadFashionMnist,
  referenceMlp,
  samplerByName,
  setDefaultStopSignal,
  SUBSET_DIR,
  subset,
  TrainingInterrupted,
  type CheckpointStore,
  type FitOptions,
  type Module,
} from '../src/node.js';
import { memoryStore } from './helpers.js';

const data = loadFashionMnist(SUBSET_DIR);
const train = subset(
  data.train,
  Array.from({ length: 600 }, (_, i) => i),
);

/** A run of 3 epochs of 10 batches; `stopAfter` raises the stop request after that many steps in all. */
function run(sampler: string, store: CheckpointStore, o: { stopAfter?: number; resume?: boolean } = {}) {
  const model = buildModel(referenceMlp, 3);
  let steps = 0;
  const stop = { aborted: false };
  const opts: FitOptions = {
    train,
    epochs: 3,
    batchSize: 60,
    optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
    seed: 4,
    inputShape: [784],
    sampler: samplerByName(sampler, { seed: 4, strata: train.labels }),
    checkpoint: store,
    config: { lr: 2e-3 },
    resume: o.resume,
    signal: stop,
    callbacks: [{ onBatchEnd: () => void (++steps === o.stopAfter && (stop.aborted = true)) }],
  };
  return { model, result: () => fit(model, opts) };
}

function sameWeights(a: Module, b: Module): void {
  const sa = a.stateDict(),
    sb = b.stateDict();
  for (const k of Object.keys(sa)) assert.deepEqual(Array.from(sb[k].data), Array.from(sa[k].data), k);
}

for (const sampler of ['uniform', 'ras']) {
  test(`${sampler}: stopped mid-epoch then resumed equals the uninterrupted run`, () => {
    const full = run(sampler, memoryStore());
    const fullResult = full.result();
    const store = memoryStore();
    const stopped = run(sampler, store, { stopAfter: 14 });
    assert.throws(stopped.result, (e: unknown) => {
      assert.ok(e instanceof TrainingInterrupted);
      assert.deepEqual([e.epoch, e.batch, e.checkpointed], [2, 4, true]);
      assert.equal(e.message, 'interrupted at epoch 2, batch 4');
      return true;
    });
    const info = checkpointInfo(store.bytes!);
    assert.deepEqual([info.epoch, info.batch, info.config], [1, 4, { lr: 2e-3 }]);
    const resumed = run(sampler, store, { resume: true });
    const r = resumed.result();
    sameWeights(full.model, resumed.model);
    assert.deepEqual(
      r.history.map((h) => [h.loss, h.accuracy]),
      fullResult.history.map((h) => [h.loss, h.accuracy]),
      'the epoch logs (the interrupted epoch included) are those of the uninterrupted run',
    );
  });
}

test('a stop request on the epoch’s last step ends the epoch first; the default signal reaches every fit()', () => {
  const store = memoryStore();
  const flag = { aborted: false };
  setDefaultStopSignal(flag);
  try {
    const model = buildModel(referenceMlp, 3);
    assert.throws(
      () =>
        fit(model, {
          train,
          epochs: 3,
          batchSize: 60,
          inputShape: [784],
          optimizer: new Adam(model.parameters(), { lr: 2e-3 }),
          checkpoint: store,
          callbacks: [{ onBatchEnd: ({ batch }) => void (batch === 10 && (flag.aborted = true)) }],
        }),
      (e: unknown) => e instanceof TrainingInterrupted && e.epoch === 2 && e.batch === 0,
    );
    assert.deepEqual([checkpointInfo(store.bytes!).epoch, checkpointInfo(store.bytes!).batch], [1, 0]);
  } finally {
    setDefaultStopSignal(undefined);
  }
});
