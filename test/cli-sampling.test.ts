// `frugal train --sampler …` (spec 10): uniform is today's training bit for bit; the others log their statistics.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadModel } from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-sampling-'));
const TINY = ['--model', 'mlp', ...DATA, '--limit', '256', '--epochs', '2', '--batch-size', '32', '--json'];

/** The history without the timings, which differ run to run. */
const untimed = (h: unknown) =>
  (h as Record<string, unknown>[]).map(({ seconds: _s, samplesPerSecond: _r, ...rest }) => rest);

test('train --sampler uniform is bit-identical to train without --sampler (history and weights)', () => {
  const a = frugal('train', ...TINY, '--out', join(dir, 'a.safetensors'));
  const b = frugal('train', ...TINY, '--sampler', 'uniform', '--out', join(dir, 'b.safetensors'));
  assert.equal(a.code, 0, a.stderr);
  assert.equal(b.code, 0, b.stderr);
  const ja = oneJson(a.stdout),
    jb = oneJson(b.stdout);
  assert.deepEqual(untimed(jb.history), untimed(ja.history));
  assert.equal(jb.testLoss, ja.testLoss);
  assert.equal(jb.sampler, 'uniform');
  const wa = loadModel(join(dir, 'a.safetensors')).model.stateDict(),
    wb = loadModel(join(dir, 'b.safetensors')).model.stateDict();
  for (const k of Object.keys(wa)) assert.deepEqual(Array.from(wb[k].data), Array.from(wa[k].data), k);
  // And a different sampler trains differently: the comparison above can fail.
  const c = frugal('train', ...TINY, '--sampler', 'ras', '--out', join(dir, 'c.safetensors'));
  assert.equal(c.code, 0, c.stderr);
  assert.notDeepEqual(untimed(oneJson(c.stdout).history), untimed(ja.history));
});

test('train --sampler ras|kf --json puts each epoch sampler statistics in the history', () => {
  for (const [name, key] of [
    ['ras', 'stratumP'],
    ['kf', 'extraForwardRows'],
    ['obs', 'meanLossAge'],
  ]) {
    const lam = name === 'ras' ? ['--sampler-lambda', '0.5'] : [];
    const r = frugal('train', ...TINY, '--sampler', name, ...lam, '--out', join(dir, `${name}.safetensors`));
    assert.equal(r.code, 0, r.stderr);
    const j = oneJson(r.stdout);
    const h = j.history as { sampler?: Record<string, unknown> }[];
    assert.equal(h.length, 2);
    for (const e of h) assert.ok(e.sampler && key in e.sampler, `${name}: no ${key} in ${JSON.stringify(e.sampler)}`);
    if (name === 'ras') {
      assert.equal(j.samplerLambda, 0.5);
      assert.ok((h[1].sampler!.maxWeight as number) <= 1 / 0.5 + 1e-6);
    }
  }
});

test('train refuses an unknown sampler, λ outside [0, 1], and λ for a sampler without one', () => {
  const out = ['--out', join(dir, 'x.safetensors')];
  const cases: [string[], RegExp][] = [
    [['--sampler', 'magic'], /--sampler must be one of uniform, obs, kf, as, ras, ras-kl, ras-floor, got "magic"/],
    [['--sampler', 'ras', '--sampler-lambda', '1.5'], /--sampler-lambda must be a number ≥ 0 ≤ 1, got "1.5"/],
    [['--sampler', 'ras', '--sampler-lambda=-0.1'], /--sampler-lambda must be a number ≥ 0 ≤ 1, got "-0.1"/],
    [['--sampler-lambda', '0.3'], /--sampler-lambda applies to --sampler ras, ras-kl or ras-floor, not uniform/],
  ];
  for (const [args, re] of cases) {
    const r = frugal('train', ...TINY, ...args, ...out);
    assert.equal(r.code, 2, `${args.join(' ')}: exit ${r.code}; ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  assert.match(frugal('train', '--help').stdout, /--sampler uniform\|obs\|kf\|as\|ras/);
});
