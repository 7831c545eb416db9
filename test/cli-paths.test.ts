// Issue 26, point 1: every output path is checked before any work starts, with a message naming the path and
// the fix (exit 2 for a wrong flag, 1 when the filesystem refuses), never an internal temporary name.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, referenceMlp, saveModel, toOnnx } from '../src/node.js';
import { DATA, MAIN, frugal } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-paths-'));
const model = join(dir, 'mlp.safetensors');
saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
const onnx = join(dir, 'mlp.onnx');
writeFileSync(onnx, toOnnx(buildModel(referenceMlp, 1)));
const aFile = join(dir, 'a-file.txt');
writeFileSync(aFile, 'not a directory');

/** Each command that writes a model file, up to its --out. */
const commands: Record<string, string[]> = {
  train: ['train', '--model', 'mlp', ...DATA, '--epochs', '1'],
  'train --trainer hsic': ['train', '--trainer', 'hsic', '--model', 'mlp', ...DATA, '--epochs', '1'],
  prune: ['prune', model, '--target-params', '0.5', ...DATA],
  circulant: ['circulant', model, '--block-size', '2', ...DATA],
  compact: ['compact', model],
  pack: ['pack', model, ...DATA],
  import: ['import', onnx],
};

test('a bad --out is refused before any work, naming the path and the fix', () => {
  const cases: [string, number, RegExp][] = [
    [dir, 2, /is an existing directory; give a file path in it, e\.g\. --out .*model\.safetensors/],
    [`${dir}/sub/`, 2, /names a directory \(it ends in "\/"\); give a file path in it/],
    [join(aFile, 'm.safetensors'), 1, /a-file\.txt is a file, so no directory can be made under it/],
    ['/proc/frugal-no/m.safetensors', 1, /cannot (create the directory|write in) .*; choose a writable location/],
    ['/dev/null', 2, /exists and is not a regular file/],
  ];
  for (const [name, args] of Object.entries(commands)) {
    for (const [out, code, re] of cases) {
      const r = frugal(...args, '--out', out);
      assert.equal(r.code, code, `${name} --out ${out}: exit ${r.code}; ${r.stderr}`);
      assert.match(r.stderr, re, `${name} --out ${out}`);
      assert.ok(r.stderr.includes(out), `${name}: the message names ${out}: ${r.stderr}`);
      assert.doesNotMatch(r.stderr, /tmp-\d|Fashion-MNIST from|epoch \d/, `${name}: no work before the refusal`);
    }
  }
  assert.ok(!existsSync(join(dir, 'sub')), 'a refused path creates nothing');
});

test('a missing parent directory is created (compact), and reproduce checks --out and --results-dir', () => {
  const deep = join(dir, 'new', 'deeper', 'small.safetensors');
  const r = frugal('compact', model, '--out', deep);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(existsSync(deep));
  assert.deepEqual(
    readdirSync(join(dir, 'new', 'deeper')).filter((f) => f.startsWith('.frugal')),
    [],
    'no probe file left',
  );
  const rd = frugal('reproduce', 'pruning', '--quick', '--results-dir', aFile);
  assert.equal(rd.code, 2, rd.stderr);
  assert.match(rd.stderr, /--results-dir .*a-file\.txt is an existing file; --results-dir takes a directory/);
  const ro = frugal('reproduce', 'pruning', '--quick', '--out', '/proc/frugal-no');
  assert.equal(ro.code, 1, ro.stderr);
  assert.match(ro.stderr, /--out \/proc\/frugal-no: cannot (create|write)/);
});

test('train without --out saves to a new runs/NAME-DATE.safetensors and says where; --resume needs --out', () => {
  const cwd = join(dir, 'project');
  mkdirSync(cwd);
  const run = (...a: string[]) =>
    spawnSync(process.execPath, [MAIN, 'train', '--model', 'mlp', ...DATA, '--epochs', '1', '--limit', '200', ...a], {
      cwd,
      encoding: 'utf8',
    });
  const saved: string[] = [];
  for (let i = 0; i < 2; i++) {
    const r = run();
    assert.equal(r.status, 0, r.stderr);
    const m = /no --out given; the model will be saved to (runs\/mlp-\d{8}-\d{6}(-\d+)?\.safetensors)/.exec(r.stderr);
    assert.ok(m, r.stderr);
    assert.ok(existsSync(join(cwd, m[1])));
    saved.push(m[1]);
  }
  assert.notEqual(saved[0], saved[1], 'a second run does not overwrite the first');
  // A run that fails before writing leaves no empty runs/ behind.
  const fresh = join(dir, 'fresh');
  mkdirSync(fresh);
  const failed = spawnSync(process.execPath, [MAIN, 'train', '--model', 'mlp', '--data-dir', join(fresh, 'none')], {
    cwd: fresh,
    encoding: 'utf8',
  });
  assert.equal(failed.status, 1, failed.stderr);
  assert.ok(!existsSync(join(fresh, 'runs')), 'no runs/ directory after a failed run');
  const r = run('--resume');
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--resume continues the run saved at --out PATH; give that --out/);
});
