// `frugal snn` (issue 18 points 5 and 9): the pipeline's JSON fields, a saved spiking model that eval, info and
// bench read, and bad input refused with nothing written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Adam, buildModel, fit, loadFashionMnist, proximalL1, saveModel, subset, SUBSET_DIR } from '../src/node.js';
import type { ModelSpec } from '../src/node.js';
import { DATA, blobsCsv, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-snn-'));
const json = (s: string) => oneJson(s) as Record<string, any>;

const mlp: ModelSpec = {
  format: 'frugal-model',
  version: 1,
  input: [784],
  layers: [{ type: 'linear', in: 784, out: 32 }, { type: 'relu' }, { type: 'linear', in: 32, out: 10 }],
};
const base = join(dir, 'mlp.safetensors');
{
  const model = buildModel(mlp, 1);
  const optimizer = new Adam(model.parameters(), { lr: 2e-3 });
  const train = subset(
    loadFashionMnist(SUBSET_DIR).train,
    Array.from({ length: 1500 }, (_, i) => i),
  );
  fit(model, {
    train,
    epochs: 2,
    batchSize: 64,
    optimizer,
    seed: 1,
    inputShape: [784],
    callbacks: [proximalL1(model, { lambda: 1e-4, optimizer })],
  });
  saveModel(base, model, mlp);
}

test('frugal snn: bad input is refused naming the field, and nothing is written', () => {
  const out = join(dir, 'never.safetensors');
  const flat = join(dir, 'flat.safetensors'),
    maxpool = join(dir, 'maxpool.safetensors');
  const flatSpec: ModelSpec = { format: 'frugal-model', version: 1, input: [784], layers: [{ type: 'flatten' }] };
  saveModel(flat, buildModel(flatSpec), flatSpec);
  const mp: ModelSpec = {
    format: 'frugal-model',
    version: 1,
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', in: 1, out: 2, kernel: 3 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', in: 338, out: 10 },
    ],
  };
  saveModel(maxpool, buildModel(mp), mp);
  // Model files without their training data's name (built, not trained): Fashion-MNIST does not fit them.
  const narrow = join(dir, 'narrow.safetensors'),
    three = join(dir, 'three.safetensors');
  const narrowSpec: ModelSpec = { ...mlp, input: [12], layers: [{ type: 'linear', in: 12, out: 10 }] };
  const threeSpec: ModelSpec = { ...mlp, layers: [{ type: 'linear', in: 784, out: 3 }] };
  saveModel(narrow, buildModel(narrowSpec), narrowSpec);
  saveModel(three, buildModel(threeSpec), threeSpec);
  const cases: [string[], number, RegExp][] = [
    [[base], 2, /--timesteps T is required/],
    [[base, '--timesteps', '0'], 2, /--timesteps must be an integer ≥ 1/],
    [[base, '--timesteps=-5'], 2, /--timesteps must be an integer ≥ 1/],
    [[base, '--timesteps', '10', '--levels', '1'], 2, /--levels must be an integer ≥ 2/],
    [[base, '--timesteps', '10', '--levels', '16', '--variation=-0.1'], 2, /--variation must be a number ≥ 0/],
    [[base, '--timesteps', '10', '--variation', '0.05'], 2, /give --levels L too/],
    [[base, '--timesteps', '10', '--prune', 'lots'], 2, /--prune must be 'auto' or a magnitude threshold/],
    [[base, '--timesteps', '10', '--normalization', 'median'], 2, /--normalization must be one of max, percentile/],
    [[base, '--timesteps', '10', '--prune', '100'], 1, /removes every weight of weight layer 0.*smaller threshold/],
    [[flat, '--timesteps', '10'], 1, /no linear or conv2d layer to convert/],
    [[maxpool, '--timesteps', '10'], 1, /max pooling has no spiking equivalent.*avgpool2d/],
    [[narrow, '--timesteps', '10'], 1, /samples of shape \[1, 28, 28\].*takes \[12\]; give --dataset/],
    [[three, '--timesteps', '10'], 1, /labels up to 9 \(10 classes\), but the model has 3 outputs; give --dataset/],
  ];
  for (const [args, code, re] of cases) {
    const r = frugal('snn', ...args, ...DATA, '--out', out);
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
    assert.ok(!existsSync(out), `${args.join(' ')} wrote ${out}`);
  }
});

test('frugal snn → eval, info, bench: the spiking model file carries its accuracy and its costs', () => {
  const out = join(dir, 'snn.safetensors');
  const r = frugal(
    'snn',
    base,
    '--timesteps',
    '60',
    '--levels',
    '16',
    '--prune',
    'auto',
    ...DATA,
    '--out',
    out,
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = json(r.stdout);
  for (const k of [
    'floatAccuracy',
    'prunedAccuracy',
    'quantizedAccuracy',
    'spikingAccuracy',
    'prunedFraction',
    'spikesPerInference',
    'synapticEventsPerInference',
  ])
    assert.equal(typeof j[k], 'number', k);
  assert.ok(j.floatAccuracy > 0.6, `float ${j.floatAccuracy}`);
  // The pruned net lost at most what the rule allows on validation (plus test noise), the SNN stays close.
  assert.ok(j.prunedFraction > 0.1 && j.pruneThreshold > 0, `pruned ${j.prunedFraction}`);
  assert.ok(j.spikingAccuracy > j.quantizedAccuracy - 0.03, `spiking ${j.spikingAccuracy} vs ${j.quantizedAccuracy}`);
  assert.deepEqual(
    j.accuracyByTimesteps.map((c: { timesteps: number }) => c.timesteps),
    [10, 25, 50, 60],
  );
  assert.ok(j.spikesPerInference > 0 && j.synapticEventsPerInference > 0);
  const e = json(frugal('eval', out, ...DATA, '--json').stdout);
  assert.equal(e.testAccuracy, j.spikingAccuracy, 'eval of the saved spiking model gives the same accuracy');
  const info = json(frugal('info', out, '--json').stdout);
  assert.equal(info.spikesPerInference, j.spikesPerInference);
  assert.equal(info.synapticEventsPerInference, j.synapticEventsPerInference);
  assert.equal(info.timesteps, 60);
  assert.match(frugal('info', out).stdout, /spikes\/inference/);
  const b = frugal('bench', out, '--batch-size', '2', '--seconds', '0.05', '--json');
  assert.equal(b.code, 0, b.stderr);
  assert.ok(json(b.stdout).samplesPerSecond > 0);
  const again = frugal('snn', out, '--timesteps', '10', ...DATA);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already a spiking model/);
});

test('frugal snn reads the data its model was trained on (a CSV here), and --limit takes its first N rows', () => {
  const { csv, spec } = blobsCsv(dir);
  const model = join(dir, 'blobs.safetensors');
  const tr = frugal(
    'train',
    '--model',
    spec,
    '--dataset',
    `csv:${csv}`,
    '--epochs',
    '8',
    '--batch-size',
    '16',
    '--out',
    model,
  );
  assert.equal(tr.code, 0, tr.stderr);
  const r = frugal('snn', model, '--timesteps', '50', '--limit', '200', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /blobs\.csv/);
  assert.match(r.stderr, /180 train \/ 20 validation \(seed 1\), 60 test/);
  const j = json(r.stdout);
  assert.ok(j.floatAccuracy > 0.8, `float ${j.floatAccuracy} on the blobs' held-out rows`);
  assert.ok(j.spikingAccuracy > j.floatAccuracy - 0.1, `spiking ${j.spikingAccuracy}`);
  assert.deepEqual([j.trainRows, j.validationRows], [180, 20]);
  // 20 validation rows cannot choose an automatic threshold: refused, naming the count and the fix.
  const auto = frugal('snn', model, '--timesteps', '50', '--limit', '200', '--prune', 'auto');
  assert.equal(auto.code, 2);
  assert.match(auto.stderr, /--prune auto chooses on the validation split .*20 here, at least 50 needed/);
});
