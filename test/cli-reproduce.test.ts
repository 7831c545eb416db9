// The reproduction registry, the results writer and the exit status of `frugal reproduce`. The
// reports here come from hand-made state files (--report-only), so no test trains a network.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { reproductions } from '../src/reproduce/registry.js';
import { allPass, criterion, exitStatus } from '../src/reproduce/report.js';
import { commandLine, criteriaTable, resultPaths } from '../src/reproduce/results.js';
import { frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-repro-'));

test('exit status and allPass: one failing criterion gives 3 and false; all passing gives 0 and true', () => {
  const pass = criterion('a', '≤ 1', 0.5, true),
    fail = criterion('b', '≤ 1', 2, false);
  assert.equal(exitStatus({ criteria: [pass, pass] }), 0);
  assert.equal(allPass({ criteria: [pass, pass] }), true);
  assert.equal(exitStatus({ criteria: [pass, fail, pass] }), 3);
  assert.equal(allPass({ criteria: [pass, fail] }), false);
  // No criterion at all, or a run missing from the state, is not a pass either.
  assert.equal(exitStatus({ criteria: [] }), 3);
  assert.equal(exitStatus({ criteria: [pass], missing: ['seed 1: dense'] }), 3);
});

test("results writer: one criteria table for all; quick results never take a full run's file name", () => {
  const t = criteriaTable([
    criterion('x', '≤ 1', 0.25, true),
    criterion('y', '< 3', Infinity, false),
    criterion('z', '≥ 0', NaN, false),
  ]);
  assert.equal(
    t,
    [
      '| criterion | target | value | pass |',
      '|---|---|---|---|',
      '| x | ≤ 1 | 0.2500 | yes |',
      '| y | < 3 | never | **no** |',
      '| z | ≥ 0 | — | **no** |',
    ].join('\n'),
  );
  assert.deepEqual(resultPaths('d', { name: 'circconv', mode: 'full' }), {
    markdown: join('d', 'circconv.md'),
    json: join('d', 'circconv.json'),
  });
  assert.deepEqual(resultPaths('d', { name: 'circconv', mode: 'quick' }), {
    markdown: join('d', 'circconv-quick.md'),
    json: join('d', 'circconv-quick.json'),
  });
  assert.equal(commandLine(['reproduce', 'x', '--out', 'a b']), `frugal reproduce x --out 'a b'`);
});

test('frugal reproduce --help lists every registered reproduction and the exit statuses', () => {
  const r = frugal('reproduce', '--help');
  assert.equal(r.code, 0);
  const names = reproductions().map((x) => x.name);
  assert.deepEqual(names, [
    'pruning',
    'circconv',
    'binary-jets',
    'ras',
    'fitdnn',
    'hsic',
    'bcgd',
    'gdhp',
    'snn',
    'ecg-search',
  ]);
  for (const x of reproductions()) {
    assert.match(r.stdout, new RegExp(`\\n {4}${x.name} +${x.describe.replace(/[()]/g, '\\$&')}\\n`), x.name);
    for (const [flag, o] of Object.entries(x.options)) {
      assert.ok(r.stdout.includes(`${o.usage} (${x.name} only)`), flag);
    }
  }
  assert.match(r.stdout, /Exit status: 0 every criterion passes; 3 the run finished but a criterion failed/);
  assert.match(r.stdout, /1 error/);
  // The top-level usage carries the same list.
  assert.ok(names.every((n) => frugal('--help').stdout.includes(`    ${n} `)));
});

test("usage errors: an unknown reproduction, another one's flag, --report-only with training flags", () => {
  const cases: [string[], RegExp][] = [
    [['reproduce', 'alchemy'], /unknown reproduction "alchemy"; available: pruning, circconv, binary-jets/],
    [['reproduce', 'circconv', '--prune-epochs', '2'], /--prune-epochs applies to pruning only/],
    [['reproduce', 'pruning', '--prune-epochs', '0'], /--prune-epochs must be an integer ≥ 1/],
    [['reproduce', 'circconv', '--report-only', '--resume'], /--report-only trains nothing; drop --resume/],
  ];
  for (const [args, re] of cases) {
    const r = frugal(...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, re);
  }
  const none = frugal(
    'reproduce',
    'circconv',
    '--report-only',
    '--out',
    join(dir, 'nothing'),
    '--results-dir',
    join(dir, 'r0'),
  );
  assert.equal(none.code, 1);
  assert.match(none.stderr, /no state file at .*reproduce-circconv\.state\.json/);
  assert.ok(!existsSync(join(dir, 'r0')), 'an error writes no document');
});

/**
 * A finished circconv state (full mode, three seeds, the fine-tuning recipe chosen on validation) whose numbers pass
 * every criterion; `scratch4` sets one accuracy.
 */
function circconvState(scratch4 = 0.895): { config: Record<string, unknown>; runs: Record<string, unknown> } {
  const run = (name: string, block: number, regime: string, curve: number[], projected?: number) => ({
    name,
    block,
    regime,
    accuracy: curve[curve.length - 1],
    curve,
    ...(projected === undefined ? {} : { projected }),
    params: 1000 / block,
    macs: 5000,
    ...(block > 1 ? { fftMults: 3000 / block } : {}),
  });
  const runs: Record<string, unknown> = { 'select:tune': { chosen: 0, valAccuracy: [0.89, 0.885] } };
  const scratch: Record<number, number> = { 2: 0.898, 4: scratch4, 8: 0.89, 16: 0.87 };
  for (const seed of [1, 2, 3]) {
    runs[`${seed}:dense`] = run('dense', 1, 'dense', [0.85, 0.9]);
    for (const N of [2, 4, 8, 16]) {
      runs[`${seed}:scratch N=${N}`] = run(`from scratch N=${N}`, N, 'scratch', [0.8, scratch[N]]);
      runs[`${seed}:convert N=${N}`] = run(`converted N=${N}`, N, 'convert', [0.896], 0.5);
    }
  }
  const config = {
    quick: false,
    trainSamples: 12000,
    valFraction: 1 / 6,
    epochs: 6,
    tuneEpochs: 2,
    widths: [32, 64, 128],
    optimizer: 'adam',
    dataSource: 'system',
  };
  return { config, runs };
}

/** Write a state into a fresh --out folder; returns the folder and the file. */
function stateIn(name: string, st: unknown): { out: string; file: string } {
  const out = join(dir, name);
  mkdirSync(out, { recursive: true });
  const file = join(out, 'reproduce-circconv.state.json');
  writeFileSync(file, JSON.stringify(st, null, 1));
  return { out, file };
}

test('--report-only: a state meeting every criterion exits 0; one failing criterion: exit 3, allPass false', () => {
  const ok = stateIn('pass', circconvState());
  const res = join(dir, 'res-pass');
  const r = frugal('reproduce', 'circconv', '--report-only', '--out', ok.out, '--results-dir', res, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout) as { allPass: boolean; criteria: { pass: boolean }[]; report: string };
  assert.equal(j.allPass, true);
  assert.equal(j.criteria.length, 5);
  assert.equal(j.report, join(res, 'circconv.md'));
  const saved = JSON.parse(readFileSync(join(res, 'circconv.json'), 'utf8'));
  assert.equal(saved.allPass, true);
  assert.equal(saved.run.reportOnly, true);
  assert.match(saved.run.commit, /^([0-9a-f]{40}|unknown)$/);
  assert.equal(saved.run.load.before.length, 3);
  const md = readFileSync(join(res, 'circconv.md'), 'utf8');
  const parts = [
    '## Criteria',
    'Every criterion passes.',
    "## The paper's numbers",
    '- command: `frugal reproduce circconv --report-only',
    '- date: ',
    '- commit: ',
    'data: fashion-mnist (system)',
    'seeds: 1, 2, 3',
    'machine load',
  ];
  for (const part of parts) assert.ok(md.includes(part), part);

  // The same state read with one seed: a full run's statistics on one seed are not established, exit 3.
  const one = frugal('reproduce', 'circconv', '--report-only', '--seeds', '1', '--out', ok.out, '--results-dir', res);
  assert.equal(one.code, 3, one.stderr);
  assert.match(readFileSync(join(res, 'circconv.md'), 'utf8'), /not established: 1 seed\(s\)/);

  // The same state with a 5-point drop at N = 4 (and so a non-monotone curve): exit 3.
  const bad = stateIn('fail', circconvState(0.85));
  const resBad = join(dir, 'res-fail');
  const f = frugal('reproduce', 'circconv', '--report-only', '--out', bad.out, '--results-dir', resBad, '--json');
  assert.equal(f.code, 3, f.stderr);
  const jf = oneJson(f.stdout) as { allPass: boolean; criteria: { name: string; pass: boolean; value: number }[] };
  assert.equal(jf.allPass, false);
  const n4 = jf.criteria.find((c) => c.name.startsWith('from scratch N=4'))!;
  assert.equal(n4.pass, false);
  assert.ok(Math.abs(n4.value - 5) < 1e-9, `${n4.value}`);
  assert.equal(JSON.parse(readFileSync(join(resBad, 'circconv.json'), 'utf8')).allPass, false);
  const mdBad = readFileSync(join(resBad, 'circconv.md'), 'utf8');
  assert.match(mdBad, /\*\*Not every criterion passes\*\* \(2 of 5 failed\)/);
});

test('--report-only on a partial state: the state file stays byte-identical and the missing run is named', () => {
  const st = circconvState();
  delete st.runs['1:convert N=8'];
  const { out, file } = stateIn('partial', st);
  const before = readFileSync(file);
  const res = join(dir, 'res-partial');
  const r = frugal('reproduce', 'circconv', '--report-only', '--out', out, '--results-dir', res, '--json');
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual(readFileSync(file), before, 'the state file is not rewritten');
  assert.match(r.stderr, /the state lacks 1 run\(s\): seed 1: convert N=8/);
  const j = oneJson(r.stdout) as {
    allPass: boolean;
    missing: string[];
    ours: { rows: { name: string }[] };
    criteria: { name: string; pass: boolean }[];
  };
  assert.deepEqual(j.missing, ['seed 1: convert N=8']);
  assert.equal(j.allPass, false);
  assert.ok(!j.ours.rows.some((x) => x.name === 'convert N=8'));
  const c8 = j.criteria.find((c) => c.name.startsWith('converted N=8'))!;
  assert.match(c8.name, /not measured: convert N=8 missing/);
  assert.equal(c8.pass, false);
  const others = j.criteria.filter((c) => !c.name.startsWith('converted N=8'));
  assert.ok(
    others.every((c) => c.pass),
    'the other criteria are measured',
  );
  const md = readFileSync(join(res, 'circconv.md'), 'utf8');
  assert.match(md, /\*\*Partial:\*\* the state lacks these runs.*seed 1: convert N=8/);
});

test('every registered reproduction builds a report from an empty state, naming its missing runs', () => {
  const config = { quick: true, seeds: [1], widths: [8, 16], tiny: [4, 8], stabilitySeeds: 3, dataSource: 'subset' };
  for (const x of reproductions()) {
    const r = x.fromState({ config, runs: {} }, [1]);
    assert.equal(r.name, x.name);
    assert.ok((r.missing?.length ?? 0) > 0, x.name);
    assert.equal(allPass(r), false, x.name);
    assert.equal(typeof x.report(r), 'string', x.name);
  }
});
