// Opening the project's SQLite files (run store, search studies): one embedded database file through
// better-sqlite3, in WAL mode so readers never block the writer, with a busy timeout so two processes writing
// the same file wait for each other instead of failing, and versioned migrations per component.
import Database from 'better-sqlite3';
import { existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';

export type Db = Database.Database;

/** One component's schema: its name (e.g. 'runs', 'search') and its migrations, applied in order, once each. */
export interface Schema {
  component: string;
  migrations: string[];
}

/** Milliseconds a writer waits for another process's lock before SQLITE_BUSY. */
export const BUSY_TIMEOUT_MS = 10000;

/**
 * Open (creating when missing) the SQLite file at `path` with WAL journaling, a busy timeout, foreign keys on,
 * and bring each schema up to date: table `schema_versions(component, version)` records how many of a
 * component's migrations ran; the missing ones run in one transaction, so a file is never half-migrated.
 * Components share the file without sharing tables (each prefixes or names its own).
 */
export function openSqlite(path: string, ...schemas: Schema[]): Db {
  if (path !== ':memory:' && !existsSync(dirname(path))) mkdirSync(dirname(path), { recursive: true });
  let db: Db;
  try {
    db = new Database(path);
  } catch (e) {
    throw new Error(`cannot open the SQLite file ${path} (${(e as Error).message}); choose a writable path`);
  }
  db.pragma(`busy_timeout = ${BUSY_TIMEOUT_MS}`);
  db.pragma('journal_mode = WAL');
  db.pragma('foreign_keys = ON');
  db.exec('CREATE TABLE IF NOT EXISTS schema_versions (component TEXT PRIMARY KEY, version INTEGER NOT NULL)');
  for (const s of schemas) migrate(db, s);
  return db;
}

function migrate(db: Db, s: Schema): void {
  const get = db.prepare('SELECT version FROM schema_versions WHERE component = ?');
  // IMMEDIATE: the write lock is taken before the version is read, so two processes cannot both migrate.
  db.transaction(() => {
    const row = get.get(s.component) as { version: number } | undefined;
    const have = row?.version ?? 0;
    if (have > s.migrations.length)
      throw new Error(
        `the ${s.component} tables were made by a newer Frugal (schema ${have}, this one knows ${s.migrations.length})`,
      );
    for (let v = have; v < s.migrations.length; v++) db.exec(s.migrations[v]);
    db.prepare('INSERT OR REPLACE INTO schema_versions (component, version) VALUES (?, ?)').run(
      s.component,
      s.migrations.length,
    );
  }).immediate();
}
