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
      // Wait until some worker is mid-trial, then kill that worker. (Not a chosen one: trials take a fraction of a
      // second, and the last worker to start may find none left.) One statement, so one snapshot: a trial read as
      // running was not yet finished (study.trials() reads rows and values apart, and a trial finishing between
      // the two looked running with its values). Without a pruner its values reach the store with the result.
      let killed: number | undefined,
        victim = '',
        v = -1;
      for (let i = 0; i < 1200 && killed === undefined; i++) {
        const t = (
          await storage.pool.query(
            `SELECT id, worker FROM search_trials WHERE study = $1 AND state = 'running' ORDER BY id LIMIT 1`,
            [study.record.id],
          )
        ).rows[0] as { id: number; worker: string } | undefined;
        v = kids.findIndex((k) => String(k.pid) === t?.worker);
        if (t && v >= 0) {
          kids[v].kill('SIGKILL');
          [killed, victim] = [t.id, t.worker!];
        } else await sleep(20);
      }
      assert.ok(killed !== undefined, 'a worker was seen mid-trial');
      const codes = await Promise.all(exits);
      assert.deepEqual(
        codes.filter((_, i) => i !== v),
        [0, 0],
        'the other workers finish the study and exit cleanly',
      );
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
      assert.equal(await storage.countOpen(study.record.id), 1, 'a running trial is open');
      assert.equal(await storage.report(t.id, [{ epoch: 1, value: 0.5 }]), true);
      assert.equal(await storage.finish(t.id, { state: 'complete', value: 0.5 }), true);
      assert.equal(await storage.countOpen(study.record.id), 0, 'an ended one is not');
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
    await storage.report(b.id, [{ epoch: 1, value: 0.25 }]);
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

test(
  "PostgreSQL: giving a trial back and re-queuing a dead worker's trial change its row and its job together",
  { skip },
  async () => {
    const { url, drop } = await database('atomic');
    const storage = await openPgStorage(url);
    const boss = (storage as unknown as { boss: { fail: (...a: unknown[]) => Promise<unknown> } }).boss;
    const fail = boss.fail;
    const q = (id: number) => `frugal-search.${id}`;
    const row = async (id: number) =>
      (
        await storage.pool.query(
          `SELECT t.state, j.state AS job FROM search_trials t JOIN pgboss.job j ON j.id::text = t.job WHERE t.id = $1`,
          [id],
        )
      ).rows[0];
    try {
      const study = await Study.create(storage, def);
      await study.enqueue(1);
      const t = (await storage.claim(study.record.id, 'a'))!;
      // pg-boss failing the job fails the whole step: the trial stays running with its job active, not queued with
      // a job nobody will deliver again (the state a process dying between two statements left).
      // pg-boss fails the job, then the process loses its connection: with the job's statement inside the
      // transaction, both it and the row roll back (run outside it, the job would stay failed, the row running).
      boss.fail = async (...a: unknown[]) => {
        await fail.apply(boss, a);
        throw new Error('connection lost');
      };
      await assert.rejects(storage.release(t.id), /connection lost/);
      assert.deepEqual(await row(t.id), { state: 'running', job: 'active' });
      await sleep(30);
      await assert.rejects(storage.requeueStale(study.record.id, 10, 5), /connection lost/);
      assert.deepEqual(await row(t.id), { state: 'running', job: 'active' });
      boss.fail = fail;
      await storage.release(t.id);
      assert.deepEqual(await row(t.id), { state: 'queued', job: 'retry' });
      const bump = () =>
        storage.pool.query('UPDATE pgboss.job SET start_after = now() WHERE name = $1', [q(study.record.id)]);
      await bump();
      const again = (await storage.claim(study.record.id, 'b'))!;
      assert.equal(again.id, t.id, 'the job is delivered again');
      await sleep(30);
      assert.deepEqual(await storage.requeueStale(study.record.id, 10, 5), { requeued: 1, failed: 0 });
      assert.deepEqual(await row(t.id), { state: 'queued', job: 'retry' });
      await bump();
      assert.equal((await storage.claim(study.record.id, 'c'))?.id, t.id);
    } finally {
      boss.fail = fail;
      await storage.close();
      await drop();
    }
  },
);

test(
  'PostgreSQL: a report batch keeps the last value of an epoch and is the heartbeat of the worker that runs it only',
  { skip },
  async () => {
    const { url, drop } = await database('reports');
    const storage = await openPgStorage(url);
    try {
      const study = await Study.create(storage, def);
      await study.enqueue(1);
      const t = (await storage.claim(study.record.id, 'a'))!;
      const beat = async () =>
        Number(
          (await storage.pool.query('SELECT heartbeat FROM search_trials WHERE id = $1', [t.id])).rows[0].heartbeat,
        );
      const h0 = await beat();
      await sleep(30);
      const batch = [
        { epoch: 1, value: 0.1 },
        { epoch: 2, value: 0.2 },
        { epoch: 1, value: 0.15 },
      ];
      assert.equal(await storage.report(t.id, batch), true);
      assert.equal(await beat(), h0, 'a report without a worker is no heartbeat');
      const other = await storage.report(t.id, [{ epoch: 3, value: 0.9 }], 'b', true);
      assert.equal(other, false, 'a worker that does not run the trial is told so');
      assert.equal(await beat(), h0, 'and its report is no heartbeat');
      assert.equal(await storage.report(t.id, [{ epoch: 3, value: 0.3 }], 'a'), true);
      assert.equal(await beat(), h0, 'a report not asked to beat is no heartbeat');
      assert.equal(await storage.report(t.id, [{ epoch: 3, value: 0.35 }], 'a', true), true);
      assert.ok((await beat()) >= h0 + 25, 'the report of the worker that runs the trial is its heartbeat');
      // Given back (its worker stopping) and claimed again: the values of the first attempt come with it.
      await storage.release(t.id);
      await storage.pool.query(`UPDATE pgboss.job SET start_after = now() WHERE name = $1`, [
        `frugal-search.${study.record.id}`,
      ]);
      const again = (await storage.claim(study.record.id, 'c'))!;
      assert.deepEqual([again.id, again.values], [t.id, [0.15, 0.2, 0.35]]);
      // The values not yet written go with the result; an ended trial takes none.
      const last = [{ epoch: 4, value: 0.4 }];
      assert.equal(await storage.finish(t.id, { state: 'complete', value: 0.4 }, last), true);
      assert.equal(await storage.finish(t.id, { state: 'complete', value: 0.9 }, [{ epoch: 5, value: 0.9 }]), false);
      const [rec] = await study.trials();
      assert.deepEqual([rec.state, rec.value, rec.values], ['complete', 0.4, [0.15, 0.2, 0.35, 0.4]]);
      const jobs = await storage.pool.query(
        'SELECT j.state FROM pgboss.job j JOIN search_trials t ON t.job = j.id::text WHERE t.id = $1',
        [t.id],
      );
      assert.deepEqual(jobs.rows, [{ state: 'completed' }], "the result completed the trial's job");
    } finally {
      await storage.close();
      await drop();
    }
  },
);

test(
  'PostgreSQL: fetching a trial from a long queue reads one job through an index, not a sort of all',
  { skip },
  async () => {
    const { url, drop } = await database('fetch');
    const storage = await openPgStorage(url);
    try {
      const study = await Study.create(storage, def);
      await study.enqueue(300);
      // pg-boss's fetch statement for this queue, as it would send it, explained instead of run.
      let sql = '',
        values: unknown[] = [];
      const recorder = { executeSql: async (t: string, v: unknown[]) => ((sql = t), (values = v), { rows: [] }) };
      await storage.boss.fetch(`frugal-search.${study.record.id}`, { db: recorder });
      const plan = async () =>
        JSON.stringify((await storage.pool.query(`EXPLAIN (FORMAT JSON) ${sql}`, values)).rows[0]['QUERY PLAN']);
      const ours = await plan();
      assert.match(ours, /priority_created_on_id/, 'the fetch scans our index');
      const sortsQueue = /"Sort Key":\["job\.priority DESC"/;
      assert.doesNotMatch(ours, sortsQueue, 'and sorts nothing');
      // The same check without the index: the planner sorts the queue, and the check sees it.
      await storage.pool.query('DROP INDEX pgboss.frugal_search_fetch');
      const without = await plan();
      assert.doesNotMatch(without, /priority_created_on_id/);
      assert.match(without, sortsQueue);
      // One enqueue of 300 in three statements: every trial has its parameters and its job, a second enqueue adds
      // nothing, and workers take the trials in number order.
      assert.equal(await study.enqueue(300), 300);
      const count = async (sql: string) => (await storage.pool.query(sql)).rows[0].n;
      assert.equal(await count('SELECT count(*)::int AS n FROM search_params'), 300);
      assert.equal(await count(`SELECT count(*)::int AS n FROM pgboss.job WHERE name LIKE 'frugal-search.%'`), 300);
      assert.equal(
        await count('SELECT count(*)::int AS n FROM search_trials t JOIN pgboss.job j ON j.id::text = t.job'),
        300,
        'each trial names its job',
      );
      const first = [];
      for (let i = 0; i < 3; i++) first.push((await storage.claim(study.record.id, 'w'))!.number);
      assert.deepEqual(first, [0, 1, 2]);
    } finally {
      await storage.close();
      await drop();
    }
  },
);

test(
  'PostgreSQL: a worker taken for dead loses its trial: told so on its next report, its late result not written',
  { skip },
  async () => {
    const { url, drop } = await database('dead');
    const [sa, sb] = [await openPgStorage(url), await openPgStorage(url)];
    try {
      const study = await Study.create(sa, def);
      await study.enqueue(1);
      const a = (await sa.claim(study.record.id, 'A'))!;
      assert.equal(await sa.report(a.id, [{ epoch: 1, value: 0.1 }], 'A'), true);
      await sleep(30);
      assert.deepEqual(await sb.requeueStale(study.record.id, 10, 5), { requeued: 1, failed: 0 });
      await sb.pool.query(`UPDATE pgboss.job SET start_after = now() WHERE name = $1`, [
        `frugal-search.${study.record.id}`,
      ]);
      const b = (await sb.claim(study.record.id, 'B'))!;
      assert.equal(b.id, a.id, 'the trial went to B');
      assert.equal(await sa.report(a.id, [{ epoch: 2, value: 0.9 }], 'A', true), false, 'A is told');
      const late = [{ epoch: 3, value: 0.9 }];
      assert.equal(await sa.finish(a.id, { state: 'complete', value: 0.9 }, late, 'A'), false);
      const jobState = async () =>
        (
          await sb.pool.query(
            'SELECT j.state FROM pgboss.job j JOIN search_trials t ON t.job = j.id::text WHERE t.id = $1',
            [a.id],
          )
        ).rows[0].state;
      assert.equal(await jobState(), 'active', "A's late result leaves the job to B");
      assert.equal(await sb.finish(b.id, { state: 'complete', value: 0.5 }, [{ epoch: 1, value: 0.5 }], 'B'), true);
      const [rec] = await study.trials();
      assert.deepEqual([rec.state, rec.value, rec.worker, rec.values], ['complete', 0.5, 'B', [0.5]]);
      assert.equal(await jobState(), 'completed');
    } finally {
      await sa.close();
      await sb.close();
      await drop();
    }
  },
);
