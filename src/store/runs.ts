// The run store: every `train`, `compare` and `reproduce` run can be recorded (command, commit, spec, metrics,
// curves) in one SQLite file, and `frugal runs list|show|diff` reads it back. Tables: runs, run_metrics,
// run_curves (the search study store keeps its own tables in the same kind of file).
import { openSqlite, type Db, type Schema } from './sqlite.js';

export const RUNS_SCHEMA: Schema = {
  component: 'runs',
  migrations: [
    `CREATE TABLE runs (
       id INTEGER PRIMARY KEY AUTOINCREMENT,
       command TEXT NOT NULL,
       name TEXT NOT NULL,
       commit_sha TEXT NOT NULL,
       created_at TEXT NOT NULL,
       argv TEXT NOT NULL,
       spec TEXT,
       config TEXT NOT NULL
     );
     CREATE TABLE run_metrics (
       run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
       key TEXT NOT NULL,
       value REAL,
       PRIMARY KEY (run_id, key)
     );
     CREATE TABLE run_curves (
       run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
       series TEXT NOT NULL,
       key TEXT NOT NULL,
       step INTEGER NOT NULL,
       value REAL,
       PRIMARY KEY (run_id, series, key, step)
     );`,
  ],
};

/** A run as recorded: metrics are numbers by name; curves are per-epoch values by series and key. */
export interface RunRecord {
  command: string;
  /** A human name (the model, the reproduction); shown as text only. */
  name: string;
  commit: string;
  argv: string[];
  spec?: unknown;
  config: Record<string, unknown>;
  metrics: Record<string, number>;
  curves: { series: string; key: string; step: number; value: number }[];
}

export interface StoredRun extends RunRecord {
  id: number;
  createdAt: string;
}

/** Open (or create) a run store file. */
export function openRunStore(path: string): Db {
  return openSqlite(path, RUNS_SCHEMA);
}

/**
 * A config with its keys in kebab-case, as the CLI flags spell them (`batchSize` → `batch-size`): commands
 * recorded camelCase or kebab-case keys, and `runs diff` must pair the same setting of any two runs.
 */
export function kebabConfig(config: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(config).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v]),
  );
}

/** Record a run in one transaction (all of it or nothing); returns its id. Non-finite values are stored as NULL. */
export function recordRun(db: Db, r: RunRecord, now = new Date()): number {
  const fin = (v: number) => (Number.isFinite(v) ? v : null);
  const insRun = db.prepare(
    'INSERT INTO runs (command, name, commit_sha, created_at, argv, spec, config) VALUES (?, ?, ?, ?, ?, ?, ?)',
  );
  const insM = db.prepare('INSERT INTO run_metrics (run_id, key, value) VALUES (?, ?, ?)');
  const insC = db.prepare(
    'INSERT OR REPLACE INTO run_curves (run_id, series, key, step, value) VALUES (?, ?, ?, ?, ?)',
  );
  return db
    .transaction(() => {
      const id = Number(
        insRun.run(
          r.command,
          r.name,
          r.commit,
          now.toISOString(),
          JSON.stringify(r.argv),
          r.spec === undefined ? null : JSON.stringify(r.spec),
          JSON.stringify(kebabConfig(r.config)),
        ).lastInsertRowid,
      );
      for (const [k, v] of Object.entries(r.metrics)) insM.run(id, k, fin(v));
      for (const c of r.curves) insC.run(id, c.series, c.key, c.step, fin(c.value));
      return id;
    })
    .immediate();
}

/** Runs, newest first (without curves), with their metrics. */
export function listRuns(db: Db, limit = 50): StoredRun[] {
  const rows = db.prepare('SELECT id FROM runs ORDER BY id DESC LIMIT ?').all(limit) as { id: number }[];
  return rows.map((r) => getRun(db, r.id, false)!);
}

/** One run by id, with its curves unless `curves` is false; undefined when there is no such run. */
export function getRun(db: Db, id: number, curves = true): StoredRun | undefined {
  const row = db.prepare('SELECT * FROM runs WHERE id = ?').get(id) as Record<string, string | number> | undefined;
  if (!row) return undefined;
  const metrics = Object.fromEntries(
    (
      db.prepare('SELECT key, value FROM run_metrics WHERE run_id = ? ORDER BY key').all(id) as {
        key: string;
        value: number | null;
      }[]
    ).map((m) => [m.key, m.value ?? NaN]),
  );
  const cs = curves
    ? (db
        .prepare('SELECT series, key, step, value FROM run_curves WHERE run_id = ? ORDER BY series, key, step')
        .all(id) as RunRecord['curves'])
    : [];
  return {
    id,
    command: String(row.command),
    name: String(row.name),
    commit: String(row.commit_sha),
    createdAt: String(row.created_at),
    argv: JSON.parse(String(row.argv)),
    spec: row.spec === null ? undefined : JSON.parse(String(row.spec)),
    // Runs recorded before keys were normalised have camelCase ones.
    config: kebabConfig(JSON.parse(String(row.config))),
    metrics,
    curves: cs,
  };
}

/** What differs between two runs: config keys and metrics (with b − a for numbers present in both). */
export function diffRuns(a: StoredRun, b: StoredRun) {
  const keys = (x: object, y: object) => [...new Set([...Object.keys(x), ...Object.keys(y)])].sort();
  const config = keys(a.config, b.config)
    .filter((k) => JSON.stringify(a.config[k]) !== JSON.stringify(b.config[k]))
    .map((k) => ({ key: k, a: a.config[k], b: b.config[k] }));
  const metrics = keys(a.metrics, b.metrics).map((k) => {
    const x = a.metrics[k],
      y = b.metrics[k];
    return { key: k, a: x, b: y, delta: x !== undefined && y !== undefined ? y - x : undefined };
  });
  return {
    a: a.id,
    b: b.id,
    command: a.command === b.command ? a.command : [a.command, b.command],
    commit: a.commit === b.commit ? a.commit : [a.commit, b.commit],
    specChanged: JSON.stringify(a.spec) !== JSON.stringify(b.spec),
    config,
    metrics,
  };
}
