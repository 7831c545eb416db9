// The shared study store: PostgreSQL tables for the record, pg-boss (a job queue in the same database)
// to hand trials to workers on any machine. Node-only.
//
// Delivery is at-least-once: a trial's job is created in the same transaction as its row; a worker fetches
// the job, runs the trial and completes the job after writing the result. A worker that dies stops sending
// heartbeats; any other worker then fails its job (pg-boss re-queues it for retry) and re-queues the trial.
// The result is written only while the trial has none, so a trial delivered twice still has one result.
import pg from 'pg';
import PgBoss from 'pg-boss';
import { canonicalJson } from './space.js';
import type { Params, Rejections } from './space.js';
import type { Direction } from './robust.js';
import { conflict, trialOf } from './store-sqlite.js';
import {
  StudyError,
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

/** Milliseconds on the database server's clock (heartbeats of machines with skewed clocks stay comparable). */
const NOW_MS = '(extract(epoch from clock_timestamp()) * 1000)::bigint';

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
  return new PgStorage(url, pool, boss);
}

export class PgStorage implements SearchStorage {
  readonly kind = 'PostgreSQL';
  /** The job of each trial this process claimed, to complete it once the result is written. */
  private jobs = new Map<number, string>();

  constructor(
    readonly url: string,
    readonly pool: pg.Pool,
    readonly boss: PgBoss,
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
    // Rows and jobs in one transaction (pg-boss sends through our client): a trial never lacks its job.
    await this.tx(async (c) => {
      const db = { executeSql: (text: string, values: unknown[]) => c.query(text, values) };
      for (const t of trials) {
        const r = await c.query(
          `INSERT INTO search_trials (study, number, state, params, rejections) VALUES ($1, $2, 'queued', $3, $4)
           ON CONFLICT (study, number) DO NOTHING RETURNING id`,
          [study, t.number, JSON.stringify(t.params), JSON.stringify(t.rejections)],
        );
        if (!r.rows.length) continue;
        const id = Number(r.rows[0].id);
        for (const [k, v] of Object.entries(t.params))
          await c.query('INSERT INTO search_params (trial, name, value) VALUES ($1, $2, $3)', [
            id,
            k,
            JSON.stringify(v),
          ]);
        const job = await this.boss.send(q, { trial: id }, { db });
        await c.query('UPDATE search_trials SET job = $1 WHERE id = $2', [job, id]);
      }
    });
  }

  async claim(study: number, worker: string): Promise<TrialRecord | null> {
    const q = this.queue(study);
    for (;;) {
      const [job] = await this.boss.fetch<{ trial: number }>(q);
      if (!job) return null;
      const r = await this.pool.query(
        `UPDATE search_trials SET state = 'running', worker = $1, attempts = attempts + 1,
         started = ${NOW_MS}, heartbeat = ${NOW_MS}, job = $2
         WHERE id = $3 AND state IN ('queued', 'running') AND (job IS NULL OR job = $2) RETURNING *`,
        [worker, job.id, job.data.trial],
      );
      if (!r.rows.length) {
        // A second delivery of a trial that already has its result, or a job retryFailed replaced (one marked
        // failed for missed heartbeats waits in pg-boss's retry state): nothing to run.
        await this.boss.complete(q, job.id);
        continue;
      }
      this.jobs.set(Number(r.rows[0].id), job.id);
      const v = await this.pool.query('SELECT value FROM search_values WHERE trial = $1 ORDER BY epoch', [
        r.rows[0].id,
      ]);
      return trialOf(
        r.rows[0],
        v.rows.map((x) => Number(x.value)),
      );
    }
  }

  async heartbeat(trial: number, worker: string): Promise<void> {
    await this.pool.query(
      `UPDATE search_trials SET heartbeat = ${NOW_MS} WHERE id = $1 AND worker = $2 AND state = 'running'`,
      [trial, worker],
    );
  }

  async report(trial: number, epoch: number, value: number): Promise<boolean> {
    const r = await this.pool.query(
      `INSERT INTO search_values (trial, epoch, value)
       SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM search_trials WHERE id = $1 AND state IN ('queued', 'running'))
       ON CONFLICT (trial, epoch) DO UPDATE SET value = excluded.value`,
      [trial, epoch, value],
    );
    return (r.rowCount ?? 0) > 0;
  }

  async finish(trial: number, o: TrialOutcome): Promise<boolean> {
    const r = await this.pool.query(
      `UPDATE search_trials SET state = $1, value = $2, reason = $3, model_path = $4, seconds = $5,
       finished = ${NOW_MS} WHERE id = $6 AND state IN ('queued', 'running') RETURNING study`,
      [o.state, o.value ?? null, o.reason ?? null, o.modelPath ?? null, o.seconds ?? null, trial],
    );
    const job = this.jobs.get(trial);
    this.jobs.delete(trial);
    const study =
      r.rows[0]?.study ??
      (await this.pool.query('SELECT study FROM search_trials WHERE id = $1', [trial])).rows[0]?.study;
    if (job && study !== undefined) await this.boss.complete(this.queue(Number(study)), job);
    return (r.rowCount ?? 0) === 1;
  }

  async release(trial: number): Promise<void> {
    const r = await this.pool.query(
      `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = GREATEST(attempts - 1, 0)
       WHERE id = $1 AND state = 'running' RETURNING study, job`,
      [trial],
    );
    this.jobs.delete(trial);
    // Failing the job makes pg-boss deliver it again, to any worker.
    if (r.rows.length && r.rows[0].job) await this.boss.fail(this.queue(Number(r.rows[0].study)), r.rows[0].job);
  }

  async retryFailed(study: number): Promise<number> {
    const q = this.queue(study);
    return this.tx(async (c) => {
      const db = { executeSql: (text: string, values: unknown[]) => c.query(text, values) };
      await c.query(
        `DELETE FROM search_values WHERE trial IN (SELECT id FROM search_trials WHERE study = $1 AND state = 'failed')`,
        [study],
      );
      const r = await c.query(
        `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = 0, value = NULL, reason = NULL,
         finished = NULL, seconds = NULL, model_path = NULL WHERE study = $1 AND state = 'failed' RETURNING id`,
        [study],
      );
      // The failed trial's job was completed: each gets a new one, in the same transaction as its row.
      for (const row of r.rows) {
        const job = await this.boss.send(q, { trial: Number(row.id) }, { db });
        await c.query('UPDATE search_trials SET job = $1 WHERE id = $2', [job, row.id]);
      }
      return r.rows.length;
    });
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
    const r = await this.pool.query(
      `UPDATE search_trials SET state = CASE WHEN attempts >= $3 THEN 'failed' ELSE 'queued' END,
       reason = CASE WHEN attempts >= $3 THEN 'its worker stopped sending heartbeats (died?) on each of ' ||
         attempts || ' attempts' ELSE reason END,
       finished = CASE WHEN attempts >= $3 THEN ${NOW_MS} ELSE finished END, worker = NULL
       WHERE study = $1 AND state = 'running' AND heartbeat < ${NOW_MS} - $2 RETURNING state, job`,
      [study, timeoutMs, maxAttempts],
    );
    let requeued = 0,
      failed = 0;
    for (const row of r.rows) {
      if (!row.job) continue;
      // Failing the dead worker's job makes pg-boss deliver it again (retry); for a trial out of attempts
      // the next worker to get it finds it failed and completes the job.
      if (row.state === 'queued') requeued++;
      else failed++;
      await this.boss.fail(q, row.job);
    }
    return { requeued, failed };
  }

  async close(): Promise<void> {
    await this.boss.stop({ graceful: false, wait: true }).catch(() => {});
    await this.pool.end();
  }
}
