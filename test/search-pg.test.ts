// Issue 25, point 3: a study in PostgreSQL with trials dispatched by pg-boss. Several worker processes, one
// killed mid-trial: its trial is re-run elsewhere, and every trial has exactly one result. Needs a server:
// FRUGAL_TEST_PG_URL (`.ci/run` starts a throw-away cluster and sets it); skipped with a notice otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import pg from 'pg';
import { SUBSET_DIR, Study, openPgStorage, type StudyDef } from '../src/node.js';
import { MAIN } from './cli-helpers.js';

const BASE = process.env.FRUGAL_TEST_PG_URL;
if (!BASE) process.stderr.write('# search-pg: FRUGAL_TEST_PG_URL is not set; the PostgreSQL tests are skipped\n');
const skip = BASE ? false : 'FRUGAL_TEST_PG_URL is not set (bash .ci/run starts a server and sets it)';

/** A fresh database on the server for one test, dropped afterwards. */
async function database(name: string): Promise<{ url: string; drop: () => Promise<void> }> {
  const admin = new pg.Client({ connectionString: BASE });
  await admin.connect();
  const db = `frugal_${name}_${process.pid}`;
  await admin.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${db}`);
  await admin.end();
  const u = new URL(BASE!);
  u.pathname = `/${db}`;
  return {
    url: u.toString(),
    drop: async () => {
      const c = new pg.Client({ connectionString: BASE });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`);
      await c.end();
    },
  };
}

const def: StudyDef = {
  study: 'pg',
  objective: { model: 'mlp', epochs: 3, batchSize: 32, lr: 3e-3, limit: 600, metric: 'valAccuracy' },
  params: { width: { type: 'int', min: 8, max: 64 } },
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

test(
  'PostgreSQL: 3 workers, one killed mid-trial; its trial re-runs, every trial has one result',
  { skip },
  async () => {
    const { url, drop } = await database('kill');
    const storage = await openPgStorage(url);
    try {
      const study = await Study.create(storage, def);
      await study.enqueue(6);
      const args = [
        'search',
        'worker',
        '--storage',
        url,
        '--study',
        'pg',
        '--heartbeat-timeout',
        '4',
        '--models',
        'none',
      ];
      const kids = [0, 1, 2].map(() =>
        spawn(process.execPath, [MAIN, ...args, '--data-dir', SUBSET_DIR], { stdio: ['ignore', 'ignore', 'pipe'] }),
      );
      const exits = kids.map((k) => new Promise<number | null>((r) => k.on('exit', (c) => r(c))));
      const victim = String(kids[0].pid);
      // Wait until the first worker is mid-trial (running, at least one epoch reported), then kill it.
      let killed: number | undefined;
      for (let i = 0; i < 1200 && killed === undefined; i++) {
        const t = (await study.trials()).find((x) => x.state === 'running' && x.worker === victim && x.values.length);
        if (t) {
          kids[0].kill('SIGKILL');
          killed = t.id;
        } else await sleep(100);
      }
      assert.ok(killed !== undefined, 'the first worker ran a trial');
      const codes = await Promise.all(exits);
      assert.deepEqual(codes.slice(1), [0, 0], 'the other workers finish the study and exit cleanly');
      const ts = await study.trials();
      assert.equal(ts.length, 6);
      for (const t of ts) {
        assert.equal(t.state, 'complete', `trial ${t.number}: ${t.state} ${t.reason}`);
        assert.equal(t.values.length, 3);
        assert.equal(t.value, Math.max(...t.values), 'the value is the best epoch');
      }
      const re = ts.find((t) => t.id === killed)!;
      assert.ok(re.attempts >= 2, 'the killed trial was delivered again');
      assert.notEqual(re.worker, victim);
      const jobs = await storage.pool.query(
        `SELECT state, count(*)::int AS n FROM pgboss.job WHERE name = $1 GROUP BY state`,
        [`frugal-search.${study.record.id}`],
      );
      assert.deepEqual(jobs.rows, [{ state: 'completed', n: 6 }], 'one job per trial, all completed');
    } finally {
      await storage.close();
      await drop();
    }
  },
);

test(
  'PostgreSQL: a second delivery of a finished trial records nothing; a missing study is refused',
  { skip },
  async () => {
    const { url, drop } = await database('once');
    const storage = await openPgStorage(url);
    try {
      const study = await Study.create(storage, def);
      await study.enqueue(1);
      await assert.rejects(Study.create(storage, { ...def, seed: 2 }), /already exists .* with a different space/);
      const t = (await storage.claim(study.record.id, 'a'))!;
      assert.equal(await storage.report(t.id, 1, 0.5), true);
      assert.equal(await storage.finish(t.id, { state: 'complete', value: 0.5 }), true);
      assert.equal(await storage.finish(t.id, { state: 'complete', value: 0.7 }), false);
      // As if the job expired after the result was written: pg-boss delivers it again.
      const job = (await storage.pool.query('SELECT job FROM search_trials WHERE id = $1', [t.id])).rows[0].job;
      await storage.pool.query(`UPDATE pgboss.job SET state = 'retry' WHERE id = $1`, [job]);
      assert.equal(await storage.claim(study.record.id, 'b'), null, 'the redelivered job finds its trial done');
      const [rec] = await study.trials();
      assert.deepEqual([rec.state, rec.value, rec.attempts, rec.worker], ['complete', 0.5, 1, 'a']);
      const st = (await storage.pool.query('SELECT state FROM pgboss.job WHERE id = $1', [job])).rows[0].state;
      assert.equal(st, 'completed');
      await assert.rejects(
        Study.open(storage, 'nope'),
        /study "nope" does not exist in PostgreSQL storage \(it holds: pg\)/,
      );
    } finally {
      await storage.close();
      await drop();
    }
  },
);

test('PostgreSQL: a failed trial retried gets a new job and runs again; complete ones stay', { skip }, async () => {
  const { url, drop } = await database('retry');
  const storage = await openPgStorage(url);
  try {
    const study = await Study.create(storage, def);
    await study.enqueue(2);
    const a = (await storage.claim(study.record.id, 'a'))!;
    assert.equal(await storage.finish(a.id, { state: 'complete', value: 0.5 }), true);
    const b = (await storage.claim(study.record.id, 'a'))!;
    await storage.report(b.id, 1, 0.25);
    assert.equal(await storage.finish(b.id, { state: 'failed', value: null, reason: 'out of memory' }), true);
    assert.equal(await storage.claim(study.record.id, 'a'), null, 'nothing queued');
    assert.equal(await storage.retryFailed(study.record.id), 1);
    const again = (await storage.claim(study.record.id, 'b'))!;
    assert.deepEqual([again.id, again.state, again.values, again.reason], [b.id, 'running', [], null]);
    assert.equal(await storage.finish(again.id, { state: 'complete', value: 0.75 }), true);
    const by = new Map((await study.trials()).map((t) => [t.id, [t.state, t.value]]));
    assert.deepEqual(
      [by.get(a.id), by.get(b.id)],
      [
        ['complete', 0.5],
        ['complete', 0.75],
      ],
    );
    assert.equal(await storage.retryFailed(study.record.id), 0);
    // A trial failed for missed heartbeats keeps its old job waiting in pg-boss's retry state; after retryFailed
    // gives it a new job, only one of the two can claim it.
    await study.enqueue(3);
    const c = (await storage.claim(study.record.id, 'dead'))!;
    await sleep(30);
    assert.deepEqual(await storage.requeueStale(study.record.id, 10, 1), { requeued: 0, failed: 1 });
    assert.equal(await storage.retryFailed(study.record.id), 1);
    const first = (await storage.claim(study.record.id, 'x'))!;
    assert.equal(first.id, c.id);
    await storage.pool.query(`UPDATE pgboss.job SET start_after = now() WHERE name = $1`, [
      `frugal-search.${study.record.id}`,
    ]);
    assert.equal(await storage.claim(study.record.id, 'y'), null, 'the replaced job runs nothing');
  } finally {
    await storage.close();
    await drop();
  }
});
