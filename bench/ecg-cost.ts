// npm run bench:ecg-cost [-- --quick] [-- --draws M]
// Issue 25, point 6(c): what spec 09's 4,216 real trials would take, from measured per-trial costs. M draws from
// the paper's space (N 1..7, F 5..50, K 5..100; the same draws `frugal reproduce ecg-search` makes) each train one
// epoch on the full-size synthetic training split (720 + 3,170 strips of 625 samples, the paper's sizes) and are
// then evaluated once on the validation split; both are timed (wall and process CPU). The estimate scales the
// mean epoch to the paper's protocol (400 epochs, validation of 739 + 5,921 strips after each) and to ours (at
// most 12 epochs, early stopping), spread over 1, 10 and 100 machines running one trial at a time each, plus the
// store's measured per-trial overhead (docs/measurements.md, bench:search).
import { loadavg, cpus } from 'node:os';
import { evaluate, backendName, ecgParamCount } from '../src/index.js';
import { ecgConfig, ecgSplits, trainSetting } from '../src/reproduce/ecg-search.js';
import { drawEcgTrial } from '../src/reproduce/ecg-search-space.js';

const argv = process.argv.slice(2);
const quick = argv.includes('--quick');
const at = argv.indexOf('--draws');
const draws = at >= 0 ? Number(argv[at + 1]) : quick ? 2 : 12;
if (!Number.isInteger(draws) || draws < 1) throw new Error(`--draws must be a positive integer, got ${argv[at + 1]}`);

const base = ecgConfig(quick, [1]);
const c = { ...base, epochs: 1, patience: 99 };
const t0 = performance.now();
const { train, validation } = ecgSplits(c);
const log = (s: string) => process.stderr.write(`${s}\n`);
log(
  `data: ${train.labels.length} train, ${validation.labels.length} validation strips, ` +
    `${((performance.now() - t0) / 1000).toFixed(1)} s; backend ${backendName()}; load ${loadavg()[0].toFixed(2)}`,
);

const cpuSeconds = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1e6;
const rows: { n: number; params: number; trainWall: number; trainCpu: number; valWall: number; valCpu: number }[] = [];
for (let i = 0; i < draws; i++) {
  const p = drawEcgTrial(c.space, c.drawSeed, i).params;
  let w = performance.now(),
    u = process.cpuUsage();
  // One epoch of fit (its own per-epoch validation pass included), then one timed validation pass alone.
  const { model } = trainSetting(c, { train, validation }, p, c.searchLr, 1);
  const fitWall = (performance.now() - w) / 1000,
    fitCpu = cpuSeconds(process.cpuUsage(u));
  [w, u] = [performance.now(), process.cpuUsage()];
  evaluate(model, validation);
  const valWall = (performance.now() - w) / 1000,
    valCpu = cpuSeconds(process.cpuUsage(u));
  const row = {
    n: p.filters.length,
    params: ecgParamCount(p),
    trainWall: Math.max(0, fitWall - valWall),
    trainCpu: Math.max(0, fitCpu - valCpu),
    valWall,
    valCpu,
  };
  rows.push(row);
  log(
    `draw ${i}: N ${row.n}, F ${p.filters.join('-')}, K ${p.kernels.join('-')}, ${row.params} params: ` +
      `train epoch ${row.trainWall.toFixed(2)} s (CPU ${row.trainCpu.toFixed(2)} s), ` +
      `validation ${row.valWall.toFixed(2)} s (CPU ${row.valCpu.toFixed(2)} s)`,
  );
}

const mean = (f: (r: (typeof rows)[0]) => number) => rows.reduce((a, r) => a + f(r), 0) / rows.length;
const valScale = (739 + 5921) / validation.labels.length;
const trainScale = (720 + 3170) / train.labels.length;
const ourVal = 1665 / validation.labels.length;
// CPU seconds of one epoch at the paper's split sizes (a training pass plus a validation pass of 6,660 strips)
// and at ours. CPU, not wall: these small 1-D convolutions run on one thread (CPU ≈ wall on a quiet machine), so
// a machine runs one trial per core and the wall time a shared machine adds is not the trial's.
const epochCpu = (v: number) => mean((r) => r.trainCpu) * trainScale + mean((r) => r.valCpu) * v;
const epochWall = (v: number) => mean((r) => r.trainWall) * trainScale + mean((r) => r.valWall) * v;
const storeOverhead = 0.0133; // s per trial, SQLite with one worker (bench:search, docs/measurements.md)
const TRIALS = 4216;
const cores = cpus().length;
const human = (s: number) =>
  s >= 86400 * 2
    ? `${(s / 86400).toFixed(1)} days`
    : s >= 7200
      ? `${(s / 3600).toFixed(1)} h`
      : `${(s / 60).toFixed(1)} min`;
// Trials are independent: m machines with `cores` cores each run m × cores at once; the last wave may be partial.
const estimate = (epochs: number, epochSeconds: number) =>
  [1, 10, 100].map((m) => ({
    machines: m,
    seconds: Math.ceil(TRIALS / (m * cores)) * (epochs * epochSeconds + storeOverhead),
  }));
const paper = estimate(400, epochCpu(valScale));
const our = estimate(12, epochCpu(ourVal));
const summary = {
  draws,
  quick,
  load: loadavg()[0],
  cores,
  backend: backendName(),
  epochCpuSecondsPaperSizes: epochCpu(valScale),
  epochWallSecondsPaperSizes: epochWall(valScale),
  epochCpuSecondsOurSizes: epochCpu(ourVal),
  paperProtocol: paper,
  oursAtMost12Epochs: our,
  rows,
};
console.log(JSON.stringify(summary, null, 1));
log(
  `\nmean epoch at the paper's sizes: ${epochCpu(valScale).toFixed(1)} CPU s ` +
    `(${epochWall(valScale).toFixed(1)} s wall at load ${loadavg()[0].toFixed(1)}); ` +
    `${TRIALS} trials, one per core (${cores} cores a machine):`,
);
log(`| machines | paper protocol (400 epochs, 6,660 validation strips) | ours (≤ 12 epochs, 1,665 validation) |`);
log(`|---|---|---|`);
for (let i = 0; i < 3; i++) log(`| ${paper[i].machines} | ${human(paper[i].seconds)} | ${human(our[i].seconds)} |`);
