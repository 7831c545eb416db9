// `frugal reproduce hsic` (spec 03): every criterion can fail, and the quick run trains real networks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FULL_THRESHOLDS,
  hsicCriteria,
  trendShare,
  type HsicRun,
  type Trainer,
  type Variant,
} from '../src/reproduce/hsic-criteria.js';
import { reproduction } from '../src/reproduce/registry.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';
import { assertVegaSvg, markGroups } from './vega-svg.js';

/** Runs whose numbers pass every full-mode criterion; tests spoil one thing at a time. */
function good(): HsicRun[] {
  const run = (variant: Variant, trainer: Trainer, seed: number): HsicRun => ({
    variant,
    trainer,
    seed,
    testEpoch1: variant === 'F1' ? 0.83 : 0.88,
    testFinal: variant === 'F1' ? (trainer === 'hsic' ? 0.86 : 0.85) : trainer === 'hsic' ? 0.89 : 0.885,
    probe:
      trainer === 'hsic'
        ? [
            { zx: [9, 8, 7], zy: [1, 2, 3] },
            { zx: [8, 7, 6], zy: [2, 3, 7] },
            { zx: [7, 6, 5], zy: [3, 4, 8] },
          ]
        : undefined,
    trainSeconds: 10,
    epoch1Seconds: 2,
  });
  return (['F1', 'F2'] as const).flatMap((v) =>
    [1, 2, 3].flatMap((s) => (['hsic', 'backprop'] as const).map((t) => run(v, t, s))),
  );
}
const failing = (runs: HsicRun[], missing: string[] = []) =>
  hsicCriteria(runs, FULL_THRESHOLDS, missing)
    .filter((c) => !c.pass)
    .map((c) => c.name.split('.')[0]);
const spoil = (f: (r: HsicRun) => void, pick: (r: HsicRun) => boolean) => {
  const rs = good();
  rs.filter(pick).forEach(f);
  return failing(rs);
};
const is = (v: Variant, t: Trainer) => (r: HsicRun) => r.variant === v && r.trainer === t;

test('the hsic criteria pass on good numbers, and each fails on numbers that break it', () => {
  assert.deepEqual(failing(good()), []);
  assert.deepEqual(
    spoil((r) => (r.testFinal = 0.835), is('F1', 'hsic')),
    ['F1a'],
  );
  assert.deepEqual(
    spoil((r) => (r.testEpoch1 = 0.8), is('F1', 'hsic')),
    ['F1b'],
  );
  // Backprop 3.5 pt above HSIC.
  assert.deepEqual(
    spoil((r) => (r.testFinal = 0.896), is('F1', 'backprop')),
    ['F1c'],
  );
  assert.deepEqual(
    spoil((r) => (r.testFinal = 0.87), is('F2', 'hsic')),
    ['F2a', 'F2b'],
  );
  assert.deepEqual(
    spoil((r) => (r.testFinal = 0.905), is('F2', 'backprop')),
    ['F2b'],
  );
  // One layer of one seed whose nHSIC(Z, Y) falls, or nHSIC(Z, X) rises, over epoch 1.
  assert.deepEqual(
    spoil(
      (r) => (r.probe![1].zy[1] = 1.5),
      (r) => is('F1', 'hsic')(r) && r.seed === 2,
    ),
    ['F3a'],
  );
  assert.deepEqual(
    spoil(
      (r) => (r.probe![1].zx[0] = 9.5),
      (r) => is('F1', 'hsic')(r) && r.seed === 3,
    ),
    ['F3b'],
  );
  assert.deepEqual(
    spoil((r) => (r.probe![2].zy[2] = 5), is('F1', 'hsic')),
    ['F3c'],
  );
  // A probe value that was not measured (NaN) counts neither as a fall nor as a rise.
  const two = good()
    .filter(is('F1', 'hsic'))
    .slice(0, 1)
    .map((r) => ({
      ...r,
      probe: [
        { zx: [2, 2], zy: [] },
        { zx: [1, NaN], zy: [] },
      ],
    }));
  assert.equal(trendShare(two, 'zx', -1), 1);
  two[0].probe[1].zx[0] = 3;
  assert.equal(trendShare(two, 'zx', -1), 0);
  // Runs missing from the state fail their criteria instead of vanishing.
  const partial = good().filter((r) => r.variant !== 'F2');
  assert.deepEqual(failing(partial, ['F2:hsic:1']), ['F2a', 'F2b']);
});

test('reproduce hsic --quick: HSIC well above chance unformatted and format-trained, results written', () => {
  assert.ok(reproduction('hsic'));
  const dir = mkdtempSync(join(tmpdir(), 'frugal-hsic-repro-'));
  const r = frugal('reproduce', 'hsic', '--quick', ...DATA, '--out', dir, '--results-dir', dir, '--json');
  // F3b (nHSIC(Z, X) falls over epoch 1) is our expectation and may fail (exit 3); errors may not.
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr.slice(-500)}`);
  const j = oneJson(r.stdout) as {
    criteria: { name: string; pass: boolean; value: number }[];
    ours: { runs: HsicRun[] };
  };
  assert.equal(j.ours.runs.length, 4);
  // A broken nHSIC, a wrong sign of β or a permutation fitted wrongly lands near chance (10%). The quick F1 run
  // (about 40 HSIC steps) is sensitive to rounding: measured 76.6% with the relaxed-SIMD kernels and 46.3% without
  // them (same seed), so its bar here is 35%, over three times chance, not the criterion's 65%.
  const byName = (p: string) => j.criteria.find((c) => c.name.startsWith(p))!;
  assert.ok(byName('F1a').value >= 0.35, `F1a: ${JSON.stringify(byName('F1a'))}`);
  for (const p of ['F2a', 'F3a']) assert.ok(byName(p).pass, `${p}: ${JSON.stringify(byName(p))}`);
  // The authors' greedy permutation fit is read beside the assignment on every F1 HSIC run, and reported.
  for (const x of j.ours.runs.filter((x) => x.variant === 'F1' && x.trainer === 'hsic'))
    assert.ok(x.greedyEpoch1! > 0.1 && x.greedyFinal! > 0.1, JSON.stringify(x).slice(0, 300));
  assert.match(
    readFileSync(join(dir, 'hsic-quick.md'), 'utf8'),
    /\| F1 HSIC, unformatted, greedy fit \(authors' rule, train-fitted\) \| \d/,
  );
  // F3's control: the F1 backprop runs carry the same probe (before training and after every epoch).
  for (const x of j.ours.runs.filter((x) => x.variant === 'F1' && x.trainer === 'backprop')) {
    const hsicRun = j.ours.runs.find((h) => h.variant === 'F1' && h.trainer === 'hsic' && h.seed === x.seed)!;
    assert.equal(x.probe!.length, hsicRun.probe!.length);
    assert.equal(x.probe![0].zx.length, hsicRun.probe![0].zx.length + 1, 'the backprop net has one more block');
    assert.ok(x.labelDependence! > 0);
    assert.ok(
      x.probe!.every((p) => [...p.zx, ...p.zy].every(Number.isFinite)),
      `backprop probe: ${JSON.stringify(x.probe)}`,
    );
  }
  assert.match(
    readFileSync(join(dir, 'hsic-quick.md'), 'utf8'),
    /F3 control \(1 seed\(s\); HSIC 1\).* the head \(logits, no batch norm\) \d\.\d\d/,
  );
  assert.ok(existsSync(join(dir, 'hsic-quick.md')) && existsSync(join(dir, 'hsic-quick.json')));
  // Vega SVG: one path per block of the F1 probe run, each with its start and end marker.
  const plane = readFileSync(join(dir, 'hsic-quick-plane.svg'), 'utf8');
  assertVegaSvg(plane, 'line', 'hsic-quick-plane.svg');
  const probe = j.ours.runs.find((x) => x.variant === 'F1' && x.trainer === 'hsic' && x.probe?.length)!.probe!;
  const blocks = probe[0].zx.length;
  assert.deepEqual(markGroups(plane, 'paths'), Array(blocks).fill(1));
  assert.deepEqual([markGroups(plane, 'starts'), markGroups(plane, 'ends')], [[blocks], [blocks]]);
  // The state file lets --resume skip every finished run.
  const again = frugal(
    'reproduce',
    'hsic',
    '--quick',
    ...DATA,
    '--out',
    dir,
    '--results-dir',
    dir,
    '--resume',
    '--json',
  );
  assert.ok(again.code === 0 || again.code === 3, again.stderr.slice(-300));
  assert.doesNotMatch(again.stderr, /epoch 1\/\d+ batch/);
});
