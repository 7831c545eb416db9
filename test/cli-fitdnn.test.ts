import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, saveModel, referenceMlp } from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-fitdnn-'));
const json = (s: string) => oneJson(s) as Record<string, any>;
const fitSpec = (layer: Record<string, unknown> = {}) => ({
  format: 'frugal-model',
  version: 1,
  input: [1, 28, 28],
  layers: [
    { type: 'flatten' },
    { type: 'fit-dnn', in: 784, hidden: 24, layers: 2, diagonals: 9, theta: 0.5, out: 10, ...layer },
  ],
});

test('frugal train / info / eval --simulate dde on a Fit-DNN spec', () => {
  const specPath = join(dir, 'fit.json'),
    out = join(dir, 'fit.safetensors');
  writeFileSync(specPath, JSON.stringify(fitSpec()));
  const t = frugal(
    'train',
    '--model',
    specPath,
    '--out',
    out,
    ...DATA,
    '--limit',
    '600',
    '--epochs',
    '2',
    '--lr',
    '0.01',
    '--json',
  );
  assert.equal(t.code, 0, t.stderr);
  const info = json(frugal('info', out, '--json').stdout);
  assert.equal(info.delayLoops, 9);
  assert.equal(info.theta, 0.5);
  assert.equal(info.processingTime, 2 * 24 * 0.5);
  const map = json(frugal('eval', out, ...DATA, '--json').stdout);
  const dde = frugal('eval', out, ...DATA, '--simulate', 'dde', '--substeps', '16', '--json');
  assert.equal(dde.code, 0, dde.stderr);
  const d = json(dde.stdout);
  assert.equal(d.simulate, 'dde');
  assert.equal(d.substeps, 16);
  // The DDE differs from the map inside each node but classifies like it after training (same weights).
  assert.ok(
    d.testAccuracy > 0.3 && Math.abs(d.testAccuracy - map.testAccuracy) < 0.1,
    `${d.testAccuracy} vs ${map.testAccuracy}`,
  );
});

test('frugal eval --simulate: refused on a model without fit-dnn layers, and bad flags', () => {
  const mlp = join(dir, 'mlp.safetensors');
  saveModel(mlp, buildModel(referenceMlp, 1), referenceMlp);
  const r = frugal('eval', mlp, ...DATA, '--simulate', 'dde');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no fit-dnn layer/);
  assert.equal(frugal('eval', mlp, ...DATA, '--simulate', 'ode').code, 2);
  assert.equal(frugal('eval', mlp, ...DATA, '--substeps', '8').code, 2);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, JSON.stringify(fitSpec({ theta: 0 })));
  const b = frugal('train', '--model', bad, '--out', join(dir, 'b.safetensors'), ...DATA, '--limit', '100');
  assert.equal(b.code, 1);
  assert.match(b.stderr, /'theta'/);
});
