// `frugal reproduce bcgd` (spec 01): every criterion can fail, P4 is reported not gated, and the quick run
// trains real deep linear networks to the optimum.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { depthTable, depthWins, p1, p2, p3, type BcgdRun } from '../src/reproduce/bcgd-criteria.js';
import { reproduction } from '../src/reproduce/registry.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';
import { assertVegaSvg, markGroups } from './vega-svg.js';

function run(o: Partial<BcgdRun>): BcgdRun {
  return {
    setup: 'a',
    form: 'direct',
    depth: 4,
    width: 10,
    init: 'orthogonal',
    step: 'exact',
    seed: 1,
    steps: 20,
    stoppedBy: 'target',
    lossStar: 0.01,
    loss0: 1,
    finalGap: 5e-7,
    monotoneViolations: 0,
    maxRelIncrease: -0.1,
    stepsTo: { '1e-2': 4, '1e-3': 8, '1e-4': 12, '1e-6': 20 },
    flopsTo: { '1e-2': 4e5, '1e-3': 8e5, '1e-4': 1.2e6, '1e-6': 2e6 },
    gapAfterOneSweep: 0.1,
    curve: [],
    ...o,
  };
}
const good = (): BcgdRun[] =>
  [1, 2, 3, 4, 5].flatMap((seed) => [
    ...[1, 2, 4, 8].map((depth) => run({ seed, depth })),
    ...[20, 40].map((width) => run({ seed, width })),
    ...[10, 20, 40].map((width) => run({ seed, width, setup: 'ill', form: 'gram' })),
  ]);

test('P1, P2 and P3 pass on good numbers and each fails on numbers that break it', () => {
  const all = (rs: BcgdRun[]) => [p1(rs), ...p2(rs), p3(rs, 'a'), p3(rs, 'ill')];
  assert.deepEqual(
    all(good()).filter((c) => !c.pass),
    [],
  );
  // P1: one step where the loss rose.
  const r1 = good();
  r1[3].monotoneViolations = 1;
  assert.equal(p1(r1).pass, false);
  // …but a rise in a bound-step run is not P1's business (P1 is about η*).
  const r1b = [...good(), run({ step: 'bound', monotoneViolations: 2 })];
  assert.equal(p1(r1b).pass, true);
  assert.equal(p1([]).pass, false);
  // P2: depth 8 stops at a 2e-6 gap on one seed; a depth with no runs fails too.
  const r2 = good();
  r2.find((r) => r.depth === 8 && r.seed === 3)!.finalGap = 2e-6;
  assert.deepEqual(
    p2(r2).map((c) => c.pass),
    [true, true, true, false],
  );
  assert.equal(p2(good().filter((r) => r.depth !== 2))[1].pass, false);
  // P3: width 40 needs 25% more steps at the median (3 of 5 seeds), or never gets there.
  const r3 = good();
  r3.filter((r) => r.setup === 'ill' && r.width === 40 && r.seed <= 3).forEach((r) => (r.stepsTo['1e-4'] = 15));
  assert.equal(p3(r3, 'ill').pass, false);
  assert.equal(p3(r3, 'a').pass, true);
  const r3b = good();
  r3b.filter((r) => r.setup === 'a' && r.width === 20).forEach((r) => (r.stepsTo['1e-4'] = null));
  assert.equal(p3(r3b, 'a').pass, false);
  // Within 20%: 12 against 14 steps passes.
  const r3c = good();
  r3c.filter((r) => r.setup === 'a' && r.width === 40).forEach((r) => (r.stepsTo['1e-4'] = 14));
  assert.equal(p3(r3c, 'a').pass, true);
  // A median over seeds carries its count: the fewest seeds behind any width.
  assert.equal(p3(good(), 'a').seeds, 5);
  assert.equal(
    p3(
      good().filter((r) => !(r.width === 40 && r.seed > 1)),
      'a',
    ).seeds,
    1,
  );
});

test('P4 is reported, not gated: it finds depth winning when a deeper net needs fewer FLOPs', () => {
  const rs = [run({ depth: 1 }), run({ depth: 2, flopsTo: { '1e-2': 1e5, '1e-3': 9e5, '1e-4': null } })];
  const rows = depthTable(rs, ['a']);
  assert.deepEqual(rows[1].ratioToDepth1, { '1e-2': 0.25, '1e-3': 1.125, '1e-4': null });
  // FLOPs before the first step (the Gram matrices) are shared by every depth and left out of the ratio.
  const withSetup = (r: BcgdRun): BcgdRun => ({ ...r, curve: [[0, 1e5, 1]] });
  const rows2 = depthTable(rs.map(withSetup), ['a']);
  assert.deepEqual(rows2[1].ratioToDepth1, { '1e-2': 0, '1e-3': 8 / 7, '1e-4': null });
  assert.equal(rows2[1].setupFlops, 1e5);
  assert.deepEqual(depthWins(rows), [{ setup: 'a', depth: 2, gap: '1e-2', ratio: 0.25 }]);
  assert.deepEqual(depthWins(depthTable([run({ depth: 1 }), run({ depth: 4 })], ['a'])), []);
});

test('reproduce bcgd --quick: P1 and P2 pass on real runs, P4 and charts are written, --report-only agrees', () => {
  assert.ok(reproduction('bcgd'));
  const dir = mkdtempSync(join(tmpdir(), 'frugal-bcgd-'));
  const store = join(dir, 'runs.sqlite');
  const r = frugal(
    'reproduce',
    'bcgd',
    '--quick',
    ...DATA,
    '--out',
    dir,
    '--results-dir',
    dir,
    '--store',
    store,
    '--json',
  );
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr.slice(-500)}`);
  // --store: the run recorded with each criterion's value and pass (issue 22, point 4).
  const stored = oneJson(frugal('runs', 'show', '1', '--store', store, '--json').stdout) as {
    run: { command: string; name: string; metrics: Record<string, number> };
  };
  assert.equal(stored.run.command, 'reproduce');
  assert.equal(stored.run.name, 'bcgd');
  const crit = (oneJson(r.stdout) as { criteria: { pass: boolean }[] }).criteria;
  crit.forEach((c, i) => assert.equal(stored.run.metrics[`criterion.${i + 1}.pass`], c.pass ? 1 : 0));
  const j = oneJson(r.stdout) as {
    seeds: number[];
    criteria: { name: string; pass: boolean; value: number }[];
    ours: { runs: BcgdRun[]; p4: { setup: string; depth: number }[] };
    results: { attachments: string[] };
  };
  assert.deepEqual(j.seeds, [1, 2, 3, 4, 5]);
  // A wrong gradient, step or loss breaks these: every η* run monotone, every depth at a 1e-6 gap.
  const gate = j.criteria.filter((c) => /^P[12]\./.test(c.name));
  assert.equal(gate.length, 5);
  assert.ok(
    gate.every((c) => c.pass),
    JSON.stringify(gate),
  );
  assert.equal(j.criteria.filter((c) => c.name.startsWith('P3')).length, 2);
  assert.ok(
    j.criteria.every((c) => !c.name.startsWith('P4')),
    'P4 is not a gate',
  );
  assert.ok(j.ours.p4.some((x) => x.setup === 'fmnist-7x7' && x.depth === 8));
  for (const f of ['bcgd-quick.md', 'bcgd-quick.json', 'bcgd-quick-steps.svg', 'bcgd-quick-flops.svg'])
    assert.ok(existsSync(join(dir, f)), f);
  // The charts are Vega SVG: one line per charted run (the report keeps whole curves only for those), per panel.
  const charted = j.ours.runs.filter((q) => q.curve.length > 1).length;
  assert.ok(charted >= 4, `charted runs: ${charted}`);
  for (const f of ['bcgd-quick-steps.svg', 'bcgd-quick-flops.svg']) {
    const svg = readFileSync(join(dir, f), 'utf8');
    assertVegaSvg(svg, 'line', f);
    assert.deepEqual(markGroups(svg, 'lines'), Array(charted).fill(1), f);
    assert.match(svg, /depth 8/, f);
  }
  const md = readFileSync(join(dir, 'bcgd-quick.md'), 'utf8');
  assert.match(md, /!\[loss gap against FLOPs\]\(bcgd-quick-flops\.svg\)/);
  assert.match(md, /depth beats depth 1 per FLOP|Depth won in/);
  const again = frugal('reproduce', 'bcgd', '--quick', '--report-only', '--out', dir, '--results-dir', dir, '--json');
  assert.equal(again.code, r.code);
  assert.deepEqual(
    (oneJson(again.stdout).criteria as { name: string; value: number }[]).map((c) => [c.name, c.value]),
    j.criteria.map((c) => [c.name, c.value]),
  );
});
