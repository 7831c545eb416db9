// The embedded study store: one SQLite file (better-sqlite3, WAL), shared by the local worker processes.
// Node-only. Every state change is one transaction, so a process killed at any moment leaves either the
// state before or the state after it; a trial's result is written only while it has none.
import { existsSync } from 'node:fs';
import Database from 'better-sqlite3';
import { canonicalJson } from './space.js';
import type { Params, Rejections } from './space.js';
import type { Direction } from './robust.js';
import {
  StudyError,
  type EpochValue,
  type SearchStorage,
  type StudyDef,
  type StudyRecord,
  type TrialOutcome,
  type TrialRecord,
  type TrialState,
} from './study.js';

const SCHEMA = `
CREATE TABLE IF NOT EXISTS search_studies (
  id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, def TEXT NOT NULL, direction TEXT NOT NULL,
  created INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS search_trials (
  id INTEGER PRIMARY KEY, study INTEGER NOT NULL REFERENCES search_studies(id), number INTEGER NOT NULL,
  state TEXT NOT NULL CHECK (state IN ('queued','running','complete','pruned','failed')),
  params TEXT NOT NULL, rejections TEXT NOT NULL DEFAULT '{}', value REAL, reason TEXT, worker TEXT,
  attempts INTEGER NOT NULL DEFAULT 0, started INTEGER, finished INTEGER, seconds REAL, heartbeat INTEGER,
  model_path TEXT, UNIQUE (study, number));
CREATE INDEX IF NOT EXISTS search_trials_state ON search_trials (study, state, number);
CREATE TABLE IF NOT EXISTS search_params (
  trial INTEGER NOT NULL REFERENCES search_trials(id), name TEXT NOT NULL, value TEXT NOT NULL,
  PRIMARY KEY (trial, name));
CREATE TABLE IF NOT EXISTS search_values (
  trial INTEGER NOT NULL REFERENCES search_trials(id), epoch INTEGER NOT NULL, value REAL NOT NULL,
  PRIMARY KEY (trial, epoch));
`;

interface TrialRow {
  id: number;
  study: number;
  number: number;
  state: TrialState;
  params: string;
  rejections: string;
  value: number | null;
  reason: string | null;
  worker: string | null;
  attempts: number;
  started: number | null;
  finished: number | null;
  seconds: number | null;
  heartbeat: number | null;
  model_path: string | null;
}

/** A trial row as a record (values added by the caller). */
export function trialOf(r: TrialRow, values: number[] = []): TrialRecord {
  return {
    id: Number(r.id),
    study: Number(r.study),
    number: Number(r.number),
    state: r.state,
    params: JSON.parse(r.params) as Params,
    rejections: JSON.parse(r.rejections) as Rejections,
    value: r.value,
    values,
    reason: r.reason,
    worker: r.worker,
    attempts: Number(r.attempts),
    started: r.started === null ? null : Number(r.started),
    finished: r.finished === null ? null : Number(r.finished),
    seconds: r.seconds,
    heartbeat: r.heartbeat === null ? null : Number(r.heartbeat),
    modelPath: r.model_path,
  };
}

/** Refusal of a study name that exists with another definition (shared by the stores). */
export function conflict(name: string, where: string): StudyError {
  return new StudyError(
    `study "${name}" already exists in ${where} with a different space or objective; ` +
      'give this search another "study" name (or --study NAME), or use another --storage',
  );
}

/**
 * The SQLite storage of a study (WAL journal, so readers never block the writer; a busy timeout, so the
 * local workers wait for each other's short transactions instead of failing). `create: false` refuses a
 * file that does not exist (a worker must not create an empty store by a typo).
 *
 * ```ts
 * const storage = openSqliteStorage('runs/search.db');
 * const study = await Study.create(storage, def);
 * ```
 */
export function openSqliteStorage(path: string, o: { create?: boolean; busyTimeoutMs?: number } = {}): SqliteStorage {
  if (o.create === false && path !== ':memory:' && !existsSync(path))
    throw new StudyError(`no search storage at ${path}; start the study with \`frugal search SPACE.json\` first`);
  return new SqliteStorage(path, o.busyTimeoutMs ?? 30_000);
}

export class SqliteStorage implements SearchStorage {
  readonly kind = 'SQLite';
  readonly db: Database.Database;

  constructor(
    readonly path: string,
    busyTimeoutMs: number,
  ) {
    this.db = new Database(path);
    this.db.pragma(`busy_timeout = ${busyTimeoutMs}`);
    this.db.pragma('journal_mode = WAL');
    // NORMAL: a transaction committed in WAL mode survives the death of any process (not a power loss).
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('foreign_keys = ON');
    this.db.exec(SCHEMA);
  }

  private studyOf(r: { id: number; name: string; def: string; direction: string; created: number }): StudyRecord {
    return { id: r.id, name: r.name, def: JSON.parse(r.def), direction: r.direction as Direction, created: r.created };
  }

  async createStudy(def: StudyDef, direction: Direction): Promise<StudyRecord> {
    const text = canonicalJson(def);
    const tx = this.db.transaction(() => {
      const old = this.db.prepare('SELECT * FROM search_studies WHERE name = ?').get(def.study) as
        { id: number; name: string; def: string; direction: string; created: number } | undefined;
      if (old) {
        if (old.def !== text) throw conflict(def.study, this.path);
        return this.studyOf(old);
      }
      const now = Date.now();
      const id = this.db
        .prepare('INSERT INTO search_studies (name, def, direction, created) VALUES (?, ?, ?, ?)')
        .run(def.study, text, direction, now).lastInsertRowid;
      return { id: Number(id), name: def.study, def: JSON.parse(text), direction, created: now };
    });
    return tx.immediate();
  }

  async getStudy(name: string): Promise<StudyRecord | null> {
    const r = this.db.prepare('SELECT * FROM search_studies WHERE name = ?').get(name);
    return r ? this.studyOf(r as Parameters<SqliteStorage['studyOf']>[0]) : null;
  }

  async listStudies(): Promise<StudyRecord[]> {
    const rows = this.db.prepare('SELECT * FROM search_studies ORDER BY id').all();
    return rows.map((r) => this.studyOf(r as Parameters<SqliteStorage['studyOf']>[0]));
  }

  async enqueue(study: number, trials: { number: number; params: Params; rejections: Rejections }[]): Promise<void> {
    const ins = this.db.prepare(
      `INSERT INTO search_trials (study, number, state, params, rejections) VALUES (?, ?, 'queued', ?, ?)
       ON CONFLICT (study, number) DO NOTHING`,
    );
    const par = this.db.prepare('INSERT INTO search_params (trial, name, value) VALUES (?, ?, ?)');
    this.db
      .transaction(() => {
        for (const t of trials) {
          const r = ins.run(study, t.number, JSON.stringify(t.params), JSON.stringify(t.rejections));
          if (r.changes)
            for (const [k, v] of Object.entries(t.params)) par.run(r.lastInsertRowid, k, JSON.stringify(v));
        }
      })
      .immediate();
  }

  async claim(study: number, worker: string): Promise<TrialRecord | null> {
    const now = Date.now();
    const tx = this.db.transaction(() => {
      const r = this.db
        .prepare(
          `UPDATE search_trials SET state = 'running', worker = ?, attempts = attempts + 1, started = ?,
           heartbeat = ? WHERE id = (SELECT id FROM search_trials WHERE study = ? AND state = 'queued'
           ORDER BY number LIMIT 1) RETURNING *`,
        )
        .get(worker, now, now, study) as TrialRow | undefined;
      return r ? trialOf(r, this.valuesOf(r.id)) : null;
    });
    return tx.immediate();
  }

  private valuesOf(trial: number): number[] {
    const rows = this.db.prepare('SELECT epoch, value FROM search_values WHERE trial = ? ORDER BY epoch').all(trial);
    return (rows as { epoch: number; value: number }[]).map((r) => r.value);
  }

  async heartbeat(trial: number, worker: string): Promise<void> {
    this.db
      .prepare(`UPDATE search_trials SET heartbeat = ? WHERE id = ? AND worker = ? AND state = 'running'`)
      .run(Date.now(), trial, worker);
  }

  /** The statement writing one epoch's value (replacing a value of an earlier attempt). */
  private putValue() {
    return this.db.prepare(
      'INSERT INTO search_values (trial, epoch, value) VALUES (?, ?, ?) ' +
        'ON CONFLICT (trial, epoch) DO UPDATE SET value = excluded.value',
    );
  }

  /** Whether the trial is open to writes: run by `worker` when given, otherwise queued or running. */
  private open(trial: number, worker?: string): boolean {
    const r = this.db.prepare('SELECT state, worker FROM search_trials WHERE id = ?').get(trial) as
      { state: string; worker: string | null } | undefined;
    if (!r) return false;
    return worker === undefined
      ? r.state === 'running' || r.state === 'queued'
      : r.state === 'running' && r.worker === worker;
  }

  async report(trial: number, values: EpochValue[], worker?: string, beat = false): Promise<boolean> {
    const put = this.putValue();
    return this.db
      .transaction(() => {
        if (!this.open(trial, worker)) return false;
        if (beat && worker !== undefined)
          this.db.prepare('UPDATE search_trials SET heartbeat = ? WHERE id = ?').run(Date.now(), trial);
        for (const v of values) put.run(trial, v.epoch, v.value);
        return true;
      })
      .immediate();
  }

  async finish(trial: number, o: TrialOutcome, values: EpochValue[] = [], worker?: string): Promise<boolean> {
    const put = this.putValue();
    const end = this.db.prepare(
      `UPDATE search_trials SET state = ?, value = ?, reason = ?, model_path = ?, seconds = ?, finished = ?
       WHERE id = ?`,
    );
    return this.db
      .transaction(() => {
        if (!this.open(trial, worker)) return false;
        end.run(o.state, o.value ?? null, o.reason ?? null, o.modelPath ?? null, o.seconds ?? null, Date.now(), trial);
        for (const v of values) put.run(trial, v.epoch, v.value);
        return true;
      })
      .immediate();
  }

  async release(trial: number): Promise<void> {
    this.db
      .prepare(
        `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = max(attempts - 1, 0)
         WHERE id = ? AND state = 'running'`,
      )
      .run(trial);
  }

  async countOpen(study: number): Promise<number> {
    const r = this.db
      .prepare(`SELECT count(*) AS n FROM search_trials WHERE study = ? AND state IN ('queued', 'running')`)
      .get(study) as { n: number };
    return r.n;
  }

  async trials(study: number): Promise<TrialRecord[]> {
    const rows = this.db
      .prepare('SELECT * FROM search_trials WHERE study = ? ORDER BY number')
      .all(study) as TrialRow[];
    const vals = this.db
      .prepare(
        `SELECT v.trial, v.value FROM search_values v JOIN search_trials t ON t.id = v.trial
         WHERE t.study = ? ORDER BY v.trial, v.epoch`,
      )
      .all(study) as { trial: number; value: number }[];
    const by = new Map<number, number[]>();
    for (const v of vals) (by.get(v.trial) ?? by.set(v.trial, []).get(v.trial)!).push(v.value);
    return rows.map((r) => trialOf(r, by.get(r.id) ?? []));
  }

  async requeueStale(
    study: number,
    timeoutMs: number,
    maxAttempts: number,
  ): Promise<{ requeued: number; failed: number }> {
    const before = Date.now() - timeoutMs;
    return this.db
      .transaction(() => {
        const failed = this.db
          .prepare(
            `UPDATE search_trials SET state = 'failed', finished = ?, reason = 'its worker stopped ' ||
             'sending heartbeats (died?) on each of ' || attempts || ' attempts'
             WHERE study = ? AND state = 'running' AND heartbeat < ? AND attempts >= ?`,
          )
          .run(Date.now(), study, before, maxAttempts).changes;
        const requeued = this.db
          .prepare(
            `UPDATE search_trials SET state = 'queued', worker = NULL
             WHERE study = ? AND state = 'running' AND heartbeat < ?`,
          )
          .run(study, before).changes;
        return { requeued, failed };
      })
      .immediate();
  }

  async retryFailed(study: number): Promise<number> {
    return this.db
      .transaction(() => {
        this.db
          .prepare(
            `DELETE FROM search_values WHERE trial IN
             (SELECT id FROM search_trials WHERE study = ? AND state = 'failed')`,
          )
          .run(study);
        return this.db
          .prepare(
            `UPDATE search_trials SET state = 'queued', worker = NULL, attempts = 0, value = NULL, reason = NULL,
             finished = NULL, seconds = NULL, model_path = NULL WHERE study = ? AND state = 'failed'`,
          )
          .run(study).changes;
      })
      .immediate();
  }

  async close(): Promise<void> {
    this.db.close();
  }
}
