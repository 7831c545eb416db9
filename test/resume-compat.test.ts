import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DATA, frugal, oneJson } from './cli-helpers.js';

// A checkpoint written by the build before parameter groups (see expected.json's madeBy): a circulant model
// trained one epoch with SGD, whose circulant weights step at lr/N. Optimizer state is saved by each tensor's
// place among the model's parameters, so a model whose optimizer groups them differently still resumes it.
const fixtures = fileURLToPath(new URL('../../test/fixtures/checkpoints/', import.meta.url));
const expected = JSON.parse(readFileSync(join(fixtures, 'expected.json'), 'utf8'));

test('a checkpoint of a circulant model under SGD from before parameter groups resumes exactly', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-resume-'));
  const out = join(dir, 'two.safetensors');
  copyFileSync(join(fixtures, 'circ-sgd-epoch1.ckpt'), `${out}.ckpt`);
  const r = frugal(
    'train',
    '--model',
    join(fixtures, 'circ-sgd.json'),
    '--optimizer',
    'sgd',
    '--lr',
    '0.05',
    '--epochs',
    '2',
    '--limit',
    '256',
    ...DATA,
    '--seed',
    '3',
    '--out',
    out,
    '--resume',
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout) as { history: { loss: number }[]; testAccuracy: number };
  assert.deepEqual(
    j.history.map((h) => h.loss),
    expected.losses,
    'the resumed run has the losses of the uninterrupted one',
  );
  assert.equal(j.testAccuracy, expected.testAccuracy);
});
