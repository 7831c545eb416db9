// Plain-words messages of a new user's slips: a missing or unreadable file, a misspelt flag or command, a
// text file given to predict as an image.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA, MAIN, frugal } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-messages-'));

test('a missing model file, a directory or a device is said in words, not as ENOENT', () => {
  const missing = frugal('eval', join(dir, 'missing.safetensors'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read model file .*missing\.safetensors: no such file/);
  assert.doesNotMatch(missing.stderr, /ENOENT/);
  const folder = join(dir, 'folder.safetensors');
  mkdirSync(folder);
  assert.match(frugal('info', folder).stderr, /cannot read model file .*folder\.safetensors: it is a directory/);
  assert.match(frugal('predict', join(dir, 'm.safetensors'), 'x.png').stderr, /: no such file/);
  // A device is not called a directory (and is not read: /dev/zero would never end).
  const device = frugal('info', '/dev/zero');
  assert.equal(device.code, 1);
  assert.match(device.stderr, /cannot read model file \/dev\/zero: it is not a regular file \(a device\)/);
});

test('a misspelt flag or command gets a did-you-mean', () => {
  const flag = frugal('train', '--model', 'mlp', '--epoch', '1');
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /Unknown option '--epoch' \(did you mean '--epochs'\?\)/);
  const cmd = frugal('trian');
  assert.equal(cmd.code, 2);
  assert.match(cmd.stderr, /unknown command "trian" \(did you mean 'train'\?\)/);
  assert.doesNotMatch(frugal('zzzzzz').stderr, /did you mean/);
});

test('predict: a text file named like an image is said not to be a PNG/JPEG, .npy or CSV of numbers', () => {
  const model = join(dir, 'm.safetensors');
  const t = frugal('train', '--model', 'mlp', ...DATA, '--epochs', '1', '--limit', '100', '--out', model);
  assert.equal(t.code, 0, t.stderr);
  const text = join(dir, 'notimg.png');
  writeFileSync(text, 'hello, this is\nsome text\n');
  const r = frugal('predict', model, text);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /notimg\.png is not a PNG or JPEG image, a \.npy or IDX array or a CSV of numbers/);
});

test('compare that fails before writing leaves no empty default output directory', () => {
  const cwd = mkdtempSync(join(tmpdir(), 'frugal-compare-fail-'));
  const r = spawnSync(process.execPath, [MAIN, 'compare', '--quick', '--data-dir', join(cwd, 'no-data')], {
    cwd,
    encoding: 'utf8',
  });
  assert.equal(r.status, 1, r.stderr);
  assert.match(r.stderr, /no-data/);
  // runs/ may exist (an ancestor check needs none), but no compare-* directory in it.
  const runs = join(cwd, 'runs');
  assert.deepEqual(existsSync(runs) ? readdirSync(runs) : [], []);
});
