// `frugal reproduce fitdnn` (spec 04): every criterion can fail, and the quick run trains real models.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  fitCriteria,
  sweepSpec,
  sweepVerdict,
  type Denoise,
  type Exactness,
  type FitRun,
} from '../src/reproduce/fitdnn-criteria.js';
import { reproduction } from '../src/reproduce/registry.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';
import { renderChart } from '../src/node.js';
import { assertVegaSvg, markGroups } from './vega-svg.js';

const THETAS = [0.05, 0.5, 2];
const run = (theta: number | null, testAccuracy: number, seed = 1): FitRun => ({
  theta,
  seed,
  testAccuracy,
  valAccuracy: testAccuracy,
  epochsRun: 10,
  samplesPerSecond: 1000,
});
const good = (): FitRun[] =>
  [1, 2, 3].flatMap((s) => [run(null, 0.87, s), run(0.05, 0.8, s), run(0.5, 0.86, s), run(2, 0.87, s)]);
const ex = (): Exactness => ({ ddeGap: [], gradientCosine: 0.999999, gradientCoords: 300, decoupledGap: 2e-9 });
const dn = (): Denoise[] => [{ seed: 1, mse: 0.03, identityMse: 0.2 }];
const failing = (runs: FitRun[], e = ex(), d = dn()) =>
  fitCriteria(runs, e, d)
    .filter((c) => !c.pass)
    .map((c) => c.name.split(' ')[0] + (c.name.includes('minus') ? ' gap' : ''));

test('the fitdnn criteria all pass on good numbers, and each fails on numbers that break it', () => {
  assert.deepEqual(failing(good()), []);
  assert.deepEqual(failing(good(), { ...ex(), gradientCosine: 0.999 }), ['R1b.']);
  assert.deepEqual(failing(good(), { ...ex(), decoupledGap: 3e-6 }), ['R1c.']);
  // R2: 84% misses the bar; a Fit-DNN 3 pt below the decoupled net misses the gap.
  const low = good().map((r) => (r.theta === 0.5 ? { ...r, testAccuracy: 0.84 } : r));
  assert.deepEqual(failing(low.map((r) => (r.theta === null ? { ...r, testAccuracy: 0.85 } : r))), ['R2.']);
  const far = good().map((r) => (r.theta === null ? { ...r, testAccuracy: 0.89 } : r));
  assert.deepEqual(failing(far), ['R2. gap']);
  assert.deepEqual(failing(good(), ex(), [{ seed: 1, mse: 0.21, identityMse: 0.2 }]), ['R4.']);
  // No runs at all: nothing passes by default.
  assert.deepEqual(failing([], ex(), []), ['R2.', 'R2. gap', 'R4.']);
  // The trained criteria are statistics over seeds (a full run on fewer than three fails as not established).
  const seeds = fitCriteria(good(), ex(), dn()).map((c) => c.seeds);
  assert.deepEqual(seeds, [undefined, undefined, 3, 3, 1]);
});

test('the θ-sweep hypothesis is reported as confirmed or not, from the numbers', () => {
  assert.equal(sweepVerdict(good(), THETAS).confirmed, true);
  // Flat curve: no degradation at small θ.
  const flat = good().map((r) => (r.theta === 0.05 ? { ...r, testAccuracy: 0.86 } : r));
  assert.equal(sweepVerdict(flat, THETAS).confirmed, false);
  // θ = 2 far below the decoupled net.
  const bad = good().map((r) => (r.theta === 2 ? { ...r, testAccuracy: 0.8 } : r));
  assert.match(sweepVerdict(bad, THETAS).why, /NOT within/);
});

test('the θ chart: Fit-DNN against θ with error bars, the decoupled net as a reference line (Vega)', async () => {
  const spread = good().map((r) => ({ ...r, testAccuracy: r.testAccuracy + 0.01 * r.seed }));
  const svg = await renderChart(sweepSpec(spread, THETAS));
  assertVegaSvg(svg, 'line');
  assert.deepEqual(markGroups(svg, 'lines'), [1, 1], 'Fit-DNN and the decoupled reference');
  assert.deepEqual(markGroups(svg, 'dots'), [3]);
  assert.deepEqual(markGroups(svg, 'errors'), [3]);
  assert.match(svg, /decoupled \(θ → ∞\)/);
  assert.match(svg, /node separation θ \(log scale\)/);
});

test('reproduce fitdnn --quick: registered, trains to well above chance, exactness holds, writes its results', () => {
  assert.ok(reproduction('fitdnn'));
  const dir = mkdtempSync(join(tmpdir(), 'frugal-fitdnn-'));
  const r = frugal('reproduce', 'fitdnn', '--quick', ...DATA, '--out', dir, '--results-dir', dir, '--json');
  // Judged by the full run's bars (85% on all of Fashion-MNIST), a quick run usually exits 3; it must not error.
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr.slice(-500)}`);
  const j = oneJson(r.stdout) as {
    criteria: { name: string; pass: boolean; value: number }[];
    ours: { runs: FitRun[]; denoise: Denoise[]; exactness: Exactness };
  };
  assert.equal(j.ours.runs.length, 1 + THETAS.length);
  const acc = (t: number | null) => j.ours.runs.find((x) => x.theta === t)!.testAccuracy;
  // Chance is 10%. A map with a wrong carry, sign or delay breaks training or the exactness checks below.
  assert.ok(acc(0.5) > 0.6, `Fit-DNN θ 0.5: ${acc(0.5)}`);
  assert.ok(acc(null) > 0.55, `decoupled: ${acc(null)}`);
  assert.ok(Math.abs(acc(0.5) - acc(null)) < 0.1, `θ 0.5 ${acc(0.5)} vs decoupled ${acc(null)}`);
  const byName = (p: string) => j.criteria.find((c) => c.name.startsWith(p))!;
  assert.ok(byName('R1b').pass && byName('R1c').pass && byName('R4').pass, JSON.stringify(j.criteria));
  assert.ok(j.ours.denoise[0].mse < 0.6 * j.ours.denoise[0].identityMse, JSON.stringify(j.ours.denoise));
  assert.ok(existsSync(join(dir, 'fitdnn-quick.md')) && existsSync(join(dir, 'fitdnn-quick.json')));
  const theta = readFileSync(join(dir, 'fitdnn-quick-theta.svg'), 'utf8');
  assertVegaSvg(theta, 'line', 'fitdnn-quick-theta.svg');
  assert.deepEqual(markGroups(theta, 'dots'), [THETAS.length]);
  assert.match(readFileSync(join(dir, 'fitdnn-quick.md'), 'utf8'), /fitdnn-quick-theta\.svg/);
  // --report-only rebuilds the same criteria from the state file, training nothing.
  const again = frugal('reproduce', 'fitdnn', '--quick', '--report-only', '--out', dir, '--results-dir', dir, '--json');
  assert.deepEqual(
    (oneJson(again.stdout).criteria as { name: string }[]).map((c) => c.name),
    j.criteria.map((c) => c.name),
  );
});
