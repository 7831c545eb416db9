// `frugal layerwise`: BCGD on Fashion-MNIST least squares from the command line, and its refusals.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DATA, MAIN, frugal, oneJson } from './cli-helpers.js';

const spec = (layers: unknown[]) => ({ format: 'frugal-model', version: 1, input: [49], layers });

test('frugal layerwise fits a deep linear net to the least-squares optimum, without a learning rate', () => {
  const r = frugal('layerwise', ...DATA, '--depth', '2', '--train-samples', '1500', '--target-gap', '1e-3', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout) as {
    widths: number[];
    loss0: number;
    loss: number;
    lossStar: number;
    gap: number;
    stoppedBy: string;
    stepsTo: Record<string, { steps: number; flops: number } | null>;
  };
  assert.deepEqual(j.widths, [49, 49, 10]);
  assert.equal(j.stoppedBy, 'target');
  assert.ok(j.gap <= 1e-3 && j.loss >= j.lossStar && j.loss0 > j.loss, JSON.stringify(j));
  assert.ok(j.stepsTo['1e-2']!.steps < j.stepsTo['1e-3']!.steps && j.stepsTo['1e-2']!.flops < j.stepsTo['1e-3']!.flops);
});

test('frugal layerwise refuses impossible depths and widths (exit 2) and models BCGD cannot train (exit 1)', () => {
  for (const [flag, v, msg] of [
    ['--depth', '0', /--depth must be an integer ≥ 1 ≤ 64, got "0"/],
    ['--depth', '2.5', /--depth must be an integer/],
    ['--width', '0', /--width must be an integer ≥ 1/],
    ['--step', 'adam', /--step must be one of exact, bound/],
    ['--pool', '3', /--pool must be one of/],
  ] as const) {
    const r = frugal('layerwise', ...DATA, flag, v);
    assert.equal(r.code, 2, `${flag} ${v}: ${r.stderr}`);
    assert.match(r.stderr, msg);
  }
  assert.equal(frugal('layerwise', ...DATA, '--model', 'x.json', '--depth', '2').code, 2);
  const dir = mkdtempSync(join(tmpdir(), 'frugal-layerwise-'));
  const write = (name: string, layers: unknown[]) => {
    writeFileSync(join(dir, name), JSON.stringify(spec(layers)));
    return join(dir, name);
  };
  const relu = write('relu.json', [
    { type: 'linear', in: 49, out: 20, bias: false },
    { type: 'relu' },
    { type: 'linear', in: 20, out: 10, bias: false },
  ]);
  let r = frugal('layerwise', ...DATA, '--model', relu);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /layer 1 \('relu'\) is not linear: BCGD trains deep LINEAR networks/);
  r = frugal('layerwise', ...DATA, '--model', 'mlp');
  assert.equal(r.code, 1);
  assert.match(r.stderr, /mlp: layer \d \('relu'\) is not linear/);
  r = frugal('layerwise', ...DATA, '--model', write('bias.json', [{ type: 'linear', in: 49, out: 10 }]));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /has a bias: .* set "bias": false/);
  r = frugal('layerwise', ...DATA, '--model', write('dims.json', [{ type: 'linear', in: 49, out: 7, bias: false }]));
  assert.equal(r.code, 1);
  assert.match(r.stderr, /maps 49 → 7 features; with --pool 4 the problem has 49 inputs and 10 outputs/);
  const ok = write('ok.json', [
    { type: 'linear', in: 49, out: 64, bias: false },
    { type: 'linear', in: 64, out: 10, bias: false },
  ]);
  r = frugal('layerwise', ...DATA, '--model', ok, '--max-steps', '4', '--train-samples', '500', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(oneJson(r.stdout).widths, [49, 64, 10]);
});

test('frugal layerwise: Ctrl-C stops it after the current block step: exit 130, the interrupted message', async () => {
  // A run that would go on for hours: the gap target is out of reach and the step cap is huge.
  const args = ['layerwise', ...DATA, '--depth', '6', '--train-samples', '300', '--max-steps', '100000000'];
  const child = spawn(process.execPath, [MAIN, ...args, '--target-gap', '1e-300'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((res) => child.on('exit', (code) => res(code)));
  // The first progress line proves training has started (and main.ts's signal handler is installed).
  while (!/sweep \d+: loss/.test(stderr) && child.exitCode === null) await new Promise((r) => setTimeout(r, 5));
  child.kill('SIGINT');
  assert.equal(await exited, 130, stderr);
  assert.match(stderr, /frugal layerwise: interrupted at block step \d+ of at most 100000000 \(loss [\d.]+\); /);
});
