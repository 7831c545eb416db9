import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors, loadModel } from '../src/node.js';
import { DATA, MAIN, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-'));

test('wrong or missing arguments print the usage and exit 2', () => {
  const cases: [string[], RegExp][] = [
    [[], /usage: frugal COMMAND/],
    [['frobnicate'], /unknown command "frobnicate"/],
    [['train', '--model', 'foo'], /--model must be cnn, mlp, ecg or a .json model spec/],
    [['train', '--model', 'mlp', '--epochs', '0'], /--epochs must be an integer ≥ 1, got "0"/],
    [['train', '--model', 'mlp', '--lr=-1'], /--lr must be a number > 0/],
    [['train', '--model', 'mlp', '--lr', '0'], /--lr must be a number > 0/],
    [['train', '--model', 'mlp', '--optimizer', 'rmsprop'], /--optimizer must be one of sgd, adam, adamw/],
    [
      ['train', '--model', 'mlp', '--dataset', 'cifar10'],
      /--dataset must be one of fashion-mnist, idx:DIR, csv:FILE, folder:DIR, digits, ecg-synthetic, got "cifar10"/,
    ],
    [['train', '--model', 'mlp', '--bogus'], /Unknown option '--bogus'/],
    [['train', '--model', 'mlp', '--early-stopping', '3'], /--early-stopping needs --val-split/],
    [['eval'], /expected 1 positional argument/],
    [['bench', 'x.safetensors', '--batch-size', 'many'], /--batch-size must be an integer/],
  ];
  for (const [args, re] of cases) {
    const r = frugal(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
    assert.match(r.stderr + r.stdout, re, args.join(' '));
    if (args.length) assert.match(r.stderr + r.stdout, /usage:/);
  }
});

test('train --json: stdout is one JSON object with the documented keys; progress goes to stderr', () => {
  const out = join(dir, 'mlp.safetensors');
  const r = frugal(
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--epochs',
    '1',
    '--batch-size',
    '128',
    '--optimizer',
    'adam',
    '--lr',
    '0.002',
    '--seed',
    '2',
    '--out',
    out,
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout);
  for (const k of ['testAccuracy', 'seconds', 'samplesPerSecond', 'finalLoss', 'epochs', 'dataSource'])
    assert.ok(k in j, `missing ${k}`);
  assert.equal(j.dataSource, 'flag');
  assert.equal(j.epochs, 1);
  assert.ok((j.testAccuracy as number) > 0.6, `accuracy ${j.testAccuracy}`);
  assert.match(r.stderr, /Fashion-MNIST from .*fashion-mnist-subset \(flag\)/);
  assert.match(r.stderr, /epoch 1\/1/);
  assert.ok(existsSync(out) && existsSync(`${out}.ckpt`));
});

test('train prints and records the counts it uses: --limit takes the first N, --val-split part of those', () => {
  const out = join(dir, 'limited.safetensors');
  const args = ['--model', 'mlp', ...DATA, '--epochs', '1', '--limit', '300', '--val-split', '0.1'];
  const j = frugal('train', ...args, '--out', out, '--json');
  assert.equal(j.code, 0, j.stderr);
  const res = oneJson(j.stdout) as { samples: { train: number; validation: number; test: number } };
  const test = res.samples.test;
  assert.deepEqual(res.samples, { train: 270, validation: 30, test });
  assert.ok(test > 300, 'the test set stays whole');
  assert.match(j.stderr, new RegExp(`: 270 train, 30 validation, ${test} test \\(.*the first 300 of \\d+ training`));
  const help = frugal('train', '--help').stdout;
  assert.match(
    help.replace(/\s+/g, ' '),
    /--limit N trains on the first N training images \(.*\); the test set stays whole/,
  );
});

test('eval, info and bench read the saved model; --json gives the documented keys', () => {
  const model = join(dir, 'mlp.safetensors');
  const e = oneJson(frugal('eval', model, ...DATA, '--json').stdout);
  assert.ok((e.testAccuracy as number) > 0.6);
  assert.equal((e.confusion as number[][]).length, 10);
  const info = frugal('info', model, '--json');
  const i = oneJson(info.stdout);
  assert.equal(i.params, 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10);
  assert.equal(i.macs, 784 * 256 + 256 * 128 + 128 * 10);
  assert.equal(i.bytes, (i.params as number) * 4);
  assert.ok((i.nonzeroParams as number) > 0 && (i.layers as unknown[]).length === 5);
  const human = frugal('info', model);
  assert.match(human.stdout, /total\s+in \[784\]\s+235,146/);
  const b = oneJson(frugal('bench', model, '--batch-size', '8', '--seconds', '0.1', '--json').stdout);
  assert.ok((b.samplesPerSecond as number) > 0 && (b.latencyMs as number) > 0);
});

test('failures exit non-zero with a one-line reason and no stack trace (unless --debug)', () => {
  const bad = join(dir, 'corrupt.safetensors');
  writeFileSync(bad, Buffer.from('this is not a model file at all'));
  const r = frugal('eval', bad, ...DATA);
  assert.equal(r.code, 1);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /corrupt.safetensors/);
  assert.doesNotMatch(r.stderr, /at .*\.js:\d+/);
  const d = frugal('eval', bad, ...DATA, '--debug');
  assert.match(d.stderr, /at .*\.js:\d+/);
  const nodata = frugal('train', '--model', 'mlp', '--data-dir', dir, '--out', join(dir, 'x.safetensors'));
  assert.equal(nodata.code, 1);
  assert.match(nodata.stderr, /does not hold the Fashion-MNIST files/);
  const spec = join(dir, 'bad.json');
  writeFileSync(
    spec,
    JSON.stringify({
      format: 'frugal-model',
      version: 1,
      input: [784],
      layers: [{ type: 'linear', in: 100, out: 10 }],
    }),
  );
  const s = frugal('train', '--model', spec, ...DATA);
  assert.equal(s.code, 1);
  assert.match(s.stderr, /layer 0 \(linear\) does not fit its input/);
  const resume = frugal('train', '--model', 'mlp', ...DATA, '--out', join(dir, 'never.safetensors'), '--resume');
  assert.equal(resume.code, 1);
  assert.match(resume.stderr, /no checkpoint at/);
});

test('train accepts a JSON model spec file', () => {
  const spec = join(dir, 'tiny.json');
  writeFileSync(
    spec,
    JSON.stringify({
      format: 'frugal-model',
      version: 1,
      input: [1, 28, 28],
      layers: [
        { type: 'conv2d', in: 1, out: 4, kernel: 3, stride: 2 },
        { type: 'batchnorm2d', features: 4 },
        { type: 'relu' },
        { type: 'globalpool2d', mode: 'avg' },
        { type: 'linear', in: 4, out: 10 },
      ],
    }),
  );
  const r = frugal(
    'train',
    '--model',
    spec,
    ...DATA,
    '--epochs',
    '1',
    '--limit',
    '500',
    '--out',
    join(dir, 'tiny.safetensors'),
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const m = loadModel(join(dir, 'tiny.safetensors'));
  assert.equal(m.spec.layers.length, 5);
});

test('resume after a killed run gives the same model as an uninterrupted run', async () => {
  const args = (out: string) => [
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--epochs',
    '6',
    '--batch-size',
    '64',
    '--seed',
    '5',
    '--out',
    out,
  ];
  const full = join(dir, 'full.safetensors');
  assert.equal(frugal(...args(full)).code, 0);

  const killed = join(dir, 'killed.safetensors');
  const child = spawn(process.execPath, [MAIN, ...args(killed)], { stdio: 'ignore' });
  const exited = new Promise<void>((res) => child.on('exit', () => res()));
  // Kill (SIGKILL: no clean-up) as soon as the first checkpoint has landed.
  while (!existsSync(`${killed}.ckpt`)) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGKILL');
  await exited;
  const meta = JSON.parse(decodeSafetensors(readFileSync(`${killed}.ckpt`)).metadata['frugal.checkpoint']);
  assert.ok(meta.epoch < 6, `the run was killed part-way (checkpoint at epoch ${meta.epoch})`);
  assert.ok(!existsSync(killed), 'the killed run never wrote its final model');

  const r = frugal(...args(killed), '--resume', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal(oneJson(r.stdout).resumedFromEpoch, meta.epoch);
  const a = loadModel(full).model.stateDict(),
    b = loadModel(killed).model.stateDict();
  for (const k of Object.keys(a))
    assert.deepEqual(Array.from(b[k].data), Array.from(a[k].data), `tensor ${k} differs after resume`);
});

test('--threads is accepted by every command and validated', () => {
  const model = join(dir, 'mlp.safetensors');
  const b = frugal('bench', model, '--batch-size', '4', '--seconds', '0.05', '--threads', '1', '--json');
  assert.equal(b.code, 0, b.stderr);
  const bad = frugal('bench', model, '--threads', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--threads must be a positive integer/);
});

test('train --profile reports time per op kind, forward and backward', () => {
  const r = frugal(
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--epochs',
    '1',
    '--limit',
    '512',
    '--profile',
    '--out',
    join(dir, 'prof.safetensors'),
    '--json',
  );
  assert.equal(r.code, 0, r.stderr);
  const rows = oneJson(r.stdout).profile as { op: string; forwardMs: number; backwardMs: number; calls: number }[];
  const mm = rows.find((x) => x.op === 'matmul');
  assert.ok(mm && mm.forwardMs > 0 && mm.backwardMs > 0 && mm.calls > 0, JSON.stringify(rows));
  assert.match(r.stderr, /op\s+forward ms\s+backward ms/);
});
