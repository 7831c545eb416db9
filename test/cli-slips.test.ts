// Issue 26, point 4: the common slips get a message naming what happened and the fix.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { availableParallelism } from 'node:os';
import { copyFileSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, encodeSafetensors, referenceMlp, saveModel } from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-slips-'));

test('a spec, an image, a text file or a checkpoint given as MODEL is named for what it is', () => {
  const spec = join(dir, 'spec.json');
  writeFileSync(spec, JSON.stringify({ format: 'frugal-model', version: 1, input: [784], layers: [] }));
  const png = join(dir, 'shoe.png');
  writeFileSync(png, Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]));
  const txt = join(dir, 'notes.txt');
  writeFileSync(txt, 'my model is in another file\n');
  const ckpt = join(dir, 'run.safetensors.ckpt');
  const model = join(dir, 'm.safetensors');
  saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
  const t = frugal(
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--limit',
    '100',
    '--epochs',
    '1',
    '--out',
    join(dir, 'r.safetensors'),
  );
  assert.equal(t.code, 0, t.stderr);
  copyFileSync(join(dir, 'r.safetensors.ckpt'), ckpt);
  // A checkpoint whose run settings keep no spec (not one of frugal train's) cannot be read as a model.
  const bare = join(dir, 'bare.ckpt');
  writeFileSync(bare, encodeSafetensors({}, { 'frugal.checkpoint': JSON.stringify({ epoch: 1, history: [] }) }));
  const cases: [string, RegExp][] = [
    [spec, /is a JSON model spec, not a trained model file; did you mean `frugal train --model .*spec\.json`\?/],
    [png, /is a PNG image, not a model file/],
    [txt, /is a text file, not a model file/],
    [bare, /is a training checkpoint that does not keep its model spec; the model it trains is saved without \.ckpt/],
  ];
  for (const cmd of ['eval', 'info', 'compact']) {
    for (const [file, re] of cases) {
      // `frugal info SPEC.json` profiles a spec without weights (issue 26 point 3), so there a spec is checked as one.
      if (cmd === 'info' && file === spec) {
        const i = frugal(cmd, file);
        assert.equal(i.code, 1, i.stderr);
        assert.match(i.stderr, /model spec: "layers" must be a non-empty array/);
        continue;
      }
      const r = frugal(cmd, file, ...(cmd === 'compact' ? ['--out', join(dir, 'c.safetensors')] : []));
      assert.equal(r.code, 1, `${cmd} ${file}: ${r.stderr}`);
      assert.match(r.stderr, re, `${cmd} ${file}`);
    }
  }
  assert.ok(readFileSync(model).length > 0);
  // frugal train's checkpoint is a model file too (issue 26 point 2): eval reads the model as of its last step,
  // here the end of the only epoch, so it scores what the finished model scores.
  const fromCkpt = oneJson(frugal('eval', ckpt, ...DATA, '--json').stdout);
  const fromModel = oneJson(frugal('eval', join(dir, 'r.safetensors'), ...DATA, '--json').stdout);
  assert.equal(fromCkpt.testAccuracy, fromModel.testAccuracy);
  const info = frugal('info', ckpt);
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.stdout, /linear/);
});

test('negative numbers reach the flag’s own check; --momentum with adam warns; --threads is capped', () => {
  for (const args of [
    ['--lr', '-1'],
    ['--lr', '-.5'],
  ]) {
    const r = frugal('train', '--model', 'mlp', ...args, '--out', join(dir, 'x.safetensors'));
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--lr must be a number > 0, got "-/);
    assert.doesNotMatch(r.stderr, /ambiguous/);
  }
  const m = frugal(
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--limit',
    '100',
    '--epochs',
    '1',
    '--momentum',
    '0.5',
    '--out',
    join(dir, 'mo.safetensors'),
  );
  assert.equal(m.code, 0, m.stderr);
  assert.match(m.stderr, /warning: --momentum applies to --optimizer sgd; adam ignores it/);
  const cores = availableParallelism();
  const model = join(dir, 'm.safetensors');
  const b = frugal('bench', model, '--batch-size', '2', '--seconds', '0.05', '--threads', String(cores + 1), '--json');
  assert.match(b.stderr, new RegExp(`warning: --threads ${cores + 1} is more than this machine's ${cores} cores`));
  // The fallback pass runs without shared memory (FRUGAL_SHARED=0), where any thread count above 1 is refused.
  if (process.env.FRUGAL_SHARED === '0') assert.match(b.stderr, /threads need SharedArrayBuffer/);
  else assert.equal(b.code, 0, b.stderr);
});

test('--json failures print one {error, code} object on stdout; frugal --version', () => {
  const r = frugal('eval', join(dir, 'missing.safetensors'), '--json');
  assert.equal(r.code, 1);
  const j = oneJson(r.stdout);
  assert.equal(j.code, 1);
  assert.match(String(j.error), /cannot read model file .*missing\.safetensors/);
  assert.match(r.stderr, /missing\.safetensors/);
  const u = frugal('train', '--model', 'mlp', '--lr', '0', '--json');
  assert.equal(u.code, 2);
  assert.equal(oneJson(u.stdout).code, 2);
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
  for (const flag of ['--version', '-V']) {
    const v = frugal(flag);
    assert.equal(v.code, 0);
    assert.match(v.stdout, new RegExp(`^frugal ${pkg.version.replace(/\./g, '\\.')} \\(Node\\.js`));
  }
});
