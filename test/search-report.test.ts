// Issue 25, point 4: `frugal search show --report DIR`, the study's report through the reports module: the
// leaderboard, one chart per parameter against the metric with the robust setting marked, and the metric by
// trial with the best so far. The study is written straight into a SQLite store (no training), so this is quick.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Study, chartProblems, openSqliteStorage, type StudyDef } from '../src/node.js';
import { paramScales } from '../src/cli/commands/search-show.js';
import { paramSpec } from '../src/report/search-report.js';
import { frugal, oneJson } from './cli-helpers.js';
import { markGroups } from './vega-svg.js';

const HOSTILE = `<script>alert("x")</script>'"&`;
const dir = mkdtempSync(join(tmpdir(), 'frugal-search-report-'));

const def: StudyDef = {
  study: 'tiny',
  objective: { model: 'mlp', epochs: 2, metric: 'valAccuracy', direction: 'maximize' },
  params: {
    width: { type: 'int', min: 16, max: 128 },
    lr: { type: 'loguniform', min: 1e-4, max: 1e-2 },
    act: { type: 'choice', values: ['relu', HOSTILE] },
  },
};

/** 8 trials: 6 complete with a made-up metric, 1 pruned (with a value), 1 failed (none). */
async function makeStudy(path: string): Promise<void> {
  const s = openSqliteStorage(path);
  try {
    const study = await Study.create(s, def);
    await study.enqueue(8);
    for (let i = 0; i < 8; i++) {
      const t = (await s.claim(study.record.id, 'w'))!;
      const v = 0.5 + 0.05 * ((t.number * 3) % 8);
      await s.report(t.id, [{ epoch: 1, value: v - 0.05 }]);
      if (t.number === 6) await s.finish(t.id, { state: 'failed', reason: `no luck ${HOSTILE}` });
      else if (t.number === 7) await s.finish(t.id, { state: 'pruned', value: v - 0.05 });
      else (await s.report(t.id, [{ epoch: 2, value: v }]), await s.finish(t.id, { state: 'complete', value: v }));
    }
  } finally {
    await s.close();
  }
}

test('paramScales: loguniform on a log axis, choice categorical, repeated members named GROUP.I.NAME', () => {
  assert.deepEqual(paramScales(def.params), { width: 'linear', lr: 'log', act: 'nominal' });
  assert.deepEqual(
    paramScales({
      n: { type: 'int', min: 1, max: 2 },
      blocks: { type: 'repeat', count: 'n', params: { k: { type: 'choice', values: [3, 5] } } },
    }),
    { n: 'linear', 'blocks.0.k': 'nominal', 'blocks.1.k': 'nominal' },
  );
});

test('search show --report DIR: leaderboard, a chart per parameter, the trials chart; hostile text inert', async () => {
  const db = join(dir, 'search.db');
  await makeStudy(db);
  const out = join(dir, 'report');
  const r = frugal('search', 'show', 'tiny', '--storage', db, '--top-k', '3', '--report', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const shown = oneJson(r.stdout) as { trials: { value: number | null; state: string }[] };
  const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.deepEqual(json.trials, shown.trials, 'report.json holds what --json prints');
  const html = readFileSync(join(out, 'report.html'), 'utf8');
  // Self-contained and inert: no script (the hostile choice value and failure reason are text), nothing fetched.
  assert.doesNotMatch(html, /<script/i);
  assert.doesNotMatch(html, /\b(src|href)="https?:/);
  assert.ok(html.includes('&lt;script&gt;alert(&quot;x&quot;)'), 'the hostile value is shown, escaped');
  assert.match(html, /no luck &lt;script&gt;/);
  // Every chart has its marks: one point per scored trial (7: the failed one has no value) in each chart.
  assert.deepEqual(chartProblems(html), []);
  const figures = html.split('<figure class="chart"').slice(1);
  assert.equal(figures.length, 4, 'the trials chart and one per parameter (act, lr, width)');
  for (const f of figures) assert.match(f, /data-expect="7"/);
  const fig = (id: string) => figures.find((f) => f.startsWith(` id="${id}"`))!;
  // The metric by trial: the best-so-far line; per parameter: the robust setting as a rule (one group: one rule).
  assert.deepEqual(markGroups(fig('trials'), 'best'), [1]);
  for (const id of ['param-1', 'param-2', 'param-3']) assert.deepEqual(markGroups(fig(id), 'robust'), [1], id);
  assert.deepEqual(markGroups(fig('param-1'), 'medians'), [2], 'act: a median tick per value');
  assert.match(fig('param-2'), /lr against valAccuracy/);
  assert.match(fig('param-2'), /aria-label="X-axis titled 'lr' for a log scale/, 'lr on a log axis');
  // The leaderboard: every trial, best first.
  const rows = html.slice(html.indexOf('<h2>Leaderboard</h2>')).split('<tr>').length - 2;
  assert.equal(rows, 8);
  // A missing study is a clear error and writes nothing new.
  const bad = frugal('search', 'show', 'nope', '--storage', db, '--report', join(dir, 'bad'));
  assert.equal(bad.code, 1);
  assert.match(bad.stderr, /study "nope" does not exist/);
  assert.equal(existsSync(join(dir, 'bad', 'report.html')), false);
});

test('search show: a numeric choice parameter gets one of its values as robust setting, the rule on it', async () => {
  const db = join(dir, 'choice.db');
  const s = openSqliteStorage(db);
  try {
    // A grid: trial 0 has width 32, trial 1 width 64 (trial 0 better).
    const params: StudyDef['params'] = { width: { type: 'choice', values: [32, 64] } };
    const study = await Study.create(s, { ...def, study: 'choice', sampler: 'grid', params });
    await study.enqueue(2);
    for (let i = 0; i < 2; i++) {
      const t = (await s.claim(study.record.id, 'w'))!;
      await s.finish(t.id, { state: 'complete', value: 0.9 - 0.1 * t.number });
    }
  } finally {
    await s.close();
  }
  const out = join(dir, 'choice-report');
  const r = frugal('search', 'show', 'choice', '--storage', db, '--top-k', '2', '--report', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  // One each of 32 and 64 in the top 2: the tie goes to the better-ranked trial's 32, not their median 48.
  const want = 32;
  assert.deepEqual(
    (oneJson(r.stdout) as { trials: { params: unknown }[] }).trials.map((t) => t.params),
    [{ width: 32 }, { width: 64 }],
  );
  const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
  assert.equal(json.robust.groups[0].setting.width, want);
  const rule = paramSpec({ ...json, scales: { width: 'nominal' }, meta: [] }, 'width', 'nominal');
  const robust = (rule as { layer: { name: string; data: { values: { v: unknown }[] } }[] }).layer.find(
    (l) => l.name === 'robust',
  )!;
  assert.deepEqual(
    robust.data.values.map((v) => v.v),
    [String(want)],
  );
});
