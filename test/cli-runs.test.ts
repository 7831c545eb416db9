// Issue 22, points 3 and 4: `frugal train --report DIR --store PATH`, `frugal runs list|show|diff`, and the
// refusals of compare and runs (wrong flags exit 2, a run that cannot proceed exits 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chartProblems } from '../src/node.js';
import { DATA, blobsCsv, frugal, oneJson } from './cli-helpers.js';

test('train --report: curves, layer table, a 10×10 confusion heat map; --store records the run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-runs-'));
  try {
    const store = join(dir, 'runs.sqlite');
    const base = ['--model', 'mlp', ...DATA, '--limit', '300', '--epochs', '2', '--val-split', '0.2', '--json'];
    const a = frugal(
      'train',
      ...base,
      '--out',
      join(dir, 'a.safetensors'),
      '--report',
      join(dir, 'rep'),
      '--store',
      store,
    );
    assert.equal(a.code, 0, a.stderr);
    const html = readFileSync(join(dir, 'rep', 'report.html'), 'utf8');
    assert.deepEqual(chartProblems(html), []);
    for (const id of ['curve-loss', 'curve-accuracy', 'confusion']) assert.match(html, new RegExp(`id="${id}"`));
    assert.match(html, /data-expect="100"/);
    assert.match(html, /<td>linear<\/td>/);
    // Epochs are counted from 1 on the curves' x axis: a 2-epoch run's labels are epochs 1 and 2, not 2 and 3.
    const loss = html.slice(html.indexOf('id="curve-loss"'));
    const labels = /role-axis-label[^>]*>(.*?)<\/g>/s
      .exec(loss)![1]
      .match(/>([^<]+)<\/text>/g)!
      .map((t) => t.slice(1, -7));
    assert.equal(labels[0], '1', labels.join());
    assert.equal(labels.at(-1), '2', labels.join());
    // Negative: a heat map with one cell fewer is caught.
    const at = html.indexOf('cells_marks"');
    const p0 = html.indexOf('<path', at),
      p1 = html.indexOf('>', p0) + 1;
    const cut = html.slice(0, p0) + html.slice(p1);
    assert.match(chartProblems(cut).join(), /confusion: 99 marks in cells, expected 100/);
    const json = JSON.parse(readFileSync(join(dir, 'rep', 'report.json'), 'utf8'));
    assert.equal(
      json.confusion.flat().reduce((s: number, v: number) => s + v, 0),
      1000,
    );

    const b = frugal('train', ...base, '--lr', '0.01', '--out', join(dir, 'b.safetensors'), '--store', store);
    assert.equal(b.code, 0, b.stderr);
    const list = oneJson(frugal('runs', 'list', '--store', store, '--json').stdout) as { runs: { id: number }[] };
    assert.deepEqual(
      list.runs.map((r) => r.id),
      [2, 1],
    );
    const show = oneJson(frugal('runs', 'show', '1', '--store', store, '--json').stdout) as {
      run: { command: string; commit: string; spec: { layers: unknown[] }; curves: unknown[]; metrics: object };
    };
    assert.equal(show.run.command, 'train');
    assert.match(show.run.commit, /^([0-9a-f]{40}|unknown)$/);
    assert.equal(show.run.spec.layers.length, 5);
    assert.equal(show.run.curves.length, 8); // 2 epochs × loss, accuracy, valLoss, valAccuracy
    assert.equal(
      (show.run.metrics as { testAccuracy: number }).testAccuracy,
      (oneJson(a.stdout) as { testAccuracy: number }).testAccuracy,
    );
    const diff = oneJson(frugal('runs', 'diff', '1', '2', '--store', store, '--json').stdout) as {
      config: { key: string; a: unknown; b: unknown }[];
    };
    assert.deepEqual(diff.config, [{ key: 'lr', a: 0.001, b: 0.01 }]);
    assert.equal(frugal('runs', 'show', '9', '--store', store).code, 1);
    assert.equal(frugal('runs', 'show', 'x', '--store', store).code, 2);
    assert.equal(frugal('runs', 'frob', '--store', store).code, 2);
    assert.equal(frugal('runs', 'list', '--store', join(dir, 'none.sqlite')).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare --quick without --data-dir names its data the shipped subset, as other commands do', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-cmp-quick-'));
  try {
    const args = ['--quick', '--model', 'mlp', '--limit', '200', '--rounds', '1', '--variants', 'dense', '--no-store'];
    const r = frugal('compare', ...args, '--out', dir, '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.match(String(oneJson(r.stdout).dataSource), /^subset \(.*fashion-mnist-subset\)$/);
    assert.match(r.stderr, /Fashion-MNIST from the subset shipped in the repo \(subset\)/);
    const report = JSON.parse(readFileSync(join(dir, 'report.json'), 'utf8'));
    assert.match(report.dataSource, /^subset \(/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare refuses bad variants, --resume without a comparison, and an earlier comparison without --resume', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-cmp-'));
  try {
    assert.equal(frugal('compare', '--variants', 'pruned-120', '--out', dir).code, 2);
    assert.equal(frugal('compare', '--model', 'mlp', '--resume', '--out', join(dir, 'x'), ...DATA).code, 1);
    const args = ['--model', 'mlp', ...DATA, '--limit', '200', '--rounds', '1', '--variants', 'dense', '--no-store'];
    const r = frugal('compare', ...args, '--out', join(dir, 'c'), '--json');
    assert.equal(r.code, 0, r.stderr);
    assert.equal(oneJson(r.stdout).store, undefined);
    const again = frugal('compare', ...args, '--out', join(dir, 'c'));
    assert.equal(again.code, 2);
    assert.match(again.stderr, /--resume/);
    // --resume with a changed setting is refused; with the same settings it keeps the finished variant.
    assert.equal(frugal('compare', ...args, '--seed', '2', '--resume', '--out', join(dir, 'c')).code, 2);
    const res = frugal('compare', ...args, '--resume', '--out', join(dir, 'c'), '--json');
    assert.equal(res.code, 0, res.stderr);
    assert.match(res.stderr, /dense: kept from the earlier run/);
    assert.equal(
      (oneJson(res.stdout) as { variants: { testAccuracy: number }[] }).variants[0].testAccuracy,
      (oneJson(r.stdout) as { variants: { testAccuracy: number }[] }).variants[0].testAccuracy,
    );
    // A state from before --dataset was read (no stateFormat) is not continued: its variants may be on other data.
    const path = join(dir, 'c', 'compare-state.json');
    const old = JSON.parse(readFileSync(path, 'utf8'));
    delete old.config.stateFormat;
    writeFileSync(path, JSON.stringify(old));
    const stale = frugal('compare', ...args, '--resume', '--out', join(dir, 'c'));
    assert.equal(stale.code, 2);
    assert.match(stale.stderr, /other settings \(stateFormat\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('compare reads the --dataset given (a CSV), not Fashion-MNIST; a built-in model that cannot fit fails', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-cmp-csv-'));
  try {
    const { csv, spec } = blobsCsv(dir);
    const args = ['--dataset', `csv:${csv}`, '--rounds', '1', '--variants', 'dense,pruned-50', '--no-store'];
    const r = frugal(
      'compare',
      '--model',
      spec,
      ...args,
      '--epochs',
      '8',
      '--batch-size',
      '16',
      '--out',
      join(dir, 'c'),
      '--json',
    );
    assert.equal(r.code, 0, r.stderr);
    const out = oneJson(r.stdout) as { dataset: string; testCount: number; variants: { testAccuracy: number }[] };
    assert.equal(out.dataset, `csv:${csv}`);
    assert.equal(out.testCount, 60, "the CSV's own held-out 20%, not Fashion-MNIST's test set");
    assert.ok(out.variants[0].testAccuracy > 0.8, `dense learned the blobs: ${out.variants[0].testAccuracy}`);
    const mlp = frugal('compare', '--model', 'mlp', ...args, '--out', join(dir, 'm'));
    assert.equal(mlp.code, 1);
    assert.match(mlp.stderr, /has samples of shape \[12\]/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
