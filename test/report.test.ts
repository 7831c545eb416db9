// Reports (Vega-Lite charts, self-contained HTML) and the run store, without a browser (report-browser.test.ts
// opens a real report in Chromium).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  chartProblems,
  diffRuns,
  escapeHtml,
  getRun,
  htmlPage,
  listRuns,
  openRunStore,
  paretoFront,
  paretoSpec,
  recordRun,
  referenceCnn,
  referenceMlp,
  renderChart,
  vggSpec,
  type RunRecord,
} from '../src/node.js';
import { binarySpec, parseVariants } from '../src/cli/compare/variants.js';

const HOSTILE = `<script>alert("x")</script>'"&`;

test('escapeHtml turns every markup character of a hostile name into an entity', () => {
  const e = escapeHtml(HOSTILE);
  assert.equal(e, '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39;&quot;&amp;');
  assert.doesNotMatch(e, /[<>"']/);
  // Negative: the raw name does carry markup, so the check above can fail.
  assert.match(HOSTILE, /[<>"']/);
});

test('htmlPage shows hostile titles, meta, table cells and section names as text only', () => {
  const html = htmlPage({
    title: HOSTILE,
    meta: [[HOSTILE, HOSTILE]],
    sections: [{ heading: HOSTILE, text: [HOSTILE], table: { head: [HOSTILE], rows: [[HOSTILE]] } }],
  });
  assert.doesNotMatch(html, /<script/i);
  assert.equal(html.split('&lt;script&gt;alert(&quot;x&quot;)').length - 1, 8); // <title>, h1, meta ×2, h2, p, th, td
  assert.match(html, /Content-Security-Policy/);
});

test('a chart whose SVG holds a script is refused', async () => {
  assert.throws(
    () =>
      htmlPage({
        title: 't',
        meta: [],
        sections: [{ heading: 'h', charts: [{ id: 'c', svg: '<svg><script>x()</script></svg>', marks: 'm' }] }],
      }),
    /active content/,
  );
});

test('paretoFront keeps exactly the non-dominated points (cost down, quality up)', () => {
  const pts = [
    { x: 1, y: 0.5 },
    { x: 2, y: 0.8 },
    { x: 3, y: 0.7 }, // dominated by (2, 0.8)
    { x: 0.5, y: 0.4 },
    { x: 2, y: 0.8 }, // a tie: neither dominates
  ];
  assert.deepEqual(
    paretoFront(pts).sort((a, b) => a - b),
    [0, 1, 3, 4],
  );
  assert.deepEqual(
    paretoFront([
      { x: 1, y: 1 },
      { x: 2, y: 0.5 },
    ]),
    [0],
  );
});

test('a rendered Pareto chart has one point per variant; a missing or short mark group is detected', async () => {
  const points = ['dense', HOSTILE, 'pruned'].map((name, i) => ({ name, x: 1 + i, y: 50 + 10 * (i % 2) }));
  const svg = await renderChart(paretoSpec({ title: HOSTILE, xTitle: 'ms', yTitle: '%', points }));
  assert.doesNotMatch(svg, /<script/i);
  const page = (s: string, expect = 3) =>
    htmlPage({
      title: 't',
      meta: [],
      sections: [{ heading: 'h', charts: [{ id: 'p', svg: s, marks: 'points', expect }] }],
    });
  assert.deepEqual(chartProblems(page(svg)), []);
  // Negative: the point group removed, a point removed, or a wrong count expected.
  const noGroup = svg.replace(/points_marks/g, 'gone_marks');
  assert.match(chartProblems(page(noGroup)).join(), /no mark group points/);
  const onePointLess = svg.replace(/<path[^>]*aria-roledescription="point"[^>]*\/?>(<\/path>)?/, '');
  assert.notEqual(onePointLess, svg);
  assert.match(chartProblems(page(onePointLess)).join(), /2 marks in points, expected 3/);
  assert.match(chartProblems(page(svg, 4)).join(), /expected 4/);
});

test('parseVariants reads the default list and refuses unknown names, bad rates and block sizes', () => {
  assert.deepEqual(
    parseVariants(undefined).map((v) => v.name),
    ['dense', 'pruned-50', 'pruned-90', 'structured-50', 'circulant-4', 'binary', 'spiking'],
  );
  assert.deepEqual(parseVariants('pruned-75'), [
    { name: 'dense', kind: 'dense' },
    { name: 'pruned-75', kind: 'pruned', value: 0.75 },
  ]);
  for (const bad of ['pruned-100', 'pruned-0', 'circulant-3', 'quantized', 'dense,dense'])
    assert.throws(() => parseVariants(bad), /--variants/, bad);
});

test('binarySpec: binary convs after the first with batch norm before and after; no conv → skipped', () => {
  const b = binarySpec(referenceCnn);
  assert.ok('spec' in b);
  const types = b.spec.layers.map((l) => l.type);
  assert.deepEqual(types.slice(0, 8), [
    'normalize',
    'conv2d',
    'batchnorm2d',
    'maxpool2d',
    'binary-conv2d',
    'batchnorm2d',
    'relu',
    'maxpool2d',
  ]);
  const vgg = binarySpec(vggSpec([8, 8]));
  assert.ok('spec' in vgg);
  assert.equal(vgg.spec.layers.filter((l) => l.type === 'binary-conv2d').length, 1);
  assert.equal(vgg.spec.layers.filter((l) => l.type === 'relu').length, 1);
  assert.match((binarySpec(referenceMlp) as { skipped: string }).skipped, /has none/);
});

test('run store: config keys are kebab-case as the CLI flags, recorded and read back (old camelCase runs too)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-store-keys-'));
  try {
    const db = openRunStore(join(dir, 'runs.sqlite'));
    const base = { name: 'mlp', commit: 'abc', argv: [], metrics: {}, curves: [] };
    const compare = recordRun(db, {
      ...base,
      command: 'compare',
      config: { batchSize: 64, dataDir: '/d', valSplit: 0.1, fineTuneEpochs: 1, seed: 1 },
    });
    const train = recordRun(db, {
      ...base,
      command: 'train',
      config: { 'batch-size': 128, 'data-dir': '/d', seed: 1 },
    });
    // A run recorded before the keys were normalised, with its camelCase config as it is on disk.
    db.prepare(
      'INSERT INTO runs (command, name, commit_sha, created_at, argv, spec, config) VALUES (?, ?, ?, ?, ?, ?, ?)',
    ).run(
      'compare',
      'mlp',
      'abc',
      new Date().toISOString(),
      '[]',
      null,
      JSON.stringify({ batchSize: 32, valSplit: 0.2 }),
    );
    const old = Number((db.prepare('SELECT max(id) AS id FROM runs').get() as { id: number }).id);
    const raw = db.prepare('SELECT config FROM runs WHERE id = ?').get(compare) as { config: string };
    assert.deepEqual(Object.keys(JSON.parse(raw.config)), [
      'batch-size',
      'data-dir',
      'val-split',
      'fine-tune-epochs',
      'seed',
    ]);
    assert.deepEqual(getRun(db, old)!.config, { 'batch-size': 32, 'val-split': 0.2 });
    const d = diffRuns(getRun(db, compare)!, getRun(db, train)!);
    assert.deepEqual(d.config, [
      { key: 'batch-size', a: 64, b: 128 },
      { key: 'fine-tune-epochs', a: 1, b: undefined },
      { key: 'val-split', a: 0.1, b: undefined },
    ]);
    assert.deepEqual(
      diffRuns(getRun(db, old)!, getRun(db, train)!).config.map((c) => c.key),
      ['batch-size', 'data-dir', 'seed', 'val-split'],
    );
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('run store: WAL file, a run recorded and read back whole, diff of two runs, failed write leaves nothing', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-store-'));
  try {
    const db = openRunStore(join(dir, 'runs.sqlite'));
    assert.equal(db.pragma('journal_mode', { simple: true }), 'wal');
    assert.ok(Number(db.pragma('busy_timeout', { simple: true })) >= 1000);
    const run: RunRecord = {
      command: 'train',
      name: HOSTILE,
      commit: 'abc',
      argv: ['--model', 'cnn'],
      spec: referenceMlp,
      config: { lr: 0.001, epochs: 2 },
      metrics: { testAccuracy: 0.8, nan: NaN },
      curves: [
        { series: 'train', key: 'loss', step: 0, value: 1.5 },
        { series: 'train', key: 'loss', step: 1, value: 1.1 },
      ],
    };
    const a = recordRun(db, run),
      b = recordRun(db, { ...run, config: { lr: 0.01, epochs: 2 }, metrics: { testAccuracy: 0.85 } });
    const got = getRun(db, a)!;
    assert.equal(got.name, HOSTILE);
    assert.deepEqual(got.spec, referenceMlp);
    assert.deepEqual(got.curves, run.curves);
    assert.ok(Number.isNaN(got.metrics.nan));
    assert.deepEqual(
      listRuns(db).map((r) => r.id),
      [b, a],
    );
    const d = diffRuns(got, getRun(db, b)!);
    assert.deepEqual(d.config, [{ key: 'lr', a: 0.001, b: 0.01 }]);
    assert.ok(Math.abs(d.metrics.find((m) => m.key === 'testAccuracy')!.delta! - 0.05) < 1e-12);
    // A run whose curves repeat a key fails inside its transaction: no half-written run is left behind.
    const bad = { ...run, curves: [...run.curves, { series: 'train', key: 'loss', step: 0, value: Infinity }] };
    assert.doesNotThrow(() => recordRun(db, bad)); // INSERT OR REPLACE: a repeated point replaces
    const before = listRuns(db).length;
    assert.throws(() => recordRun(db, { ...run, metrics: { x: 1 }, argv: undefined as unknown as string[] }));
    assert.equal(listRuns(db).length, before);
    db.close();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
