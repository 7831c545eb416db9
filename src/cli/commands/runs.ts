import { existsSync } from 'node:fs';
import { diffRuns, getRun, listRuns, openRunStore, type StoredRun } from '../../node.js';
import { defaultsText, emit, num, parse, UsageError, type Options } from '../args.js';

export const usage = `frugal runs list|show ID|diff ID ID [--store PATH] [--limit N] [--json]
  Read the run store: list the recorded runs (newest first), show one (command, commit, spec, config,
  metrics, curves), or diff two (config keys that differ, every metric with b − a). Runs are recorded
  by frugal compare (by default in DIR/runs.sqlite) and by train, compare and reproduce given --store PATH.
${defaultsText(['--store runs/runs.sqlite', '--limit 50'])}`;

/** The store the commands read when --store is not given (train and reproduce write there with --store). */
export const DEFAULT_STORE = 'runs/runs.sqlite';

const options: Options = { store: { type: 'string' }, limit: { type: 'string' } };

function id(raw: string | undefined): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`a run ID is a positive integer, got ${JSON.stringify(raw)}`);
  return n;
}

export async function run(argv: string[]): Promise<number> {
  const sub = argv[0];
  if (sub === '--help' || sub === '-h' || sub === undefined) {
    process.stdout.write(`${usage}\n`);
    return sub === undefined ? 2 : 0;
  }
  const want = { list: 0, show: 1, diff: 2 }[sub];
  if (want === undefined) throw new UsageError(`unknown subcommand ${JSON.stringify(sub)}: use list, show or diff`);
  const { values, positionals } = parse(argv.slice(1), options, want);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const path = (values.store as string | undefined) ?? DEFAULT_STORE;
  if (!existsSync(path)) throw new Error(`no run store at ${path}; give --store PATH (compare writes DIR/runs.sqlite)`);
  const db = openRunStore(path);
  try {
    const json = !!values.json;
    const one = (raw: string) => {
      const r = getRun(db, id(raw));
      if (!r) throw new Error(`no run ${raw} in ${path}; frugal runs list --store ${path} lists them`);
      return r;
    };
    if (sub === 'list') {
      const runs = listRuns(db, num(values, 'limit', 50, { int: true, min: 1 }));
      emit(json, { command: 'runs list', store: path, runs }, runs.map(line).join('\n') || '(no runs)');
    } else if (sub === 'show') {
      const r = one(positionals[0]);
      emit(json, { command: 'runs show', store: path, run: r }, show(r));
    } else {
      const d = diffRuns(one(positionals[0]), one(positionals[1]));
      const text = [
        `runs ${d.a} and ${d.b}: command ${JSON.stringify(d.command)}, commit ${JSON.stringify(d.commit)}` +
          `${d.specChanged ? ', spec differs' : ''}`,
        ...d.config.map((c) => `config ${c.key}: ${JSON.stringify(c.a)} → ${JSON.stringify(c.b)}`),
        ...d.metrics.map(
          (m) =>
            `${m.key}: ${fmt(m.a)} → ${fmt(m.b)}` +
            (m.delta === undefined ? '' : ` (${m.delta >= 0 ? '+' : ''}${fmt(m.delta)})`),
        ),
      ].join('\n');
      emit(json, { ...d, command: 'runs diff', runCommand: d.command, store: path }, text);
    }
  } finally {
    db.close();
  }
  return 0;
}

const fmt = (v: number | undefined) => (v === undefined ? '–' : Number.isInteger(v) ? String(v) : v.toPrecision(5));

function line(r: StoredRun): string {
  const acc = Object.entries(r.metrics).find(([k]) => k === 'testAccuracy' || k === 'dense.testAccuracy');
  return `${String(r.id).padStart(4)}  ${r.createdAt}  ${r.command.padEnd(10)} ${r.name}  ${r.commit.slice(0, 10)}${
    acc ? `  ${acc[0]} ${fmt(acc[1])}` : ''
  }`;
}

function show(r: StoredRun): string {
  const series = [...new Set(r.curves.map((c) => `${c.series}.${c.key}`))];
  return [
    `run ${r.id}: frugal ${r.command} ${r.argv.join(' ')}`,
    `name ${r.name}; commit ${r.commit}; recorded ${r.createdAt}`,
    `config ${JSON.stringify(r.config)}`,
    ...Object.entries(r.metrics).map(([k, v]) => `${k} ${fmt(v)}`),
    series.length ? `curves: ${series.join(', ')}` : 'no curves',
  ].join('\n');
}
