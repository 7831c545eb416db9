// Issue 26, points 1 and 2 for the newer commands: control train and snn check their output paths before any
// work; control train stops on Ctrl-C after the current episode with a checkpoint, exit 130, and --resume goes on.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, referenceMlp, saveModel } from '../src/node.js';
import { DATA, MAIN, frugal } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-newer-'));

test('control train and snn refuse a directory as --out before any work', () => {
  const model = join(dir, 'mlp.safetensors');
  saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
  const runs = [
    ['control', 'train', '--system', 'lqr', '--out', dir],
    ['snn', model, '--timesteps', '5', ...DATA, '--out', `${dir}/`],
  ];
  for (const args of runs) {
    const r = frugal(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /--out .*(is an existing directory|names a directory)/);
    assert.doesNotMatch(r.stderr, /episode \d|Fashion-MNIST from|tmp-\d/);
  }
});

test('control train: SIGINT stops after an episode with a checkpoint and exit 130; --resume finishes', async () => {
  const out = join(dir, 'ctl.safetensors');
  // --resume must name the same episodes (the learning rates decay over them): a run short enough to finish,
  // interrupted as soon as its first checkpoint exists.
  const args = ['control', 'train', '--system', 'lqr', '--out', out, '--episodes', '150'];
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  while (!existsSync(`${out}.ckpt`) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  const m = /frugal control: interrupted after episode (\d+) \(checkpoint .*ckpt\); continue with --resume/.exec(
    stderr,
  );
  assert.ok(m, stderr);
  assert.ok(!existsSync(out), 'no controller from a stopped run');
  const done = Number(m[1]);
  const r = frugal(...args, '--resume', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(JSON.parse(r.stdout).resumedFromEpisode, done);
  assert.ok(existsSync(out));
});
