// `frugal reproduce snn` (spec 07): every criterion can fail, and the quick run converts real trained nets.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { snnCriteria, type SnnRun } from '../src/reproduce/snn-criteria.js';
import { requireSeeds } from '../src/reproduce/report.js';
import { reproduction } from '../src/reproduce/registry.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';
import { assertVegaSvg, markGroups } from './vega-svg.js';

const Ts = [10, 25, 50, 100, 200];
/** A run whose numbers make every criterion pass. */
function good(seed = 1): SnnRun {
  const curve = (acc: number[]) => Ts.map((timesteps, i) => ({ timesteps, accuracy: acc[i] }));
  return {
    seed,
    lambda: 1e-4,
    floatAccuracy: 0.89,
    prunedAccuracy: 0.887,
    quantizedAccuracy: 0.886,
    spikingAccuracy: 0.884,
    prunedFraction: 0.8,
    pruneThreshold: 0.01,
    pruneCurve: [],
    deviceSweep: [],
    curves: {
      max: curve([0.8, 0.86, 0.875, 0.882, 0.884]),
      none: curve([0.6, 0.7, 0.75, 0.8, 0.83]),
      percentile: curve([0.82, 0.87, 0.88, 0.883, 0.884]),
      zeroReset: curve([0.7, 0.8, 0.85, 0.87, 0.88]),
    },
    spikesPerInference: 1000,
    synapticEventsPerInference: 1e5,
    annMacs: 4e5,
    annEffectiveMacs: 8e4,
    seconds: 1,
  };
}
const failing = (rs: SnnRun[]) =>
  snnCriteria(rs)
    .filter((c) => !c.pass)
    .map((c) => c.name.split(':')[0]);
const spoil = (f: (r: SnnRun) => void) => {
  const rs = [good(1), good(2), good(3)];
  rs.forEach(f);
  return failing(rs);
};

test('the snn criteria all pass on good numbers, and each fails on numbers that break it', () => {
  assert.deepEqual(failing([good(1), good(2), good(3)]), []);
  assert.equal(snnCriteria([good()]).length, 7);
  // Every criterion is a mean over seeds: one seed of a full run is not evidence.
  assert.deepEqual(new Set(snnCriteria([good(1), good(2), good(3)]).map((c) => c.seeds)), new Set([3]));
  assert.equal(
    requireSeeds({ mode: 'full', criteria: snnCriteria([good()]) }).criteria.filter((c) => c.pass).length,
    0,
  );
  assert.deepEqual(
    spoil((r) => (r.prunedFraction = 0.65)),
    ['1a. pruning'],
  );
  assert.deepEqual(
    spoil((r) => (r.prunedAccuracy = r.quantizedAccuracy = 0.883)),
    ['1b. pruning'],
  );
  // Quantisation: 0.6 pt off either way fails.
  assert.deepEqual(
    spoil((r) => (r.quantizedAccuracy = 0.881)),
    ['2. quantisation'],
  );
  assert.deepEqual(
    spoil((r) => (r.quantizedAccuracy = 0.893)),
    ['2. quantisation', '3a. conversion'],
  );
  const at200 = (r: SnnRun, a: number) => (r.curves.max[4].accuracy = a);
  assert.deepEqual(
    spoil((r) => {
      r.floatAccuracy = r.prunedAccuracy = 0.887;
      r.curves.max[3].accuracy = 0.879;
      at200(r, 0.88);
    }),
    ['3a. conversion'],
  );
  assert.deepEqual(
    spoil((r) => {
      r.floatAccuracy = 0.896;
      r.prunedAccuracy = 0.892;
      r.quantizedAccuracy = 0.888;
      at200(r, 0.885);
    }),
    ['3b. end to end'],
  );
  // A dip of 0.3 pt between T = 50 and T = 100 breaks "rises with T".
  assert.deepEqual(
    spoil((r) => (r.curves.max[3].accuracy = 0.872)),
    ['4a. accuracy rises with T (10, 25, 50, 100, 200)'],
  );
  assert.deepEqual(
    spoil((r) => (r.curves.none[1].accuracy = 0.85)),
    ['4b. normalisation matters at small T'],
  );
});

test('reproduce snn --quick: registered, converts trained nets close to their ANN, and writes its results', () => {
  assert.ok(reproduction('snn'));
  const dir = mkdtempSync(join(tmpdir(), 'frugal-snn-'));
  const r = frugal('reproduce', 'snn', '--quick', ...DATA, '--out', dir, '--results-dir', dir, '--json');
  assert.ok(r.code === 0 || r.code === 3, `exit ${r.code}: ${r.stderr.slice(-500)}`);
  const j = oneJson(r.stdout) as {
    criteria: { name: string; pass: boolean; value: number }[];
    ours: { runs: SnnRun[]; cnn: { floatAccuracy: number; curve: { timesteps: number; accuracy: number }[] } };
  };
  const [run] = j.ours.runs;
  // Chance is 10%; a broken conversion (no normalisation, wrong scale, lost biases) lands far below its ANN.
  assert.ok(run.floatAccuracy > 0.65, `float ${run.floatAccuracy}`);
  assert.ok(
    Math.abs(run.spikingAccuracy - run.quantizedAccuracy) <= 0.02,
    `SNN ${run.spikingAccuracy} vs quantised ANN ${run.quantizedAccuracy}`,
  );
  // The threshold sweep ran (the rule's pick on a 250-image validation split is noisy in quick mode).
  assert.ok(run.pruneCurve.length >= 10 && run.prunedFraction >= 0, `pruned ${run.prunedFraction}`);
  const conv = j.criteria.find((c) => c.name.startsWith('4b'))!;
  assert.ok(conv.pass, JSON.stringify(conv));
  const cnn = j.ours.cnn;
  assert.ok(cnn.floatAccuracy > 0.4, `CNN float ${cnn.floatAccuracy}`);
  const last = cnn.curve[cnn.curve.length - 1];
  assert.equal(last.timesteps, 200);
  assert.ok(last.accuracy > cnn.floatAccuracy - 0.08, `CNN SNN ${last.accuracy} vs float ${cnn.floatAccuracy}`);
  const md = readFileSync(join(dir, 'snn-quick.md'), 'utf8');
  assert.match(md, /paper's 0\.28 pt \(98\.13% → 97\.85%; data set not stated/);
  assert.ok(existsSync(join(dir, 'snn-quick.json')));
  // Vega SVG: four conversions against T; one pruning curve with a dot per threshold tried.
  const chart = (name: string) => readFileSync(join(dir, `snn-quick-${name}.svg`), 'utf8');
  assertVegaSvg(chart('accuracy-vs-t'), 'line', 'accuracy-vs-t');
  assert.deepEqual(markGroups(chart('accuracy-vs-t'), 'lines'), [1, 1, 1, 1]);
  assert.match(chart('accuracy-vs-t'), /time steps T \(log scale\)/);
  assert.deepEqual(markGroups(chart('pruning'), 'lines'), [1]);
  const again = frugal('reproduce', 'snn', '--quick', '--report-only', '--out', dir, '--results-dir', dir, '--json');
  assert.deepEqual(
    (oneJson(again.stdout).criteria as { name: string }[]).map((c) => c.name),
    j.criteria.map((c) => c.name),
  );
});
