// npm run bench:search [-- --quick] [-- --trials N] [-- --pg URL]
// Issue 25, point 6. (a) The store's overhead per trial — create (draw and enqueue), claim, report 10 values,
// write the result — with 1, 4 and 8 concurrent local worker processes over 1,000 trials, on SQLite and on
// PostgreSQL (pg-boss dispatch), beside Optuna 3.1 (Debian's python3-optuna) doing the same with its RDB storage
// on a SQLite file and on the same PostgreSQL server, with its RandomSampler (ours draws at random too: a TPE
// sampler's model fitting is not store overhead), same run. Goal: ours ≤ 0.1× Optuna's per trial. Both sides
// start the clock once every worker has connected; ours adds the time to create the study's trials, which it
// does in one batch before the workers start (Optuna creates each in its worker). Neither side has a pruner, so
// ours writes the ten values with the result (see Study.work); Optuna writes each. (b) A study of 1,000 trials of a
// cheap objective (3 reports) with 8 workers: trials per second (the time to draw and enqueue them printed apart).
// Workers are child processes of this script (`--child`), as `frugal search --workers K` forks them.
// Without --pg (or FRUGAL_TEST_PG_URL) the PostgreSQL rows are skipped. Optuna on PostgreSQL needs
// python3-psycopg2.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Study } from '../src/search/study.js';
import { openSqliteStorage } from '../src/search/store-sqlite.js';
import { openPgStorage } from '../src/search/store-pg.js';
import type { SearchStorage, StudyDef } from '../src/search/study.js';

const argv = process.argv.slice(2);
const flag = (n: string) => {
  const i = argv.indexOf(n);
  return i < 0 ? undefined : argv[i + 1];
};
const open = (where: string): Promise<SearchStorage> =>
  where.startsWith('postgres') ? openPgStorage(where) : Promise.resolve(openSqliteStorage(where));

if (argv[0] === '--child') {
  // A worker: run trials of the study until none is left; the objective only reports.
  const [, where, name, reports] = argv;
  const storage = await open(where);
  const study = await Study.open(storage, name);
  // Start-up (imports, connecting) is not store overhead: wait until every worker is ready.
  await new Promise<void>((go) => {
    process.once('message', () => go());
    process.send!('ready');
  });
  await study.work(
    async (t, ctx) => {
      const x = t.params.x as number;
      for (let e = 1; e <= Number(reports); e++) await ctx.report(e, x * e);
      return { value: x };
    },
    { worker: `bench-${process.pid}`, idleMs: 20 },
  );
  process.send!('done');
  await storage.close();
  process.exit(0);
}

const quick = argv.includes('--quick');
const trials = Number(flag('--trials') ?? (quick ? 16 : 1000));
const bigTrials = Number(flag('--big-trials') ?? (quick ? 40 : 1000));
const pgUrl = flag('--pg') ?? process.env.FRUGAL_TEST_PG_URL;
const workerSet = quick ? [1, 2] : [1, 4, 8];
const log = (s: string) => process.stderr.write(`${s}\n`);
const self = fileURLToPath(import.meta.url);
const py = fileURLToPath(new URL('../../bench/search_optuna.py', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'frugal-bench-search-'));
let seq = 0;

/** A fresh PostgreSQL database per configuration, so no run reads another's tables. */
async function freshPg(): Promise<{ url: string; drop: () => Promise<void> }> {
  const db = `frugal_bench_${process.pid}_${seq++}`;
  const admin = async (sql: string) => {
    const c = new pg.Client({ connectionString: pgUrl });
    await c.connect();
    await c.query(sql);
    await c.end();
  };
  await admin(`CREATE DATABASE ${db}`);
  const u = new URL(pgUrl!);
  u.pathname = `/${db}`;
  return { url: u.toString(), drop: () => admin(`DROP DATABASE IF EXISTS ${db} WITH (FORCE)`) };
}

/** Ours: create the study and its trials, then W worker processes run them; the wall time of the workers. */
async function ours(where: string, workers: number, n: number, reports: number) {
  const storage = await open(where);
  const def: StudyDef = {
    study: `bench-${seq++}`,
    objective: { model: 'mlp' },
    params: { x: { type: 'float', min: 0, max: 1 } },
  };
  const t0 = performance.now();
  const study = await Study.create(storage, def);
  await study.enqueue(n);
  const t1 = performance.now();
  const kids = Array.from({ length: workers }, () =>
    spawn(process.execPath, [self, '--child', where, def.study, String(reports)], {
      stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    }),
  );
  const said = (k: (typeof kids)[number], what: string) =>
    new Promise<void>((r) => k.on('message', (m) => m === what && r()));
  await Promise.all(kids.map((k) => said(k, 'ready')));
  const t2start = performance.now();
  const finished = kids.map((k) => said(k, 'done'));
  kids.forEach((k) => k.send('go'));
  await Promise.all(finished);
  const t2 = performance.now();
  await Promise.all(kids.map((k) => new Promise((r) => (k.exitCode !== null ? r(0) : k.on('exit', r)))));
  const done = (await study.trials()).filter((t) => t.state === 'complete').length;
  await storage.close();
  if (done !== n) throw new Error(`ours: ${done} of ${n} trials complete`);
  return { enqueueMs: t1 - t0, wall: (t2 - t2start) / 1000, trials: done };
}

function optuna(url: string, workers: number, n: number, reports: number) {
  const r = spawnSync('/usr/bin/python3', [py, url, String(workers), String(n), String(reports)], { encoding: 'utf8' });
  if (r.status !== 0) return { error: (r.stderr || r.stdout).trim().split('\n').pop() };
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as { wall: number; trials: number };
}

const rows: Record<string, unknown>[] = [];
const perTrial = (wall: number, n: number) => (1000 * wall) / n;
for (const backend of ['sqlite', 'postgresql'] as const) {
  if (backend === 'postgresql' && !pgUrl) {
    log('postgresql: skipped (give --pg URL or set FRUGAL_TEST_PG_URL)');
    continue;
  }
  for (const w of workerSet) {
    let a, b;
    if (backend === 'sqlite') {
      a = await ours(join(dir, `ours-${w}.db`), w, trials, 10);
      b = optuna(`sqlite:///${join(dir, `optuna-${w}.db`)}`, w, trials, 10);
    } else {
      const x = await freshPg();
      a = await ours(x.url, w, trials, 10);
      await x.drop();
      const y = await freshPg();
      b = optuna(y.url.replace(/^postgres(ql)?:/, 'postgresql+psycopg2:'), w, trials, 10);
      await y.drop();
    }
    const oursMs = perTrial(a.wall + a.enqueueMs / 1000, a.trials);
    const optMs = 'wall' in b && b.wall !== undefined ? perTrial(b.wall, b.trials) : NaN;
    const row = {
      part: 'a',
      backend,
      workers: w,
      trials,
      oursMsPerTrial: oursMs,
      oursEnqueueMsPerTrial: a.enqueueMs / a.trials,
      optunaMsPerTrial: optMs,
      ratio: oursMs / optMs,
      optunaError: 'error' in b ? b.error : undefined,
    };
    rows.push(row);
    log(
      `${backend} ${w} workers: ours ${oursMs.toFixed(2)} ms/trial, Optuna ${optMs.toFixed(2)} ms/trial, ` +
        `ratio ${(oursMs / optMs).toFixed(3)} (goal ≤ 0.1)${'error' in b ? ` [optuna: ${b.error}]` : ''}`,
    );
  }
}
for (const backend of ['sqlite', 'postgresql'] as const) {
  if (backend === 'postgresql' && !pgUrl) continue;
  const x = backend === 'sqlite' ? { url: join(dir, 'big.db'), drop: async () => {} } : await freshPg();
  const r = await ours(x.url, 8, bigTrials, 3);
  await x.drop();
  const row = {
    part: 'b',
    backend,
    workers: 8,
    trials: bigTrials,
    trialsPerSecond: r.trials / r.wall,
    enqueueMs: r.enqueueMs,
  };
  rows.push(row);
  log(
    `${backend}: ${bigTrials} trials, 8 workers: ${(r.trials / r.wall).toFixed(1)} trials/s ` +
      `(enqueue ${r.enqueueMs.toFixed(0)} ms)`,
  );
}
rmSync(dir, { recursive: true, force: true });
process.stdout.write(`${JSON.stringify({ bench: 'search', quick, rows })}\n`);
