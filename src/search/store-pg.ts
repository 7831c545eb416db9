// The shared study store: PostgreSQL tables for the record, pg-boss (a job queue in the same database)
// to hand trials to workers on any machine. Node-only.
//
// Delivery is at-least-once: a trial's job is created in the same transaction as its row; a worker fetches
// the job, runs the trial and completes the job after writing the result. A worker that dies stops sending
// heartbeats; any other worker then fails its job (pg-boss re-queues it for retry) and re-queues the trial.
// The result is written only while the trial has none, so a trial delivered twice still has one result.
import { createHash, randomUUID } from 'node:crypto';
import pg from 'pg';
import PgBoss from 'pg-boss';
import { canonicalJson } from './space.js';
import type { Params, Rejections } from './space.js';
import type { Direction } from './robust.js';
import { conflict, trialOf } from './store-sqlite.js';
import {
  StudyError,
  type EpochValue,
  type SearchStorage,
  type StudyDef,
  type StudyRecord,
  type TrialOutcome,
  type TrialRecord,
} from './study.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS search_studies (
  id SERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE, def TEXT NOT NULL, direction TEXT NOT NULL,
  created BIGINT NOT NULL);
CREATE TABLE IF NOT EXISTS search_trials (
  id SERIAL PRIMARY KEY, study INTEGER NOT NULL REFERENCES search_studies(id), number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','complete','pruned','failed')),
  params TEXT NOT NULL, rejections TEXT NOT NULL DEFAULT '{}', value DOUBLE PRECISION, reason TEXT,
  worker TEXT, attempts INTEGER NOT NULL DEFAULT 0, started BIGINT, finished BIGINT,
  seconds DOUBLE PRECISION, heartbeat BIGINT, model_path TEXT, job TEXT, UNIQUE (study, number));
CREATE INDEX IF NOT EXISTS search_trials_state ON search_trials (study, state, number);
CREATE TABLE IF NOT EXISTS search_params (
  trial INTEGER NOT NULL REFERENCES search_trials(id), name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (trial, name));
CREATE TABLE IF NOT EXISTS search_values (
  trial INTEGER NOT NULL REFERENCES search_trials(id), epoch INTEGER NOT NULL, value DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (trial, epoch));
`;

/** pg-boss's complete statement picks its jobs with this subquery; finish() makes it conditional. */
const UNNEST_JOBS = /SELECT UNNEST\(\$2::uuid\[\]\)/;
/** And ends with this count, which finish() replaces with its own. */
const COUNT_RESULTS = /SELECT COUNT\(\*\) FROM results\s*$/;
const FINISHED = 'SELECT (SELECT count(*) FROM finished)::int AS finished';

/**
 * A trial still open to writes: run by `worker` when that parameter is set, otherwise queued or running (a store's
 * own callers and tests write without a worker).
 */
const OPEN = (worker: string) =>
  `CASE WHEN ${worker}::text IS NULL THEN state IN ('queued', 'running')
   ELSE state = 'running' AND worker = ${worker} END`;

/** Milliseconds on the database server's clock (heartbeats of machines with skewed clocks stay comparable). */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

/**
 * finish()'s CTEs, parameters from $p: state, value, reason, model path, seconds, trial, epochs, values, worker. The
 * values (and, in the statement with pg-boss's completion, the completion) depend on the result being written: the
 * trial open, and with a worker run by that worker. A worker taken for dead whose trial went to another writes
 * nothing, and leaves the job to the re-run.
 */
function finishParts(p: number): string {
  const [state, value, reason, model, seconds, id, epochs, vals, w] = Array.from({ length: 9 }, (_, i) => `$${p + i}`);
  return `finished AS (UPDATE search_trials SET state = ${state}, value = ${value}, reason = ${reason},
      model_path = ${model}, seconds = ${seconds}, finished = ${NOW_MS}
      WHERE id = ${id} AND ${OPEN(w)} RETURNING id),
    reported AS (INSERT INTO search_values (trial, epoch, value)
      SELECT ${id}, u.epoch, u.value FROM unnest(${epochs}::int[], ${vals}::float8[]) AS u(epoch, value)
      WHERE EXISTS (SELECT 1 FROM finished)
      ON CONFLICT (trial, epoch) DO UPDATE SET value = excluded.value)`;
}

const names = new Map<string, string>();
/**
 * A query under a name made from its text, so each connection plans it once: planning the report statement took
 * two thirds of its round trip (0.48 ms unnamed, 0.15 ms named).
 */
function prepared(text: string, values?: unknown[]): pg.QueryConfig {
  let name = names.get(text);
  if (!name) names.set(text, (name = `frugal_${createHash('sha1').update(text).digest('hex').slice(0, 20)}`));
  return { name, text, values };
}
/** The statement a pg-boss call would send, recorded instead of run (`rows` is what the call reads back). */
async function recorded(
  call: (db: PgBoss.Db) => Promise<unknown>,
  rows: unknown[] = [],
): Promise<{ text: string; values: unknown[] } | undefined> {
  let got: { text: string; values: unknown[] } | undefined;
  await call({ executeSql: async (text, values) => ((got = { text, values }), { rows }) });
  return got;
}

/** Epochs and values for unnest(), an epoch given twice keeping its last value. */
function byEpoch(values: EpochValue[]): [number[], number[]] {
  const last = new Map(values.map((v) => [v.epoch, v.value]));
  return [[...last.keys()], [...last.values()]];
}

/** pg-boss's statements through our transaction's client, prepared too (enqueue, retryFailed). */
const via = (c: pg.PoolClient) => ({
  executeSql: (text: string, values: unknown[]) => c.query(prepared(text, values)),
});

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:/@]+):[^@]*@/, '//$1:***@');
}

/**
 * Open (and create the tables of) a PostgreSQL study store. Fails within `connectTimeoutMs` (default 5 s)
 * with a message naming the server when it cannot be reached.
 *
 * ```ts
 * const storage = await openPgStorage('postgresql://frugal@db:5432/frugal');
 * ```
 */
export async function openPgStorage(url: string, o: { connectTimeoutMs?: number } = {}): Promise<PgStorage> {
  const pool = new pg.Pool({ connectionString: url, max: 4, connectionTimeoutMillis: o.connectTimeoutMs ?? 5000 });
  pool.on('error', () => {}); // an idle client's lost connection: the next query reports it
  try {
    const c = await pool.connect();
    try {
      // Several processes may start at once: the advisory lock makes the CREATEs run one at a time.
      await c.query('SELECT pg_advisory_lock(727325)');
      await c.query(SCHEMA);
      await c.query('SELECT pg_advisory_unlock(727325)');
    } finally {
      c.release();
    }
  } catch (e) {
    await pool.end().catch(() => {});
    const code = (e as { code?: string }).code;
    throw new StudyError(
      `cannot use PostgreSQL at ${redactUrl(url)}: ${(e as Error).message || code}` +
        ` — check the URL, that the server runs and accepts connections from this machine`,
    );
  }
  const boss = new PgBoss({ connectionString: url, max: 2, schedule: false, migrate: true });
  boss.on('error', () => {});
  await boss.start();
  // pg-boss sorts every queued job of a queue to fetch one (its index does not follow the fetch's order): 4.3 ms a
  // fetch with 4,216 trials queued. This index in that order makes it 0.12 ms at any length. Created once (a CREATE
  // INDEX, even one that finds the index there, locks the table against the workers already running).
  const has = `SELECT 1 FROM pg_class WHERE relname = 'frugal_search_fetch' AND relnamespace = 'pgboss'::regnamespace`;
  if (!(await pool.query(has)).rows.length) {
    const c = await pool.connect();
    let failed: Error | undefined;
    try {
      await c.query('SELECT pg_advisory_lock(727325)');
      await c.query(
        `CREATE INDEX IF NOT EXISTS frugal_search_fetch ON pgboss.job (name, priority DESC, created_on, id)
         WHERE state < 'active'`,
      );
    } catch (e) {
      failed = e as Error;
    } finally {
      await c.query('SELECT pg_advisory_unlock(727325)').catch(() => {});
      c.release();
    }
    if (failed) {
      await boss.stop({ graceful: false, wait: true }).catch(() => {});
      await pool.end().catch(() => {});
      throw new StudyError(
        `cannot add the search's index to pgboss.job at ${redactUrl(url)}: ${failed.message}` +
          ' — connect once as the owner of the pgboss schema (the user that first ran a worker)',
      );
    }
  }
  // Claims and reports commit asynchronously: the server does not wait for their WAL flush. A crash of the server
  // can lose the last fraction of a second of them, which leaves a trial queued with its job (a claim is one
  // statement with its job's fetch) or without a value its re-run writes again. Results commit synchronously, and
  // flushing a result's commit record flushes everything written before it.
  const fast = new pg.Pool({
    connectionString: url,
    max: 1,
    connectionTimeoutMillis: o.connectTimeoutMs ?? 5000,
    // A SET, not a startup option: connection poolers (PgBouncer) refuse unknown startup parameters. The pool
    // hands the connection out once it is done.
    onConnect: async (c: pg.ClientBase) => void (await c.query('SET synchronous_commit = off')),
  });
  fast.on('error', () => {});
  return new PgStorage(url, pool, boss, fast);
}

export class PgStorage implements SearchStorage {
  readonly kind = 'PostgreSQL';
  /** The job (and study) of each trial this process claimed, to complete it with the result. */
  private jobs = new Map<number, { job: string; study: number }>();
  /** pg-boss's fetch statement of each queue. */
  private fetches = new Map<string, { text: string; values: unknown[] }>();
  /** finish()'s statement, by pg-boss's complete statement it extends. */
  private finishes = new Map<string, string>();

  constructor(
    readonly url: string,
    readonly pool: pg.Pool,
    readonly boss: PgBoss,
    /** One connection with asynchronous commit, for claim() and report(). */
    readonly fast: pg.Pool,
  ) {}

  private queue(study: number): string {
    return `frugal-search.${study}`;
  }

  private async tx<T>(f: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      const r = await f(c);
      await c.query('COMMIT');
      return r;
    } catch (e) {
      await c.query('ROLLBACK').catch(() => {});
      throw e;
    } finally {
      c.release();
    }
  }

  private studyOf(r: Record<string, unknown>): StudyRecord {
    return {
      id: Number(r.id),
      name: String(r.name),
      def: JSON.parse(String(r.def)),
      direction: r.direction as Direction,
      created: Number(r.created),
    };
  }

  async createStudy(def: StudyDef, direction: Direction): Promise<StudyRecord> {
    const text = canonicalJson(def);
    const rec = await this.tx(async (c) => {
      await c.query('LOCK TABLE search_studies IN SHARE ROW EXCLUSIVE MODE');
      const old = await c.query('SELECT * FROM search_studies WHERE name = $1', [def.study]);
      if (old.rows.length) {
        if (old.rows[0].def !== text) throw conflict(def.study, redactUrl(this.url));
        return this.studyOf(old.rows[0]);
      }
      const r = await c.query(
        'INSERT INTO search_studies (name, def, direction, created) VALUES ($1, $2, $3, $4) RETURNING *',
        [def.study, text, direction, Date.now()],
      );
      return this.studyOf(r.rows[0]);
    });
    const q = this.queue(rec.id);
    // retryLimit: our own attempt count decides when a trial has failed; expiry is a backstop only.
    if (!(await this.boss.getQueue(q)))
      await this.boss.createQueue(q, { name: q, retryLimit: 1000, expireInSeconds: 86_000 });
    return rec;
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const r = await this.pool.query('SELECT * FROM search_studies WHERE name = $1', [name]);
    return r.rows.length ? this.studyOf(r.rows[0]) : null;
  }

  async listStudies(): Promise<StudyRecord[]> {
    return (await this.pool.query('SELECT * FROM search_studies ORDER BY id')).rows.map((r) => this.studyOf(r));
  }

  async enqueue(study: number, trials: { number: number; params: Params; rejections: Rejections }[]): Promise<void> {
    const q = this.queue(study);
    // Rows, parameters and jobs in one transaction, three statements however many trials: a trial never lacks its
    // job. The job ids are ours, so each row names its job as it is written.
    await this.tx(async (c) => {
      const r = await c.query(
        prepared(
          `INSERT INTO search_trials (study, number, state, params, rejections, job)
           SELECT $1, u.number, 'queued', u.params, u.rejections, u.job
           FROM unnest($2::int[], $3::text[], $4::text[], $5::text[]) AS u(number, params, rejections, job)
           ON CONFLICT (study, number) DO NOTHING RETURNING id, number, job`,
          [
            study,
            trials.map((t) => t.number),
            trials.map((t) => JSON.stringify(t.params)),
            trials.map((t) => JSON.stringify(t.rejections)),
            trials.map(() => randomUUID()),
          ],
        ),
      );
      const byNumber = new Map(trials.map((t) => [t.number, t]));
      const ids: number[] = [],
        names: string[] = [],
        values: string[] = [];
      for (const row of r.rows)
        for (const [k, v] of Object.entries(byNumber.get(Number(row.number))!.params)) {
          ids.push(Number(row.id));
          names.push(k);
          values.push(JSON.stringify(v));
        }
      await c.query(
        prepared(
          'INSERT INTO search_params (trial, name, value) SELECT * FROM unnest($1::int[], $2::text[], $3::text[])',
          [ids, names, values],
        ),
      );
      // Priority −number: workers take the trials in number order, as on SQLite (pg-boss orders by priority, then
      // creation time, then id, and a study's jobs share their creation time).
      const jobs = r.rows.map((row) => ({
        id: String(row.job),
        name: q,
        data: { trial: Number(row.id) },
        priority: -Number(row.number),
      }));
      if (jobs.length) await this.boss.insert(jobs, { db: via(c) });
    });
    // Fresh statistics for the planner: until autovacuum gets to the new rows (a minute or more), it sorts every
    // queued job to fetch one (a claim took 6.3 ms with 4,216 trials queued, 2.0 ms after ANALYZE).
    if (trials.length >= 100) await this.pool.query('ANALYZE search_trials, search_values, pgboss.job');
  }

  /** pg-boss's fetch statement for a queue, as pg-boss would send it (recorded, not run), and its parameters. */
  private async fetchStatement(q: string): Promise<{ text: string; values: unknown[] }> {
    let got = this.fetches.get(q);
    if (!got) {
      const g = await recorded((db) => this.boss.fetch(q, { db }));
      if (!g || g.values.length !== 2 || g.values[1] !== 1 || !/\$2(?!\d)/.test(g.text))
        throw new Error('pg-boss fetches a job with a statement of another form than 10.4 did: update store-pg.ts');
      // The batch size (1) written in, so the server's generic plan of the statement knows it takes one job. With
      // it a parameter, that plan hashes every job of the queue; without a generic plan, each claim is planned anew
      // (0.6 ms).
      got = { text: g.text.replace(/\$2(?!\d)/g, '1'), values: [g.values[0]] };
      this.fetches.set(q, got);
    }
    return got;
  }

  async claim(study: number, worker: string): Promise<TrialRecord | null> {
    const q = this.queue(study);
    const fetch = await this.fetchStatement(q);
    const w = `$${fetch.values.length + 1}`;
    // One statement, so one round trip and atomic: pg-boss's own fetch of the next job (its statement as it sends
    // it), and the claim of that job's trial. A claim took four round trips in a transaction before.
    const text = `WITH fetched AS (${fetch.text}),
      claimed AS (
        UPDATE search_trials t SET state = 'running', worker = ${w}, attempts = t.attempts + 1,
          started = ${NOW_MS}, heartbeat = ${NOW_MS}, job = fetched.id::text
        FROM fetched WHERE t.id = (fetched.data->>'trial')::int AND t.state IN ('queued', 'running')
          AND (t.job IS NULL OR t.job = fetched.id::text)
        RETURNING t.*, ARRAY(SELECT value FROM search_values v WHERE v.trial = t.id ORDER BY v.epoch) AS reported)
      SELECT fetched.id AS fetched_job, claimed.* FROM fetched LEFT JOIN claimed ON true`;
    for (;;) {
      const r = await this.fast.query(prepared(text, [...fetch.values, worker]));
      if (!r.rows.length) return null;
      const { fetched_job: job, reported, ...row } = r.rows[0] as Record<string, unknown>;
      if (row.id === null) {
        // A second delivery of a trial that already has its result, or a job retryFailed replaced (one marked
        // failed for missed heartbeats waits in pg-boss's retry state): nothing to run.
        await this.boss.complete(q, String(job), { ran: false });
        continue;
      }
      this.jobs.set(Number(row.id), { job: String(job), study });
      return trialOf(row as unknown as Parameters<typeof trialOf>[0], (reported as unknown[]).map(Number));
    }
  }

  async heartbeat(trial: number, worker: string): Promise<void> {
    await this.pool.query(
      prepared(`UPDATE search_trials SET heartbeat = ${NOW_MS} WHERE id = $1 AND worker = $2 AND state = 'running'`, [
        trial,
        worker,
      ]),
    );
  }

  async report(trial: number, values: EpochValue[], worker?: string, beat = false): Promise<boolean> {
    const [epochs, vals] = byEpoch(values);
    // One statement: the values while the trial is open (with `worker`: while that worker runs it), and with `beat`
    // that worker's heartbeat.
    const r = await this.fast.query(
      prepared(
        `WITH open AS (SELECT 1 FROM search_trials WHERE id = $1 AND ${OPEN('$4')}),
         beat AS (UPDATE search_trials SET heartbeat = ${NOW_MS}
           WHERE $5 AND id = $1 AND worker = $4 AND state = 'running' RETURNING id),
         reported AS (INSERT INTO search_values (trial, epoch, value)
           SELECT $1, u.epoch, u.value FROM unnest($2::int[], $3::float8[]) AS u(epoch, value)
           WHERE EXISTS (SELECT 1 FROM open)
           ON CONFLICT (trial, epoch) DO UPDATE SET value = excluded.value)
         SELECT EXISTS (SELECT 1 FROM open) AS open`,
        [trial, epochs, vals, worker ?? null, beat],
      ),
    );
    return r.rows[0].open === true;
  }

  async finish(trial: number, o: TrialOutcome, values: EpochValue[] = [], worker?: string): Promise<boolean> {
    const mine = this.jobs.get(trial);
    this.jobs.delete(trial);
    const result = [o.state, o.value ?? null, o.reason ?? null, o.modelPath ?? null, o.seconds ?? null, trial];
    const params: unknown[] = [...result, ...byEpoch(values), worker ?? null];
    if (!mine)
      return (await this.pool.query(prepared(`WITH ${finishParts(1)} ${FINISHED}`, params))).rows[0].finished === 1;
    const done = await recorded(
      (db) => this.boss.complete(this.queue(mine.study), mine.job, { trial }, { db }),
      [{ count: '0' }],
    );
    const text = this.finishText(done?.text ?? '', done?.values.length ?? 0);
    const r = await this.pool.query(prepared(text, [...done!.values, ...params]));
    return r.rows[0].finished === 1;
  }

  /**
   * pg-boss's complete statement (the same text for every job) extended with the result and its last values: one
   * statement, one round trip, committed together and synchronously. Checked once for the form it extends.
   */
  private finishText(complete: string, theirs: number): string {
    let text = this.finishes.get(complete);
    if (!text) {
      if (!/^\s*WITH\s+results AS \(/.test(complete) || !UNNEST_JOBS.test(complete) || !COUNT_RESULTS.test(complete))
        throw new Error('pg-boss completes a job with a statement of another form than 10.4 did: update store-pg.ts');
      // (Function replacers: the text holds $n, which a replacement string could read as a group.) Our parameters
      // follow pg-boss's.
      text = complete
        .replace(/^\s*WITH\s+/, () => `WITH ${finishParts(theirs + 1)}, `)
        .replace(UNNEST_JOBS, (m) => `${m} WHERE EXISTS (SELECT 1 FROM finished)`)
        .replace(COUNT_RESULTS, () => FINISHED);
      this.finishes.set(complete, text);
    }
    return text;
  }

  /**
   * pg-boss's fail of jobs, inside our transaction c. pg-boss 10.4 reads the connection from its FOURTH argument
   * (name, id, data, options), whatever its typings' three-argument form says: with { db } third it would be stored
   * as the job's output and the statement run outside the transaction.
   */
  private async failJobs(q: string, ids: string[], c: pg.PoolClient): Promise<void> {
    const fail = this.boss.fail.bind(this.boss) as unknown as (n: string, i: string[], d: null, o: object) => unknown;
    await fail(q, ids, null, { db: via(c) });
  }

  async release(trial: number): Promise<void> {
    // The row and its job change in one transaction: a process dying between the two would leave the trial queued
    // with its job active, and nothing would deliver it again until pg-boss's expiry (a day).
    await this.tx(async (c) => {
      const r = await c.query(
        `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = GREATEST(attempts - 1, 0)
         WHERE id = $1 AND state = 'running' RETURNING study, job`,
        [trial],
      );
      // Failing the job makes pg-boss deliver it again, to any worker.
      if (r.rows.length && r.rows[0].job)
        await this.failJobs(this.queue(Number(r.rows[0].study)), [String(r.rows[0].job)], c);
    });
    this.jobs.delete(trial);
  }

  async retryFailed(study: number): Promise<number> {
    const q = this.queue(study);
    return this.tx(async (c) => {
      const db = via(c);
      await c.query(
        `DELETE FROM search_values WHERE trial IN (SELECT id FROM search_trials WHERE study = $1 AND state = 'failed')`,
        [study],
      );
      const r = await c.query(
        `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = 0, value = NULL, reason = NULL,
         finished = NULL, seconds = NULL, model_path = NULL WHERE study = $1 AND state = 'failed' RETURNING id, number`,
        [study],
      );
      // The failed trial's job was completed: each gets a new one, in the same transaction as its row.
      for (const row of r.rows) {
        const job = await this.boss.send(q, { trial: Number(row.id) }, { db, priority: -Number(row.number) });
        await c.query('UPDATE search_trials SET job = $1 WHERE id = $2', [job, row.id]);
      }
      return r.rows.length;
    });
  }

  async countOpen(study: number): Promise<number> {
    const r = await this.pool.query(
      prepared(`SELECT count(*)::int AS n FROM search_trials WHERE study = $1 AND state IN ('queued', 'running')`, [
        study,
      ]),
    );
    return r.rows[0].n;
  }

  async trials(study: number): Promise<TrialRecord[]> {
    const rows = (await this.pool.query('SELECT * FROM search_trials WHERE study = $1 ORDER BY number', [study])).rows;
    const vals = (
      await this.pool.query(
        `SELECT v.trial, v.value FROM search_values v JOIN search_trials t ON t.id = v.trial
         WHERE t.study = $1 ORDER BY v.trial, v.epoch`,
        [study],
      )
    ).rows;
    const by = new Map<number, number[]>();
    for (const v of vals) (by.get(v.trial) ?? by.set(v.trial, []).get(v.trial)!).push(Number(v.value));
    return rows.map((r) => trialOf(r, by.get(r.id) ?? []));
  }

  async requeueStale(
    study: number,
    timeoutMs: number,
    maxAttempts: number,
  ): Promise<{ requeued: number; failed: number }> {
    const q = this.queue(study);
    // Rows and jobs in one transaction (see release).
    return this.tx(async (c) => {
      const r = await c.query(
        `UPDATE search_trials SET state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
         reason = CASE WHEN attempts >= $3 THEN 'its worker stopped sending heartbeats (died?) on each of ' ||
           attempts || ' attempts' ELSE reason END,
         finished = CASE WHEN attempts >= $3 THEN ${NOW_MS} ELSE finished END, worker = NULL
         WHERE study = $1 AND state = 'running' AND heartbeat < ${NOW_MS} - $2 RETURNING state, job`,
        [study, timeoutMs, maxAttempts],
      );
      const jobs = r.rows.filter((row) => row.job);
      // Failing the dead worker's job makes pg-boss deliver it again (retry); for a trial out of attempts the next
      // worker to get it finds it failed and completes the job.
      if (jobs.length)
        await this.failJobs(
          q,
          jobs.map((row) => String(row.job)),
          c,
        );
      const requeued = jobs.filter((row) => row.state === 'queued').length;
      return { requeued, failed: jobs.length - requeued };
    });
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true }).catch(() => {});
    await this.pool.end();
    await this.fast.end();
  }
}
