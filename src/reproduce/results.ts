// The results writer: every reproduction's document (docs/results/NAME.md) and raw JSON come
// from here, so each holds the same parts: measured numbers, the paper's, the criteria, the run.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { writeFileAtomic } from '../node.js';
import { renderChart, type ChartSpec } from '../report/vega.js';
import { allPass, type Criterion, type ReproduceReport } from './report.js';

/** Where `frugal reproduce` writes its documents unless --results-dir says otherwise. */
export const RESULTS_DIR = join('docs', 'results');

/** How a result was made: enough to run it again and to judge its timings. */
export interface RunInfo {
  command: string;
  date: string;
  commit: string;
  dirty?: boolean;
  dataSource: string;
  seeds: number[];
  /** os.loadavg() (1, 5, 15 min) before and after the run, and the CPU count. */
  load: { before: number[]; after: number[]; cpus: number };
  /** True when the document was rebuilt from a state file (--report-only), not from a run of this invocation. */
  reportOnly: boolean;
  /**
   * A rebuild (--report-only) over a document of the same mode and seeds keeps that document's provenance (the
   * run that trained) and records itself here.
   */
  rebuilt?: { command: string; date: string; commit: string; dirty?: boolean };
}

/**
 * The commit the code ran from (git rev-parse of the Frugal checkout holding this file), else
 * "unknown" (no git, or an installed copy inside some other project's repository).
 */
export function gitCommit(cwd = dirname(fileURLToPath(import.meta.url))): { commit: string; dirty?: boolean } {
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  try {
    if (!existsSync(join(git('rev-parse', '--show-toplevel'), 'src', 'reproduce', 'results.ts')))
      return { commit: 'unknown' };
    const commit = git('rev-parse', 'HEAD');
    let dirty: boolean | undefined;
    try {
      // The documents a run writes (docs/results) are its output, not a change to the code that ran.
      dirty =
        git('status', '--porcelain', '--untracked-files=no', '--', ':(top)', ':(top,exclude)docs/results').length > 0;
    } catch {
      dirty = undefined;
    }
    return { commit, dirty };
  } catch {
    return { commit: 'unknown' };
  }
}

/** The command line as typed (arguments with spaces or quotes quoted for a POSIX shell). */
export function commandLine(argv: string[]): string {
  const q = (a: string) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  return ['frugal', ...argv.map(q)].join(' ');
}

/** A criterion's value as the tables print it (non-finite: "never"; not measured: "—"). */
function value(v: number): string {
  return Number.isNaN(v) ? '—' : Number.isFinite(v) ? v.toFixed(4) : 'never';
}

/** The criteria table of every reproduction's document (Markdown). */
export function criteriaTable(criteria: Criterion[]): string {
  return [
    '| criterion | target | value | pass |',
    '|---|---|---|---|',
    ...criteria.map((c) => `| ${c.name} | ${c.target} | ${value(c.value)} | ${c.pass ? 'yes' : '**no**'} |`),
  ].join('\n');
}

/** The paper's numbers and claims as a two-column table. */
function paperTable(paper: Record<string, unknown>): string {
  const cell = (v: unknown) =>
    Array.isArray(v) ? v.join('; ') : typeof v === 'object' ? JSON.stringify(v) : String(v);
  return ['| the paper | |', '|---|---|', ...Object.entries(paper).map(([k, v]) => `| ${k} | ${cell(v)} |`)].join('\n');
}

/** The whole document: the reproduction's own tables (`body`), then the criteria, the paper and the run. */
export function resultsDocument(r: ReproduceReport, body: string, run: RunInfo): string {
  const pass = allPass(r),
    fmt = (l: number[]) => l.map((x) => x.toFixed(2)).join(', ');
  const failed = r.criteria.filter((c) => !c.pass).length;
  return [
    body.trimEnd(),
    '',
    ...(r.missing?.length
      ? [
          '**Partial:** the state lacks these runs, so the criteria that need them are not ' +
            `measured: ${r.missing.join('; ')}.`,
          '',
        ]
      : []),
    '## Criteria',
    '',
    pass
      ? 'Every criterion passes.'
      : `**Not every criterion passes** (${failed} of ${r.criteria.length} failed${
          r.missing?.length ? `, ${r.missing.length} run(s) missing` : ''
        }).`,
    '',
    criteriaTable(r.criteria),
    '',
    "## The paper's numbers",
    '',
    paperTable(r.paper),
    '',
    '## How this was made',
    '',
    `- command: \`${run.command}\`${run.reportOnly ? ' (document rebuilt from the state file; no training)' : ''}`,
    `- date: ${run.date}`,
    `- commit: ${run.commit}${run.dirty ? ' (with uncommitted changes)' : ''}`,
    ...(run.rebuilt
      ? [
          `- document rebuilt from the state file (no training) by \`${run.rebuilt.command}\` on ` +
            `${run.rebuilt.date} at ${run.rebuilt.commit}${run.rebuilt.dirty ? ' (with uncommitted changes)' : ''}`,
        ]
      : []),
    `- mode: ${r.mode}; data: ${r.dataset} (${run.dataSource}); seeds: ${run.seeds.join(', ')}`,
    `- machine load (1, 5, 15 min load averages, ${run.load.cpus} CPUs): before ${fmt(run.load.before)}; ` +
      `after ${fmt(run.load.after)}`,
    '',
  ].join('\n');
}

/** The paths a result goes to: NAME.md and NAME.json, or NAME-quick.* for a quick run (never over a full one). */
export function resultPaths(
  dir: string,
  r: Pick<ReproduceReport, 'name' | 'mode'>,
): { markdown: string; json: string } {
  const base = join(dir, `${r.name}${r.mode === 'quick' ? '-quick' : ''}`);
  return { markdown: `${base}.md`, json: `${base}.json` };
}

/**
 * Write the document and the raw JSON (with allPass and the run's provenance) into dir, creating it, and the
 * reproduction's charts beside them by file name, each rendered to SVG by Vega (renderChart); returns every path
 * written. Every chart is rendered before anything is written, so a chart that cannot be drawn leaves no half
 * of the results behind.
 */
export async function writeResults(
  dir: string,
  r: ReproduceReport,
  body: string,
  run: RunInfo,
  charts: Record<string, ChartSpec> = {},
): Promise<{ markdown: string; json: string; document: string; raw: Record<string, unknown>; attachments: string[] }> {
  const paths = resultPaths(dir, r);
  for (const name of Object.keys(charts))
    if (name !== basename(name) || !name.endsWith('.svg'))
      throw new Error(`chart ${JSON.stringify(name)} must be a plain file name ending in .svg`);
  const svgs = await Promise.all(Object.entries(charts).map(async ([name, spec]) => [name, await renderChart(spec)]));
  mkdirSync(dir, { recursive: true });
  if (run.reportOnly) run = keepProvenance(paths.json, r, run);
  const document = resultsDocument(r, body, run);
  const raw = { ...r, allPass: allPass(r), run };
  writeFileAtomic(paths.markdown, document);
  writeFileAtomic(paths.json, `${JSON.stringify(raw, null, 1)}\n`);
  const written = svgs.map(([name, svg]) => {
    writeFileAtomic(join(dir, name), `${svg}\n`);
    return join(dir, name);
  });
  return { ...paths, document, raw, attachments: written };
}

/**
 * A --report-only rebuild over a document of the same mode and seeds made by a run: that run's provenance
 * (command, date, commit, data, load) stays, and the rebuild is added as `rebuilt`; otherwise `run` as it is.
 */
function keepProvenance(json: string, r: ReproduceReport, run: RunInfo): RunInfo {
  let old: { mode?: string; run?: RunInfo };
  try {
    old = JSON.parse(readFileSync(json, 'utf8'));
  } catch {
    return run;
  }
  const made = old.run;
  // A document of another mode or other seeds, or an older rebuild that kept no provenance, describes another run.
  if (!made || made.reportOnly || old.mode !== r.mode || made.seeds?.join() !== run.seeds.join()) return run;
  const { command, date, commit, dirty } = run;
  return { ...made, reportOnly: false, rebuilt: { command, date, commit, ...(dirty ? { dirty } : {}) } };
}

/** Load averages and CPU count now (for RunInfo.load). */
export function machineLoad(): number[] {
  return loadavg().map((x) => Math.round(100 * x) / 100);
}
export const cpuCount = (): number => cpus().length;
