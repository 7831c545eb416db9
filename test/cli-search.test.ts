// Issue 25, points 3, 4 and 7: `frugal search` with the SPACE.json form of the issue on the shipped subset,
// show (leaderboard, robust setting) and export, --resume, and the bad inputs of point 7.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Study, openSqliteStorage } from '../src/node.js';
import { DATA, MAIN, frugal, oneJson } from './cli-helpers.js';
import { clock } from '../src/cli/commands/search.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-search-'));
/** The form of issue 25, point 3, with a tiny limit and two epochs. */
const issueSpace = (over: Record<string, unknown> = {}, params: Record<string, unknown> = {}) => ({
  study: 'name',
  objective: {
    model: 'mlp',
    dataset: 'fashion-mnist',
    epochs: 2,
    batchSize: 64,
    optimizer: 'adam',
    lr: { $param: 'lr' },
    limit: 600,
    metric: 'valAccuracy',
    direction: 'maximize',
    ...over,
  },
  params: {
    width: { type: 'int', min: 16, max: 128 },
    lr: { type: 'loguniform', min: 1e-4, max: 1e-2 },
    act: { type: 'choice', values: ['relu', 'tanh'] },
    ...params,
  },
});
const write = (name: string, v: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, JSON.stringify(v));
  return p;
};

test('frugal search: the issue form with 2 workers, show --json, export, --resume, --retry-failed', async () => {
  const space = write('space.json', issueSpace());
  const db = join(dir, 'search.db');
  const r = frugal('search', space, '--trials', '3', '--workers', '2', '--storage', db, ...DATA, '--json');
  assert.equal(r.code, 0, r.stderr);
  const out = oneJson(r.stdout);
  assert.deepEqual(out.counts, { queued: 0, running: 0, complete: 3, pruned: 0, failed: 0 });
  assert.match(r.stderr, /search name: \d\/3 done .* running, best .*ETA/);
  const show = frugal('search', 'show', 'name', '--storage', db, '--json');
  assert.equal(show.code, 0, show.stderr);
  const s = oneJson(show.stdout) as {
    trials: { id: number; state: string; value: number; params: Record<string, unknown>; modelPath: string }[];
    robust: { groups: { setting: Record<string, unknown>; top: number[] }[] };
    best: { value: number };
  };
  assert.equal(s.trials.length, 3);
  for (const t of s.trials) {
    assert.equal(t.state, 'complete');
    assert.ok(t.value >= 0 && t.value <= 1);
    assert.ok(existsSync(t.modelPath), 'the trial model is saved');
    assert.deepEqual(Object.keys(t.params).sort(), ['act', 'lr', 'width']);
  }
  assert.equal(s.best.value, Math.max(...s.trials.map((t) => t.value)));
  assert.ok(s.best.value > 0.3, `the best trial learned (chance is 0.1): ${s.best.value}`);
  assert.equal(s.robust.groups[0].top.length, 3);
  const widths = s.trials.map((t) => t.params.width as number).sort((a, b) => a - b);
  assert.equal(s.robust.groups[0].setting.width, widths[1], 'the robust width is the median of the top 3');
  const human = frugal('search', 'show', '--storage', db);
  assert.match(human.stdout, /study name: 3 trials[^]*robust setting \(median of top 3/);
  const csv = frugal('search', 'export', 'name', '--storage', db, '--format', 'csv');
  assert.equal(csv.code, 0, csv.stderr);
  const lines = csv.stdout.trim().split('\n');
  assert.equal(lines.length, 4);
  assert.match(lines[0], /^id,number,state,value,.*,act,lr,width$/);
  const json = frugal('search', 'export', 'name', '--storage', db, '--format', 'json');
  assert.equal(json.code, 0, json.stderr);
  const exported = JSON.parse(json.stdout) as { trials: { id: number; value: number; params: unknown }[] };
  assert.deepEqual(
    exported.trials.map((t) => [t.id, t.value, t.params]).sort(),
    s.trials.map((t) => [t.id, t.value, t.params]).sort(),
  );
  const typo = frugal('search', space, '--trials', '4', '--storage', db, ...DATA, '--resume', '--pruner', 'mediam');
  assert.equal(typo.code, 2);
  assert.match(typo.stderr, /--pruner must be one of none, median, asha, got "mediam"/);
  const again = frugal('search', space, '--trials', '3', '--storage', db, ...DATA);
  assert.equal(again.code, 1);
  assert.match(again.stderr, /already has 3 trials .* add --resume/);
  const more = frugal(
    'search',
    space,
    '--trials',
    '4',
    '--storage',
    db,
    ...DATA,
    '--resume',
    '--pruner',
    'median',
    '--json',
  );
  assert.equal(more.code, 0, more.stderr);
  const trials = (oneJson(more.stdout) as { trials: { number: number; params: unknown }[] }).trials;
  assert.equal(trials.length, 4);
  // The first three trials are the ones drawn before: --resume adds only trial 3.
  for (const t of s.trials) assert.ok(trials.some((u) => JSON.stringify(u.params) === JSON.stringify(t.params)));
  // A failed trial (as if its worker ran out of memory) runs again with --retry-failed, and only then.
  const raw = new Database(db);
  raw
    .prepare(`UPDATE search_trials SET state = 'failed', value = NULL, reason = 'out of memory' WHERE number = 0`)
    .run();
  raw.close();
  const bare = frugal('search', space, '--trials', '4', '--storage', db, ...DATA, '--retry-failed');
  assert.equal(bare.code, 2, bare.stderr);
  assert.match(bare.stderr, /--retry-failed works on an existing study: add --resume/);
  const kept = frugal('search', space, '--trials', '4', '--storage', db, ...DATA, '--resume', '--json');
  assert.deepEqual(oneJson(kept.stdout).counts, { queued: 0, running: 0, complete: 3, pruned: 0, failed: 1 });
  const retry = frugal('search', space, '--trials', '4', '--storage', db, ...DATA, '--resume', '--retry-failed');
  assert.equal(retry.code, 0, retry.stderr);
  assert.match(retry.stderr, /1 failed trial\(s\) back in the queue/);
  const after = oneJson(frugal('search', 'show', 'name', '--storage', db, '--json').stdout) as {
    trials: { id: number; state: string }[];
  };
  assert.deepEqual(
    after.trials.map((t) => t.state),
    ['complete', 'complete', 'complete', 'complete'],
  );
});

test('bad spaces fail before anything is written: empty choice, min > max, no valid draw, unknown keys', () => {
  const db = join(dir, 'bad.db');
  const cases: [unknown, RegExp][] = [
    [issueSpace({}, { act: { type: 'choice', values: [] } }), /params\.act: a choice needs a non-empty "values"/],
    [issueSpace({}, { width: { type: 'int', min: 128, max: 16 } }), /params\.width: min 128 > max 16/],
    [
      issueSpace(
        {
          model: {
            format: 'frugal-model',
            version: 1,
            input: [784],
            layers: [{ type: 'linear', in: { $param: 'width' }, out: 10 }],
          },
        },
        { width: { type: 'int', min: 16, max: 128 } },
      ),
      /no valid draw after 1000 rejections/,
    ],
    [{ ...issueSpace(), seeed: 2 }, /top level: unknown key 'seeed'.*did you mean 'seed'/],
    [issueSpace({}, { width: { type: 'int', mn: 1, max: 5 } }), /params\.width: unknown key 'mn'.*did you mean 'min'/],
    [issueSpace({ metrik: 'valLoss' }), /objective: unknown key 'metrik'.*did you mean 'metric'/],
  ];
  cases.forEach(([space, msg], i) => {
    const r = frugal('search', write(`bad${i}.json`, space), '--trials', '2', '--storage', db, ...DATA, '--json');
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stderr, msg);
    assert.match(String(oneJson(r.stdout).error), msg);
    assert.ok(!existsSync(db), 'no store was created for a space that cannot run');
  });
});

test('a study name with a different space, a worker on a missing study or store, an unreachable server', async () => {
  const db = join(dir, 'names.db');
  assert.equal(frugal('search', write('a.json', issueSpace()), '--trials', '1', '--storage', db, ...DATA).code, 0);
  const other = write('b.json', issueSpace({ epochs: 3 }));
  // With or without --resume, the different space is what is wrong (not a missing --resume).
  for (const resume of [['--resume'], []]) {
    const r = frugal('search', other, '--trials', '1', '--storage', db, ...DATA, ...resume);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /study "name" already exists in .* with a different space or objective/);
  }
  const s = openSqliteStorage(db, { create: false });
  assert.equal((await s.listStudies()).length, 1);
  await s.close();
  const w = frugal('search', 'worker', '--storage', db, '--study', 'nope');
  assert.equal(w.code, 1);
  assert.match(w.stderr, /study "nope" does not exist in SQLite storage \(it holds: name\)/);
  const m = frugal('search', 'worker', '--storage', join(dir, 'none.db'), '--study', 'name');
  assert.equal(m.code, 1);
  assert.match(m.stderr, /no search storage at .*none\.db/);
  assert.ok(!existsSync(join(dir, 'none.db')));
  const pg = frugal('search', other, '--trials', '1', '--storage', 'postgresql://u:secret@127.0.0.1:1/x');
  assert.equal(pg.code, 1);
  assert.match(pg.stderr, /cannot use PostgreSQL at postgresql:\/\/u:\*\*\*@127\.0\.0\.1:1\/x: .*ECONNREFUSED/);
  assert.ok(!pg.stderr.includes('secret'), 'the password is not printed');
  const bad = frugal('search', other, '--trials', '0');
  assert.equal(bad.code, 2);
});

test('Ctrl-C during frugal search: running trials go back to the queue, exit 130, --resume finishes', async () => {
  // Trials long enough (a few seconds) that the once-a-second progress line shows one running.
  const space = write('space-int.json', { ...issueSpace({ epochs: 6, limit: 6000 }), study: 'int' });
  const db = join(dir, 'int.db');
  const child = spawn(process.execPath, [MAIN, 'search', space, '--trials', '4', '--storage', db, ...DATA]);
  let stderr = '';
  child.stderr.setEncoding('utf8');
  const code = await new Promise<number | null>((done) => {
    child.stderr.on('data', (d: string) => {
      stderr += d;
      // Interrupt once a trial is running (the progress line shows it), before the study can finish.
      if (/1 running/.test(stderr) && !child.killed) child.kill('SIGINT');
    });
    child.on('close', (c) => done(c));
  });
  assert.equal(code, 130, stderr);
  assert.match(stderr, /interrupted with \d of 4 trials finished \(\d back in the queue\); continue with --resume/);
  const r = frugal('search', space, '--trials', '4', '--storage', db, ...DATA, '--resume', '--json');
  assert.equal(r.code, 0, r.stderr);
  assert.equal((oneJson(r.stdout).counts as { complete: number }).complete, 4);
});

test('frugal search retrain: the robust setting at each lr × seed, the best mean lr; bad lists refused', async () => {
  const space = write('space-rt.json', { ...issueSpace(), study: 'rt' });
  const db = join(dir, 'rt.db');
  assert.equal(frugal('search', space, '--trials', '3', '--storage', db, ...DATA).code, 0);
  const r = frugal(
    'search',
    'retrain',
    '--storage',
    db,
    '--lrs',
    '0.001,0.01',
    '--seeds',
    '1,2',
    '--top-k',
    '3',
    ...DATA,
  );
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /retrain lr 0\.01 seed 2: /);
  const j = oneJson(
    frugal('search', 'retrain', 'rt', '--storage', db, '--lrs', '0.001,0.01', '--seeds', '1,2', ...DATA, '--json')
      .stdout,
  ) as {
    seeds: number[];
    groups: { setting: Record<string, unknown>; runs: { lr: number; seed: number; value: number }[]; bestLr: number }[];
  } & { groups: { byLr: { lr: number; mean: number; std: number }[] }[] };
  assert.deepEqual(j.seeds, [1, 2]);
  const g = j.groups[0];
  assert.deepEqual(
    g.runs.map((x) => [x.lr, x.seed]),
    [
      [0.001, 1],
      [0.001, 2],
      [0.01, 1],
      [0.01, 2],
    ],
  );
  assert.ok(g.runs.every((x) => x.value > 0 && x.value <= 1));
  assert.ok(g.runs[0].value !== g.runs[1].value, 'the seeds train differently');
  const best = g.byLr.reduce((a, b) => (b.mean > a.mean ? b : a));
  assert.equal(g.bestLr, best.lr);
  const bad = frugal('search', 'retrain', '--storage', db, '--lrs', '0.01,abc');
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--lrs takes numbers > 0 separated by commas, got 0\.01,abc/);
  // Without --lrs: the setting's own lr ×0.1, ×1, ×10.
  const own = oneJson(frugal('search', 'retrain', '--storage', db, '--seeds', '1', ...DATA, '--json').stdout) as {
    groups: { setting: { lr: number }; byLr: { lr: number }[] }[];
  };
  const lr0 = own.groups[0].setting.lr;
  assert.deepEqual(
    own.groups[0].byLr.map((b) => b.lr),
    [lr0 / 10, lr0, lr0 * 10],
  );
  const gap = frugal('search', 'retrain', '--storage', db, '--seeds', '1,,2');
  assert.equal(gap.code, 2, 'an empty entry is not seed 0');
  assert.match(gap.stderr, /--seeds takes integers ≥ 0 separated by commas, got 1,,2/);
  const none = write('space-none.json', { ...issueSpace(), study: 'none' });
  const empty = join(dir, 'none.db');
  const s = openSqliteStorage(empty);
  await Study.create(s, JSON.parse(readFileSync(none, 'utf8')));
  await s.close();
  const nothing = frugal('search', 'retrain', '--storage', empty);
  assert.equal(nothing.code, 1);
  assert.match(nothing.stderr, /study none has no complete trial: nothing to retrain/);
});

test('the progress line ETA rounds to the second before splitting minutes', () => {
  assert.deepEqual([clock(119.6), clock(59.4), clock(3600), clock(NaN)], ['2:00', '0:59', '60:00', '--:--']);
});
