// `frugal train --trainer hsic`: runs on the shipped subset, resumes from its checkpoint, reports both
// readouts and the per-layer nHSIC history, and refuses impossible settings with the reason.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-hsic-'));
const base = ['train', '--trainer', 'hsic', ...DATA, '--limit', '600', '--batch-size', '100', '--sigma', '6'];

test('train --trainer hsic --json reports both readouts and per-layer nHSIC, and --resume continues', () => {
  const out = join(dir, 'm.safetensors');
  // 20 steps (1,000 rows in batches of 50): measured 47% unformatted with the threaded kernels, 55% with the
  // fallback ones; 6 steps gave 40% and 14%, too few for the readout to settle on every backend.
  const base = ['train', '--trainer', 'hsic', ...DATA, '--limit', '1000', '--batch-size', '50', '--sigma', '6'];
  const a = frugal(...base, '--model', 'mlp', '--epochs', '1', '--beta', '1000', '--out', out, '--json');
  assert.equal(a.code, 0, a.stderr);
  const r = oneJson(a.stdout) as Record<string, any>;
  assert.equal(r.trainer, 'hsic');
  assert.equal(r.blocks, 3);
  assert.ok(r.unformattedAccuracy > 0.2, `unformatted ${r.unformattedAccuracy}`);
  assert.equal(typeof r.formattedAccuracy, 'number');
  assert.equal(r.hsicHistory.zy.length, 2); // before training and after epoch 1
  assert.equal(r.hsicHistory.zy[0].length, 3);
  assert.ok(r.history[0].metrics['nhsicZY.2'] > 0);
  assert.match(a.stderr, /epoch 1\/1/);
  const b = frugal(...base, '--model', 'mlp', '--epochs', '2', '--beta', '1000', '--out', out, '--json', '--resume');
  assert.equal(b.code, 0, b.stderr);
  const s = oneJson(b.stdout) as Record<string, any>;
  assert.equal(s.resumedFromEpoch, 1);
  assert.equal(s.history.length, 2);
  assert.deepEqual(s.history[0], r.history[0]);
});

test('train --trainer hsic trains a conv spec with a residual block', () => {
  const spec = join(dir, 'conv.json');
  writeFileSync(
    spec,
    JSON.stringify({
      format: 'frugal-model',
      version: 1,
      input: [1, 28, 28],
      layers: [
        { type: 'conv2d', in: 1, out: 4, kernel: 5, stride: 2 },
        { type: 'batchnorm2d', features: 4 },
        { type: 'relu' },
        { type: 'residual', layers: [{ type: 'conv2d', in: 4, out: 4, kernel: 3, padding: 1 }, { type: 'relu' }] },
        { type: 'flatten' },
        { type: 'linear', in: 576, out: 10 },
        { type: 'batchnorm1d', features: 10 },
        { type: 'relu' },
      ],
    }),
  );
  const r = frugal(
    ...base,
    '--model',
    spec,
    '--epochs',
    '1',
    '--lr',
    '0.01',
    '--out',
    join(dir, 'c.safetensors'),
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout) as Record<string, any>;
  assert.equal(j.blocks, 3);
  assert.ok(Number.isFinite(j.finalLoss));
});

test('train --trainer hsic refuses σ ≤ 0, β < 0, a batch of 1 and layers it cannot train', () => {
  const out = ['--out', join(dir, 'bad.safetensors')];
  for (const [flag, v, msg] of [
    ['--sigma', '0', /--sigma must be a number > 0/],
    ['--sigma', '-1', /--sigma must be a number > 0/],
    ['--beta', '-0.5', /--beta must be a number ≥ 0/],
    ['--batch-size', '1', /at least 2 for --trainer hsic/],
  ] as const) {
    const r = frugal(...base, '--model', 'mlp', `${flag}=${v}`, ...out);
    assert.equal(r.code, 2, `${flag} ${v}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  const opt = frugal(...base, '--model', 'mlp', '--optimizer', 'adam', ...out);
  assert.equal(opt.code, 2);
  assert.match(opt.stderr, /plain SGD/);
  // The hsic flags under the default trainer are usage errors, not silently ignored.
  const bp = frugal('train', ...DATA, '--model', 'mlp', '--sigma', '3', ...out);
  assert.equal(bp.code, 2);
  assert.match(bp.stderr, /--sigma applies to --trainer hsic only/);
  const spec = join(dir, 'circ.json');
  writeFileSync(
    spec,
    JSON.stringify({
      format: 'frugal-model',
      version: 1,
      input: [784],
      layers: [
        { type: 'linear', in: 784, out: 16 },
        { type: 'relu' },
        { type: 'circlinear', in: 16, out: 16, block: 4 },
      ],
    }),
  );
  const c = frugal(...base, '--model', spec, ...out);
  assert.equal(c.code, 1, c.stderr);
  assert.match(c.stderr, /layer 2 \('circlinear'\) cannot be trained by the HSIC trainer/);
  // Two samples: one HSIC batch of 2 is fine; one sample cannot be trained (a run that cannot proceed).
  const one = frugal('train', '--trainer', 'hsic', ...DATA, '--limit', '1', '--model', 'mlp', ...out);
  assert.equal(one.code, 1, one.stderr);
  assert.match(one.stderr, /at least 2 training samples/);
});
