// npm run bench:sampling [-- --quick] [-- --rows N] [-- --wide]
// Time per epoch of each sampler of spec 10 against uniform sampling, same process, interleaved
// rounds (one epoch of each sampler per round), medians: the overhead goal is RAS ≤ 1.10× uniform.
// The model is the reproduction's small CNN without batch norm; KF's extra forward pass is counted.
import { SGD, buildModel, fit, kfScorer, loadFashionMnist, samplerByName, SUBSET_DIR, subset } from '../src/node.js';
import { backendName, threadUse, type Module, type Sampler } from '../src/index.js';
import { rasCnn } from '../src/reproduce/ras.js';
import { median } from './race.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const rounds = arg('--rounds', quick ? 3 : 5),
  rows = arg('--rows', quick ? 1000 : 2000);
const widths: [number, number] = process.argv.includes('--wide') ? [32, 64] : [8, 16];
const log = (s: string) => process.stderr.write(`${s}\n`);

const data = loadFashionMnist(SUBSET_DIR);
const train = subset(
  data.train,
  Array.from({ length: Math.min(rows, data.train.count) }, (_, i) => i),
);
const NAMES = ['uniform', 'obs', 'kf', 'as', 'ras', 'ras-kl'];
const runs = NAMES.map((name) => {
  const model: Module = buildModel(rasCnn(widths), 1);
  const sampler: Sampler = samplerByName(name, { seed: 1, strata: train.labels, score: kfScorer(model, train) });
  return { name, model, sampler, opt: new SGD(model.parameters(), { lr: 0.02, momentum: 0.9 }), times: [] as number[] };
});
const epoch = (r: (typeof runs)[number]) => {
  const h = fit(r.model, { train, epochs: 1, batchSize: 64, optimizer: r.opt, sampler: r.sampler, seed: 1 });
  return h.history[0];
};
runs.forEach(epoch); // warm-up: JIT, kernels, pools
let extra: Record<string, unknown> = {};
for (let k = 0; k < rounds; k++) {
  for (const r of runs) {
    const h = epoch(r);
    r.times.push(h.seconds);
    if (r.name === 'kf') extra = h.sampler ?? {};
  }
}
const uni = median(runs[0].times);
const out = runs.map((r) => ({ sampler: r.name, secondsPerEpoch: median(r.times), ratio: median(r.times) / uni }));
log(`sampling overhead: ${train.count} rows, CNN ${widths.join('/')}, batch 64, ${rounds} rounds, ${backendName()}`);
for (const o of out)
  log(`  ${o.sampler.padEnd(8)} ${o.secondsPerEpoch.toFixed(3)} s/epoch  ${o.ratio.toFixed(3)}× uniform`);
log(`  kf: ${extra.importanceSteps}/${extra.steps} steps importance-sampled, ${extra.extraForwardRows} extra rows`);
const ras = out.find((o) => o.sampler === 'ras')!;
log(`  goal RAS ≤ 1.10× uniform: ${ras.ratio <= 1.1 ? 'met' : 'NOT met'} (${ras.ratio.toFixed(3)}×)`);
const result = { bench: 'sampling', rows: train.count, widths, rounds, ...threadUse(), results: out, kf: extra };
process.stdout.write(`${JSON.stringify(result)}\n`);
