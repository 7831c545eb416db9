import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, saveModel, type ModelSpec } from '../src/node.js';
import { DATA, MAIN, frugal, oneJson, reportJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-circ-'));
const json = (s: string) => oneJson(s) as Record<string, any>;

const spec: ModelSpec = {
  format: 'frugal-model',
  version: 1,
  input: [1, 28, 28],
  layers: [
    { type: 'conv2d', in: 1, out: 6, kernel: 3, padding: 1 },
    { type: 'relu' },
    { type: 'maxpool2d', kernel: 4 },
    { type: 'conv2d', in: 6, out: 8, kernel: 3, padding: 1 },
    { type: 'relu' },
    { type: 'flatten' },
    { type: 'linear', in: 8 * 7 * 7, out: 10 },
  ],
};
const base = join(dir, 'small.safetensors');
saveModel(base, buildModel(spec, 1), spec);

test(
  'frugal circulant: converts, fine-tunes and reports; a block size that does not divide is refused or padded ' +
    'on request',
  () => {
    const bad: [string[], number, RegExp][] = [
      [['circulant', base, '--out', join(dir, 'x'), '--block-size', '3'], 2, /power of two/],
      [['circulant', base, '--block-size', '4'], 2, /--out PATH is required/],
      [
        ['circulant', base, '--out', join(dir, 'x'), '--block-size', '2', '--distill', '--alpha', '1.5'],
        2,
        /--alpha must be a number ≥ 0 ≤ 1, got "1.5"/,
      ],
      [
        ['circulant', base, '--out', join(dir, 'x'), '--block-size', '2', '--temperature', '2'],
        2,
        /--alpha and --temperature set up --distill; add --distill/,
      ],
      [
        ['circulant', base, '--out', join(dir, 'x'), '--block-size', '2', '--distill', '--epochs', '0'],
        2,
        /--distill acts while fine-tuning; give --epochs 1 or more/,
      ],
      // Every layer has a channel count 4 does not divide (1→6, 6→8, 392→10): refused with the reason and the way
      // out.
      [
        ['circulant', base, '--out', join(dir, 'x'), '--block-size', '4', ...DATA, '--limit', '64'],
        1,
        /no layer can be made circulant with block size 4.*does not divide its channels.*--pad/,
      ],
    ];
    for (const [args, code, re] of bad) {
      const r = frugal(...args);
      assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
      assert.match(r.stderr, re, args.join(' '));
    }
    const out = join(dir, 'c.safetensors');
    const p = json(
      frugal(
        'circulant',
        base,
        '--block-size',
        '4',
        '--pad',
        '--include',
        'conv2d',
        '--epochs',
        '1',
        ...DATA,
        '--limit',
        '256',
        '--out',
        out,
        '--json',
      ).stdout,
    );
    // 1→6 padded to 4→8 (the waste shows: more parameters than the dense layer), 6→8 padded to 8→8.
    assert.deepEqual(
      p.converted.map((c: { layer: number; paddedTo: number[]; paramsAfter: number }) => [
        c.layer,
        c.paddedTo,
        c.paramsAfter,
      ]),
      [
        [0, [4, 8], 2 * 1 * 4 * 9 + 6],
        [3, [8, 8], 2 * 2 * 4 * 9 + 8],
      ],
    );
    assert.equal(p.paramsBefore - p.paramsAfter, 6 * 9 + 6 + 48 * 9 + 8 - (78 + 152), JSON.stringify(p));
    for (const k of ['denseAccuracy', 'projectedAccuracy', 'testAccuracy']) assert.ok(p[k] >= 0 && p[k] <= 1, k);
    const info = json(frugal('info', out, '--json').stdout);
    assert.equal(info.params, p.paramsAfter);
    assert.equal(p.distill, null);
    const d = json(
      frugal(
        'circulant',
        base,
        '--block-size',
        '2',
        '--include',
        'conv2d',
        '--epochs',
        '1',
        '--distill',
        '--temperature',
        '2',
        ...DATA,
        '--limit',
        '128',
        '--out',
        join(dir, 'd.safetensors'),
        '--json',
      ).stdout,
    );
    assert.deepEqual(d.distill, { alpha: 0.7, temperature: 2 });
    assert.ok(d.testAccuracy >= 0 && d.testAccuracy <= 1);
  },
);

test(
  'frugal reproduce circconv --quick: the curve over N beside the dense baseline, criteria reported',
  { timeout: 600_000 },
  () => {
    const r = reportJson(
      frugal(
        'reproduce',
        'circconv',
        '--quick',
        '--out',
        join(dir, 'repro'),
        '--results-dir',
        join(dir, 'results'),
        ...DATA,
        '--train-samples',
        '1000',
        '--epochs',
        '2',
        '--json',
      ),
    );
    const names = r.ours.rows.map((x: { name: string }) => x.name);
    assert.deepEqual(names, ['dense', ...[2, 4, 8, 16].flatMap((N) => [`scratch N=${N}`, `convert N=${N}`])]);
    // 1,000 images for two epochs: every network well above the 10% of chance. Measured over seeds 1–4 here:
    // 38.9–71.5% (seed 1: 56–65%); CI once read 38.1% for seed 1's converted N=2. A broken layer or gradient
    // lands near chance; a broken conversion leaves fine-tuning about where a fresh network starts, and seed 1's
    // networks from scratch read 10–26% on validation after their first epoch. So 30%, not 40%.
    // On failure, every row's accuracy and first curve: seed 1's dense row reads 0.604, curve [0.257, 0.617] here.
    // All rows off means the machine computes differently; one row off means that run went astray.
    const rows = JSON.stringify(
      r.ours.rows.map((x: { name: string; accuracy: { mean: number }; curves: number[][] }) => [
        x.name,
        x.accuracy.mean,
        x.curves[0],
      ]),
    );
    for (const row of r.ours.rows)
      assert.ok(row.accuracy.mean >= 0.3, `${row.name}: ${row.accuracy.mean} < 30%; ${rows}`);
    // Parameters of the converted layers are dense/N: the totals fall as N grows (N = 16 leaves
    // the quick network's 8-channel layer dense, so it is not compared).
    const params = [2, 4, 8].map((N) => r.ours.rows.find((x: { name: string }) => x.name === `scratch N=${N}`).params);
    assert.ok(
      params.every((v: number, i: number) => i === 0 || v < params[i - 1]),
      JSON.stringify(params),
    );
    assert.ok(r.criteria.length >= 5 && r.criteria.every((c: { pass: unknown }) => typeof c.pass === 'boolean'));
    // The quick run's document goes to the results folder under a quick name, with allPass in its JSON.
    assert.equal(r.report, join(dir, 'results', 'circconv-quick.md'));
    assert.equal(JSON.parse(readFileSync(join(dir, 'results', 'circconv-quick.json'), 'utf8')).allPass, r.allPass);
    // --seeds 2 --resume keeps seed 1's finished runs and adds seed 2's.
    const r2 = reportJson(
      frugal(
        'reproduce',
        'circconv',
        '--quick',
        '--out',
        join(dir, 'repro'),
        '--results-dir',
        join(dir, 'results'),
        ...DATA,
        '--train-samples',
        '1000',
        '--epochs',
        '2',
        '--seeds',
        '2',
        '--resume',
        '--json',
      ),
    );
    assert.deepEqual(r2.seeds, [1, 2]);
    for (const [i, row] of r2.ours.rows.entries()) {
      assert.equal(row.curves.length, 2, row.name);
      assert.deepEqual(row.curves[0], r.ours.rows[i].curves[0], `${row.name}: seed 1 resumed, not retrained`);
    }
  },
);

test(
  'frugal reproduce circconv: a run stopped part-way resumes from its last epoch, with the result of an ' +
    'uninterrupted one',
  { timeout: 600_000 },
  async () => {
    const args = (out: string) => [
      'reproduce',
      'circconv',
      '--quick',
      '--out',
      out,
      '--results-dir',
      join(out, 'results'),
      ...DATA,
      '--train-samples',
      '128',
      '--epochs',
      '2',
      '--json',
    ];
    const full = reportJson(frugal(...args(join(dir, 'full'))));
    const out = join(dir, 'killed');
    const child = spawn(process.execPath, [MAIN, ...args(out)], { stdio: 'ignore' });
    const exited = new Promise<void>((res) => child.on('exit', () => res()));
    // SIGKILL as soon as the first epoch's checkpoint has landed (the dense run, one epoch of two).
    const ckpt = join(out, 'reproduce-circconv-quick-seed1-dense.ckpt');
    while (!existsSync(ckpt)) await new Promise((r) => setTimeout(r, 5));
    child.kill('SIGKILL');
    await exited;
    assert.ok(!existsSync(join(out, 'reproduce-circconv-quick.state.json')), 'killed before the dense run finished');
    const resumed = frugal(...args(out), '--resume');
    assert.match(resumed.stderr, /seed 1: dense resumed after epoch 1/);
    const r = reportJson(resumed);
    assert.deepEqual(
      r.ours.rows.map((x: { curves: number[][] }) => x.curves),
      full.ours.rows.map((x: { curves: number[][] }) => x.curves),
    );
    assert.deepEqual(
      readdirSync(out).filter((f) => f.endsWith('.ckpt')),
      [],
      'finished runs leave no checkpoint',
    );
  },
);
