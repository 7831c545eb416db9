// Issue 26, point 2, from the command line: Ctrl-C (SIGINT) or SIGTERM stops a run after the current step with
// a checkpoint, exit 130 and how to continue; --resume then ends where an uninterrupted run ends; --resume with
// other flags is refused with the differences; --keep-best keeps the best epoch's model.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, checkpointInfo, loadModel, referenceMlp, saveModel } from '../src/node.js';
import { DATA, MAIN, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-interrupt-'));

/** Start the CLI, send `signal` once the checkpoint `ckpt` exists, and collect the exit. */
async function interrupted(args: string[], ckpt: string, signal: NodeJS.Signals) {
  const child = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '',
    stdout = '';
  child.stderr.on('data', (d) => (stderr += d));
  child.stdout.on('data', (d) => (stdout += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  while (!existsSync(ckpt) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill(signal);
  const code = await exited;
  return { code, stderr, stdout };
}

const trainArgs = (out: string) => [
  'train',
  '--model',
  'mlp',
  ...DATA,
  '--limit',
  '2000',
  '--epochs',
  '3',
  '--batch-size',
  '8',
  '--sampler',
  'ras',
  '--seed',
  '5',
  '--out',
  out,
];

test('train: SIGINT stops mid-run with a checkpoint and exit 130; --resume ends as the uninterrupted run', async () => {
  const stopped = join(dir, 'stopped.safetensors');
  const r = await interrupted(trainArgs(stopped), `${stopped}.ckpt`, 'SIGINT');
  assert.equal(r.code, 130, r.stderr);
  const m = /frugal train: interrupted at epoch (\d+), batch (\d+); continue with --resume/.exec(r.stderr);
  assert.ok(m, r.stderr);
  const info = checkpointInfo(readFileSync(`${stopped}.ckpt`));
  assert.deepEqual([info.epoch + 1, info.batch], [Number(m[1]), Number(m[2])], 'the checkpoint is where it says');
  assert.ok(!existsSync(stopped), 'no final model from a stopped run');

  const other = frugal(...trainArgs(stopped), '--lr', '0.01', '--resume');
  assert.equal(other.code, 2);
  assert.match(other.stderr, /was written with other settings: --lr 0\.001 there, 0\.01 now/);
  assert.doesNotMatch(other.stderr, /usage:/);

  const resumed = frugal(...trainArgs(stopped), '--resume', '--json');
  assert.equal(resumed.code, 0, resumed.stderr);
  const full = join(dir, 'full.safetensors');
  const f = frugal(...trainArgs(full), '--json');
  assert.equal(f.code, 0, f.stderr);
  assert.equal(oneJson(resumed.stdout).finalLoss, oneJson(f.stdout).finalLoss);
  const a = loadModel(full).model.stateDict(),
    b = loadModel(stopped).model.stateDict();
  for (const k of Object.keys(a)) assert.deepEqual(Array.from(b[k].data), Array.from(a[k].data), k);
});

test('prune: SIGTERM stops it at a checkpoint (exit 130), --resume finishes it; --json prints the error', async () => {
  const model = join(dir, 'mlp.safetensors');
  saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
  const out = join(dir, 'pruned.safetensors');
  const args = ['prune', model, '--target-params', '0.5', ...DATA, '--limit', '1000', '--epochs', '3'];
  const r = await interrupted([...args, '--batch-size', '8', '--out', out, '--json'], `${out}.ckpt`, 'SIGTERM');
  assert.equal(r.code, 130, r.stderr);
  assert.match(r.stderr, /frugal prune: interrupted at epoch \d+, batch \d+; continue with --resume/);
  const j = oneJson(r.stdout);
  assert.equal(j.code, 130);
  assert.match(String(j.error), /^interrupted at epoch/);
  const done = frugal(...args, '--batch-size', '8', '--out', out, '--resume');
  assert.equal(done.code, 0, done.stderr);
  assert.ok(existsSync(out));
});

test('train --keep-best keeps the epoch of highest validation accuracy', () => {
  const out = join(dir, 'best.safetensors');
  const args = ['train', '--model', 'mlp', ...DATA, '--limit', '600', '--epochs', '4', '--lr', '0.05'];
  assert.equal(frugal(...args, '--keep-best', '--out', out).code, 2, '--keep-best needs --val-split');
  const r = frugal(...args, '--val-split', '0.2', '--keep-best', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout);
  const h = j.history as { epoch: number; valAccuracy: number }[];
  const best = h.reduce((a, b) => (b.valAccuracy > a.valAccuracy ? b : a));
  assert.equal(j.bestEpoch, best.epoch);
  assert.ok(!existsSync(`${out}.best`), 'the side file is removed');
});
