// A --report-only rebuild keeps the provenance of the run that trained (command, date, commit, data, load) when
// it replaces that run's document, and records itself beside it; over another run's document it claims nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gitCommit, writeResults, type RunInfo } from '../src/reproduce/results.js';
import type { ReproduceReport } from '../src/reproduce/report.js';

const report = (seeds: number[]): ReproduceReport => ({
  name: 'toy',
  dataset: 'toy',
  mode: 'full',
  seeds,
  paper: {},
  ours: {},
  criteria: [{ name: 'c', target: '> 0', value: 1, pass: true }],
});
const info = (over: Partial<RunInfo>): RunInfo => ({
  command: 'frugal reproduce toy --seeds 3',
  date: '2026-01-01T00:00:00.000Z',
  commit: 'aaaa',
  dataSource: 'system: /data',
  seeds: [1, 2, 3],
  load: { before: [1, 1, 1], after: [2, 2, 2], cpus: 2 },
  reportOnly: false,
  ...over,
});
const rebuild = info({ command: 'frugal reproduce toy --report-only', date: '2026-02-02T00:00:00.000Z' });
rebuild.commit = 'bbbb';
rebuild.reportOnly = true;
rebuild.dataSource = 'system';

test('a rebuild over the same run keeps its provenance and adds the rebuild', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-prov-'));
  await writeResults(dir, report([1, 2, 3]), 'body', info({}));
  const w = await writeResults(dir, report([1, 2, 3]), 'body', rebuild);
  const run = JSON.parse(readFileSync(w.json, 'utf8')).run;
  assert.equal(run.command, 'frugal reproduce toy --seeds 3');
  assert.equal(run.commit, 'aaaa');
  assert.equal(run.dataSource, 'system: /data');
  assert.deepEqual(run.rebuilt, { command: 'frugal reproduce toy --report-only', date: rebuild.date, commit: 'bbbb' });
  assert.match(w.document, /- command: `frugal reproduce toy --seeds 3`\n/);
  assert.match(w.document, /rebuilt from the state file \(no training\) by `frugal reproduce toy --report-only`/);
  // A second rebuild replaces the first one's line, keeping the training run's.
  const again = await writeResults(dir, report([1, 2, 3]), 'body', { ...rebuild, commit: 'cccc' });
  assert.equal(JSON.parse(readFileSync(again.json, 'utf8')).run.rebuilt.commit, 'cccc');
  assert.equal(JSON.parse(readFileSync(again.json, 'utf8')).run.commit, 'aaaa');
});

test('a rebuild over a document of other seeds, or with none, says it is a rebuild and nothing more', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-prov-'));
  let w = await writeResults(dir, report([1, 2, 3]), 'body', rebuild);
  assert.equal(JSON.parse(readFileSync(w.json, 'utf8')).run.commit, 'bbbb');
  assert.match(w.document, /--report-only` \(document rebuilt from the state file; no training\)/);
  await writeResults(dir, report([1]), 'body', info({ seeds: [1] }));
  w = await writeResults(dir, report([1, 2, 3]), 'body', rebuild);
  const run = JSON.parse(readFileSync(w.json, 'utf8')).run;
  assert.equal(run.commit, 'bbbb');
  assert.equal(run.rebuilt, undefined);
});

test('gitCommit: changed results documents do not make the code dirty; a changed source file does', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-git-'));
  const git = (...a: string[]) =>
    execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@t', ...a], { cwd: dir, stdio: 'pipe' });
  mkdirSync(join(dir, 'src', 'reproduce'), { recursive: true });
  mkdirSync(join(dir, 'docs', 'results'), { recursive: true });
  writeFileSync(join(dir, 'src', 'reproduce', 'results.ts'), '// code\n');
  writeFileSync(join(dir, 'docs', 'results', 'toy.md'), 'old\n');
  git('init', '-q');
  git('add', '.');
  git('commit', '-q', '-m', 'init');
  const head = git('rev-parse', 'HEAD').toString().trim();
  // Asked from a subfolder, as the installed file asks from dist/src/reproduce.
  const from = join(dir, 'src', 'reproduce');
  assert.deepEqual(gitCommit(from), { commit: head, dirty: false });
  writeFileSync(join(dir, 'docs', 'results', 'toy.md'), 'new\n');
  assert.deepEqual(gitCommit(from), { commit: head, dirty: false });
  writeFileSync(join(dir, 'src', 'reproduce', 'results.ts'), '// changed\n');
  assert.deepEqual(gitCommit(from), { commit: head, dirty: true });
});
