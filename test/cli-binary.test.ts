import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, saveModel, referenceMlp } from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-bin-'));
const json = (s: string) => oneJson(s) as Record<string, any>;

test(
  'frugal train a binary + jet spec, frugal pack it: identical predictions, a smaller file, binary accounting ' +
    'in frugal info',
  () => {
    const spec = {
      format: 'frugal-model',
      version: 1,
      input: [1, 28, 28],
      layers: [
        { type: 'conv2d', in: 1, out: 8, kernel: 3, padding: 1, bias: false },
        { type: 'batchnorm2d', features: 8 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'jet-conv2d', in: 8, out: 16 },
        { type: 'batchnorm2d', features: 16 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'binary-conv2d', in: 16, out: 16, kernel: 3, padding: 1 },
        { type: 'batchnorm2d', features: 16 },
        { type: 'maxpool2d', kernel: 2 },
        { type: 'flatten' },
        { type: 'linear', in: 16 * 3 * 3, out: 10 },
      ],
    };
    const specPath = join(dir, 'bnn.json'),
      model = join(dir, 'bnn.safetensors'),
      packed = join(dir, 'bnn-packed.safetensors');
    writeFileSync(specPath, JSON.stringify(spec));
    const t = json(
      frugal(
        'train',
        '--model',
        specPath,
        '--dataset',
        'fashion-mnist',
        ...DATA,
        '--epochs',
        '1',
        '--batch-size',
        '32',
        '--optimizer',
        'adam',
        '--lr',
        '0.01',
        '--limit',
        '512',
        '--out',
        model,
        '--json',
      ).stdout,
    );
    assert.ok(t.testAccuracy > 0.2, `a binary net learns something: ${t.testAccuracy}`);
    const r = frugal('pack', model, '--out', packed, ...DATA, '--json');
    assert.equal(r.code, 0, r.stderr);
    const p = json(r.stdout);
    assert.equal(p.predictionsEqual, true);
    assert.equal(p.testAccuracy, p.simulatedAccuracy);
    assert.deepEqual(p.packedLayers, [3, 6]);
    assert.deepEqual(p.foldedBatchNorms, [4], 'the last batch norm feeds the float classifier and stays');
    assert.ok(p.bytesAfter < p.bytesBefore, `${p.bytesBefore} → ${p.bytesAfter}`);
    const info = json(frugal('info', packed, '--json').stdout);
    assert.equal(info.binary.macs, 16 * 16 * 9 * 7 * 7);
    assert.ok(info.binary.macShare > 0 && info.binary.macShare < 1);
    const e = json(frugal('eval', packed, ...DATA, '--json').stdout);
    assert.equal(e.testAccuracy, p.testAccuracy);
    // A model without binary layers is refused with the reason.
    const mlp = join(dir, 'mlp.safetensors');
    saveModel(mlp, buildModel(referenceMlp, 1), referenceMlp);
    const bad = frugal('pack', mlp, '--out', join(dir, 'x.safetensors'), ...DATA);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /no binarized layer to pack/);
    assert.equal(frugal('pack', model).code, 2);
  },
);

test(
  'frugal reproduce binary-jets --quick: float, binary-conv and jet networks, tiny-net stability over seeds, ' +
    'packed predictions identical',
  { timeout: 600_000 },
  () => {
    const r = json(
      frugal(
        'reproduce',
        'binary-jets',
        '--quick',
        '--out',
        join(dir, 'repro'),
        '--results-dir',
        join(dir, 'results'),
        ...DATA,
        '--json',
      ).stdout,
    );
    assert.deepEqual(
      r.ours.rows.map((x: { kind: string }) => x.kind),
      ['float', 'binary', 'jet', 'jet-constrained'],
    );
    // 300 images for one epoch: a smoke run, so only well-formed accuracies are asserted here.
    for (const row of r.ours.rows)
      assert.ok(row.accuracy.mean >= 0 && row.accuracy.mean <= 1, `${row.kind}: ${row.accuracy.mean}`);
    assert.deepEqual(
      r.ours.stability.map((x: { values: number[] }) => x.values.length),
      [3, 3, 3],
    );
    // "Fewer resources", measured: the deployed networks were timed from their saved files, and no
    // checkpoint of a finished run is left behind.
    const timed = r.criteria.filter((c: { name: string }) => /measured inference time/.test(c.name));
    assert.equal(timed.length, 2);
    for (const c of timed) assert.ok(Number.isFinite(c.value) && c.value > 0, JSON.stringify(c));
    assert.deepEqual(
      readdirSync(join(dir, 'repro')).filter((f) => f.endsWith('.ckpt')),
      [],
    );
    const packed = r.criteria.find((c: { name: string }) => /packed XNOR-popcount/.test(c.name));
    assert.equal(packed.pass, true, 'every packed binary model predicts as its float simulation');
    // Operation counts: constrained jets below the binary conv, unconstrained not.
    assert.ok(
      r.ours.opsPerOutput['jet-constrained'] < r.ours.opsPerOutput.binary &&
        r.ours.opsPerOutput.jet > r.ours.opsPerOutput.binary,
    );
  },
);
