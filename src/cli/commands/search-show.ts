// frugal search worker | show | export: join a study as a worker, print its leaderboard and robust
// setting (and with --report DIR its HTML report), write its trials as CSV or JSON.
import { join } from 'node:path';
import {
  Study,
  bestTrial,
  objectiveMetric,
  openSearchStorage,
  prunerByName,
  redactUrl,
  robustSetting,
  runSearchWorker,
  searchHtml,
  writeFileAtomic,
  type ParamDef,
  type ParamScale,
  stateCounts,
  type RobustGroup,
  type SearchStorage,
  type StudyRecord,
  type TrialRecord,
} from '../../node.js';
import { choice, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { checkOutputDir } from '../output.js';
import { gitCommit } from '../../reproduce/results.js';
import { DEFAULT_STORAGE, WORKER_OPTIONS, usage } from './search.js';

/** The study a subcommand reads: the one named, else the only one in the storage. */
export async function studyIn(storage: SearchStorage, name: string | undefined, where: string): Promise<Study> {
  if (name !== undefined) return Study.open(storage, name);
  const all = await storage.listStudies();
  if (all.length === 1) return Study.open(storage, all[0].name);
  throw new UsageError(
    all.length
      ? `${redactUrl(where)} holds ${all.length} studies (${all.map((s) => s.name).join(', ')}); name one`
      : `${redactUrl(where)} holds no study; run \`frugal search SPACE.json\` first`,
    false,
  );
}

function help(values: Record<string, unknown>): boolean {
  if (values.help) process.stdout.write(`${usage}\n`);
  return !!values.help;
}

/** frugal search worker: run trials of an existing study until none is left. */
export async function worker(argv: string[]): Promise<number> {
  const { values } = parse(argv, { ...WORKER_OPTIONS, 'max-trials': { type: 'string' } });
  if (help(values)) return 0;
  const where = (values.storage as string | undefined) ?? DEFAULT_STORAGE;
  const pruner = prunerByName(choice(values, 'pruner', ['none', 'median', 'asha'] as const, 'none'));
  const timeout = num(values, 'heartbeat-timeout', 300, { min: 0.1 });
  const maxTrials =
    values['max-trials'] === undefined ? undefined : num(values, 'max-trials', 0, { int: true, min: 1 });
  let name = values.study as string | undefined;
  if (name === undefined) {
    const storage = await openSearchStorage(where, { create: false });
    try {
      name = (await studyIn(storage, undefined, where)).record.name;
    } finally {
      await storage.close();
    }
  }
  const models = values.models as string | undefined;
  const r = await runSearchWorker({
    storage: where,
    study: name,
    pruner,
    modelDir: models === 'none' ? null : models,
    dataDir: values['data-dir'] as string | undefined,
    heartbeatTimeoutMs: timeout * 1000,
    maxTrials,
    onTrial: (t, o) => {
      if (!values.json)
        note(
          `trial ${t.number}: ${o.state}` +
            `${o.value != null ? ` ${o.value.toFixed(4)}` : ''}${o.reason ? ` (${o.reason})` : ''}`,
        );
    },
  });
  emit(!!values.json, { command: 'search worker', study: name, ran: r.ran }, `worker ran ${r.ran} trials of ${name}`);
  return 0;
}

/** The robust (median-of-top-k) setting of each group of a study's trials. */
export function robustGroups(
  study: StudyRecord,
  ts: TrialRecord[],
  o: { topK: number; groupBy?: string },
): RobustGroup[] {
  return robustSetting(
    ts.map((t) => ({ number: t.number, params: t.params, value: t.value, state: t.state })),
    { topK: o.topK, direction: study.direction, groupBy: o.groupBy, space: study.def.params },
  );
}

/** What show and the search command print: counts, best, trials (best first) and the robust setting. */
export function summarise(study: StudyRecord, ts: TrialRecord[], o: { topK: number; groupBy?: string }) {
  const sign = study.direction === 'maximize' ? -1 : 1;
  const ranked = [...ts].sort(
    (a, b) =>
      (a.value === null ? 1 : 0) - (b.value === null ? 1 : 0) ||
      (a.state === 'complete' ? 0 : 1) - (b.state === 'complete' ? 0 : 1) ||
      sign * ((a.value ?? 0) - (b.value ?? 0)) ||
      a.number - b.number,
  );
  const best = bestTrial(ts, study.direction);
  const robust = robustGroups(study, ts, o);
  return {
    study: study.name,
    metric: objectiveMetric(study.def.objective),
    direction: study.direction,
    counts: stateCounts(ts),
    best: best ? { number: best.number, value: best.value, params: best.params, modelPath: best.modelPath } : null,
    robust: { topK: o.topK, groupBy: o.groupBy ?? null, groups: robust },
    trials: ranked.map((t) => ({
      id: t.id,
      number: t.number,
      state: t.state,
      value: t.value,
      params: t.params,
      values: t.values,
      reason: t.reason,
      attempts: t.attempts,
      seconds: t.seconds,
      modelPath: t.modelPath,
      rejections: t.rejections,
    })),
  };
}

const fmt = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v));
const paramsText = (p: Record<string, unknown>) =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${fmt(v)}`)
    .join(' ');

/** The human leaderboard: one line per trial (best first, at most 20), then the robust setting. */
export function formatSummary(s: ReturnType<typeof summarise>): string {
  const c = s.counts;
  const lines = [
    `study ${s.study}: ${s.trials.length} trials (${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed, ` +
      `${c.running} running, ${c.queued} queued); ${s.metric}, ${s.direction}`,
    `${'id'.padStart(6)} ${'trial'.padStart(6)} ${'state'.padEnd(9)} ${s.metric.padStart(12)}  params`,
  ];
  for (const t of s.trials.slice(0, 20))
    lines.push(
      `${String(t.id).padStart(6)} ${String(t.number).padStart(6)} ${t.state.padEnd(9)} ` +
        `${(t.value === null ? '-' : t.value.toFixed(4)).padStart(12)}  ${paramsText(t.params)}` +
        (t.reason ? `  (${t.reason})` : ''),
    );
  if (s.trials.length > 20) lines.push(`… ${s.trials.length - 20} more (--json or export for all)`);
  for (const g of s.robust.groups)
    lines.push(
      `robust setting${g.group === undefined ? '' : ` for ${s.robust.groupBy}=${g.group}`} (median of top ` +
        `${g.top.length}: trials ${g.top.join(', ')}): ${paramsText(g.setting)}`,
    );
  return lines.join('\n');
}

/** frugal search show: the leaderboard and the robust setting of a study (or the list of studies). */
export async function show(argv: string[]): Promise<number> {
  const opts: Options = {
    storage: { type: 'string' },
    'top-k': { type: 'string' },
    'group-by': { type: 'string' },
    report: { type: 'string' },
  };
  const { values, positionals } = parse(
    argv.filter((a, i) => i > 0 || a.startsWith('-')),
    opts,
  );
  if (help(values)) return 0;
  const name = argv[0] && !argv[0].startsWith('-') ? argv[0] : undefined;
  if (positionals.length) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const where = (values.storage as string | undefined) ?? DEFAULT_STORAGE;
  const reportDir = values.report === undefined ? undefined : checkOutputDir('--report', values.report as string);
  const storage = await openSearchStorage(where, { create: false });
  try {
    const study = await studyIn(storage, name, where);
    const topK = num(values, 'top-k', study.def.robust?.topK ?? 5, { int: true, min: 1 });
    const groupBy = (values['group-by'] as string | undefined) ?? study.def.robust?.groupBy;
    const s = summarise(study.record, await study.trials(), { topK, groupBy });
    const json = { command: 'search show', storage: redactUrl(where), ...s };
    if (reportDir) await writeSearchReport(reportDir, json, study.def.params);
    emit(!!values.json, json, formatSummary(s));
  } finally {
    await storage.close();
  }
  return 0;
}

/** Each parameter's axis from the space: loguniform on a log axis, int and float linear, choice categorical. */
export function paramScales(space: Record<string, ParamDef>, prefix = ''): Record<string, ParamScale> {
  const out: Record<string, ParamScale> = {};
  for (const [name, d] of Object.entries(space)) {
    if (d.type === 'repeat') {
      // A repeated group's members are drawn as GROUP.I.NAME; I up to the count parameter's max (or the count).
      const count = typeof d.count === 'number' ? d.count : space[d.count]?.type === 'int' ? space[d.count] : null;
      const n = typeof count === 'number' ? count : count && 'max' in count ? count.max : 0;
      for (let i = 0; i < n; i++) Object.assign(out, paramScales(d.params, `${prefix}${name}.${i}.`));
    } else out[prefix + name] = d.type === 'loguniform' ? 'log' : d.type === 'choice' ? 'nominal' : 'linear';
  }
  return out;
}

/** --report DIR: report.json (what --json prints) and report.html (leaderboard, robust setting, charts). */
async function writeSearchReport(
  dir: string,
  s: ReturnType<typeof summarise> & { storage: string },
  space: Record<string, ParamDef>,
): Promise<void> {
  const c = s.counts;
  const html = await searchHtml({
    study: s.study,
    metric: s.metric,
    direction: s.direction,
    meta: [
      ['storage', s.storage],
      ['commit', gitCommit().commit],
      ['date', new Date().toISOString()],
      [
        'trials',
        `${s.trials.length} (${c.complete} complete, ${c.pruned} pruned, ${c.failed} failed, ` +
          `${c.running} running, ${c.queued} queued)`,
      ],
    ],
    trials: s.trials,
    scales: paramScales(space),
    robust: s.robust,
  });
  writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify(s, null, 1)}\n`);
  writeFileAtomic(join(dir, 'report.html'), html);
  note(`frugal: report ${join(dir, 'report.html')}`);
}

const csvCell = (v: unknown): string => {
  const s = v === null || v === undefined ? '' : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

/** frugal search export STUDY --format csv|json: every trial with its parameters, to stdout. */
export async function exportTrials(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, { storage: { type: 'string' }, format: { type: 'string' } }, 1);
  if (help(values)) return 0;
  const format = choice(values, 'format', ['csv', 'json'] as const, 'csv');
  if (values.format === undefined) throw new UsageError('--format csv|json is required');
  const where = (values.storage as string | undefined) ?? DEFAULT_STORAGE;
  const storage = await openSearchStorage(where, { create: false });
  try {
    const study = await Study.open(storage, positionals[0]);
    const ts = await study.trials();
    if (format === 'json') {
      process.stdout.write(`${JSON.stringify({ study: study.record.name, direction: study.direction, trials: ts })}\n`);
      return 0;
    }
    const names = [...new Set(ts.flatMap((t) => Object.keys(t.params)))].sort();
    const head = ['id', 'number', 'state', 'value', 'seconds', 'attempts', 'reason', 'model_path', 'values', ...names];
    const rows = ts.map((t) =>
      (
        [
          t.id,
          t.number,
          t.state,
          t.value,
          t.seconds,
          t.attempts,
          t.reason,
          t.modelPath,
          t.values.join(';'),
        ] as unknown[]
      )
        .concat(names.map((n) => t.params[n]))
        .map(csvCell)
        .join(','),
    );
    process.stdout.write(`${[head.map(csvCell).join(','), ...rows].join('\n')}\n`);
  } finally {
    await storage.close();
  }
  return 0;
}
