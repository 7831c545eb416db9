import { join } from 'node:path';
import { LIMITS, locateFashionMnist, writeFileAtomic } from '../../node.js';
import { reproduction, reproductions } from '../../reproduce/registry.js';
import {
  MIN_SEEDS,
  exitStatus,
  requireSeeds,
  type ReproduceReport,
  type Reproduction,
} from '../../reproduce/report.js';
import { readState } from '../../reproduce/state.js';
import { RESULTS_DIR, commandLine, cpuCount, gitCommit, machineLoad, writeResults } from '../../reproduce/results.js';
import { choice, DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { checkOutputDir } from '../output.js';
import { storeRun } from '../store.js';

const all = reproductions();
const ownFlags = all.flatMap((r) => Object.entries(r.options).map(([flag, o]) => ({ flag, o, of: r.name })));
const col = Math.max(...all.map((r) => r.name.length)) + 2;
// The reproductions' own flags on a line of their own, so no synopsis line passes 120 columns.
const ownUsage = ownFlags.length ? `\n             ${ownFlags.map((f) => `[${f.o.usage}]`).join(' ')}` : '';
const names = all.map((r) => r.name).join(', ');

export const usage = `frugal reproduce NAME [--quick] [--seeds K] [--data-dir DIR] [--out DIR] [--results-dir DIR]
             [--resume] [--report-only] [--train-samples N] [--epochs E] [--store PATH] [--json]${ownUsage}
  Reproduce a paper on Fashion-MNIST (or the method's own data) and print its numbers beside ours, with pass/fail
  criteria.
  The results document and its raw JSON go to DIR/NAME.md and DIR/NAME.json (--results-dir, default
  ${RESULTS_DIR}; a --quick run writes NAME-quick.md and NAME-quick.json, never over a full run's). They hold
  the measured and the paper's numbers, the criteria, the command, date, commit, data, seeds and machine load.
  --out DIR (default runs/) holds the state file, checkpoints and models; --resume continues an
  interrupted run from its finished parts; --report-only rebuilds the document from the state file
  alone (a partial one names its missing runs), training nothing and leaving the state file as it is.
  --quick runs a small version in seconds with one seed (bcgd and ecg-search: five); a full run takes seeds
  1..3 unless --seeds K says otherwise, and a statistical criterion resting on fewer than 3 seeds fails as not
  established. Reproductions:
${all.map((r) => `    ${r.name.padEnd(col)}${r.describe}`).join('\n')}
${ownFlags.map((f) => `  ${f.o.usage} (${f.of} only): ${f.o.help}`).join('\n')}
  Exit status: 0 every criterion passes; 3 the run finished but a criterion failed (or, with
  --report-only, a run is missing); 1 error; 2 wrong arguments. A --quick run is judged by the full
  run's bars, so it usually exits 3. --results-dir and --out are relative to the current directory.
${defaultsText([
  '--seeds 3 (1 with --quick); bcgd and ecg-search 5, with --quick too',
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--out runs',
  `--results-dir ${RESULTS_DIR}`,
  "--train-samples and --epochs the reproduction's own (in its results document)",
  '--store none (not recorded)',
  ...ownFlags.filter((f) => f.o.type !== 'flag').map((f) => `--${f.flag} as its line above says`),
])}`;

const options: Options = {
  quick: { type: 'boolean', default: false },
  seeds: { type: 'string' },
  'data-dir': { type: 'string' },
  out: { type: 'string' },
  'results-dir': { type: 'string' },
  resume: { type: 'boolean', default: false },
  'report-only': { type: 'boolean', default: false },
  'train-samples': { type: 'string' },
  epochs: { type: 'string' },
  store: { type: 'string' },
  ...Object.fromEntries(ownFlags.map((f) => [f.flag, { type: f.o.type === 'flag' ? 'boolean' : 'string' } as const])),
};

/** The chosen reproduction's own flags, parsed; another reproduction's flag is an error. */
function ownValues(
  r: Reproduction,
  values: Record<string, unknown>,
): Record<string, number | boolean | string | undefined> {
  for (const f of ownFlags) {
    if (f.of !== r.name && values[f.flag] !== undefined) throw new UsageError(`--${f.flag} applies to ${f.of} only`);
  }
  return Object.fromEntries(
    Object.entries(r.options).map(([flag, o]) => [
      flag,
      values[flag] === undefined
        ? undefined
        : o.type === 'flag'
          ? !!values[flag]
          : o.type === 'choice'
            ? choice(values, flag, o.choices ?? [], (o.choices ?? [''])[0])
            : num(values, flag, 0, { int: true, min: 1 }),
    ]),
  );
}

/** Ctrl-C stops the run at a checkpoint (main.ts runs it on a worker thread). */
export const interruptible = true;

export async function run(argv: string[]): Promise<number> {
  // The code that runs is the checkout as it is now: a commit made while a long run goes on is not it.
  const { commit, dirty } = gitCommit();
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const name = positionals[0];
  const repro = reproduction(name);
  if (!repro) {
    throw new UsageError(`unknown reproduction ${JSON.stringify(name)}; available: ${names}`);
  }
  const own = ownValues(repro, values);
  const quick = !!values.quick,
    reportOnly = !!values['report-only'];
  const seedsFrom = (k: number) => Array.from({ length: k }, (_, i) => i + 1);
  const seeds =
    values.seeds === undefined ? undefined : seedsFrom(num(values, 'seeds', 1, { int: true, min: 1, max: 10 }));
  const outDir = (values.out as string | undefined) ?? 'runs';
  const resultsDir = (values['results-dir'] as string | undefined) ?? RESULTS_DIR;
  const opt = (n: string) =>
    values[n] === undefined
      ? undefined
      : num(values, n, 0, {
          int: true,
          min: 1,
          limit: n === 'epochs' ? [LIMITS.maxEpochs, 'maxEpochs in core/limits.ts'] : undefined,
        });
  // Before any work: a training run checks both; --report-only reads the state first (a missing one creates nothing).
  if (!reportOnly) {
    checkOutputDir('--results-dir', resultsDir);
    checkOutputDir('--out', outDir);
  }
  const loadBefore = machineLoad();
  let report: ReproduceReport, dataSource: string;
  if (reportOnly) {
    const training = ['resume', 'train-samples', 'epochs', 'data-dir', ...Object.keys(repro.options)].filter(
      (f) => values[f],
    );
    if (training.length) throw new UsageError(`--report-only trains nothing; drop --${training.join(', --')}`);
    const state = readState(outDir, name, quick);
    checkOutputDir('--results-dir', resultsDir);
    report = repro.fromState(state, seeds);
    dataSource = String(state.config.dataSource ?? 'unknown');
    const missing = report.missing ?? [];
    if (missing.length) note(`frugal reproduce: the state lacks ${missing.length} run(s): ${missing.join('; ')}`);
  } else {
    if (repro.dataSource) dataSource = repro.dataSource;
    else {
      const data = locateFashionMnist(values['data-dir'] as string | undefined);
      dataSource = `${data.source}: ${data.dir}`;
    }
    report = await repro.run({
      quick,
      // A full run's statistical criteria need MIN_SEEDS seeds (more where the reproduction asks); a quick run
      // is a one-seed smoke test.
      seeds: seeds ?? seedsFrom(quick ? (repro.defaultSeeds ?? 1) : Math.max(MIN_SEEDS, repro.defaultSeeds ?? 0)),
      dataDir: values['data-dir'] as string | undefined,
      trainSamples: opt('train-samples'),
      epochs: opt('epochs'),
      outDir,
      resume: !!values.resume,
      progress: values.json ? undefined : process.stderr,
      log: note,
      own,
    });
  }
  report = requireSeeds(report);
  const info = {
    command: commandLine(process.argv.slice(2)),
    date: new Date().toISOString(),
    commit,
    dirty,
    dataSource,
    seeds: report.seeds,
    load: { before: loadBefore, after: machineLoad(), cpus: cpuCount() },
    reportOnly,
  };
  const out = await writeResults(resultsDir, report, repro.report(report), info, repro.charts?.(report));
  if (values.store) {
    // --store PATH: the run in the run store; metrics are the numbers of `ours` (dotted paths) and each criterion.
    const metrics: Record<string, number> = {};
    const walk = (o: unknown, at: string) => {
      if (typeof o === 'number') metrics[at] = o;
      else if (o && typeof o === 'object') for (const [k, v] of Object.entries(o)) walk(v, at ? `${at}.${k}` : k);
    };
    walk(report.ours, 'ours');
    report.criteria.forEach((c, i) => {
      metrics[`criterion.${i + 1}.value`] = c.value;
      metrics[`criterion.${i + 1}.pass`] = c.pass ? 1 : 0;
    });
    storeRun(values.store as string, {
      command: 'reproduce',
      name: report.name,
      argv,
      config: { mode: report.mode, seeds: report.seeds, dataSource, criteria: report.criteria.map((c) => c.name) },
      metrics,
    });
  }
  emit(
    !!values.json,
    {
      ...out.raw,
      report: out.markdown,
      results: { markdown: out.markdown, json: out.json, attachments: out.attachments },
    },
    `${out.document}\nresults written to ${out.markdown} and ${out.json}`,
  );
  return exitStatus(report);
}
