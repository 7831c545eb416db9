// npm run bench:fitdnn [-- --quick] [-- --rows N] [-- --hidden N] [-- --diagonals D]
// Training samples/s of the Fit-DNN (equivalent network map, θ 0.5) against the decoupled sparse MLP of the
// same N, L, D — same process, interleaved rounds (one epoch of each per round), medians: the map's extra
// cost as a ratio (goal: Fit-DNN time per epoch ≤ 3× the decoupled network's). Then the DDE solver's
// evaluation throughput (samples/s with N_h = max(32, ⌊16θ⌋)) beside the map's on the same model.
import { SGD, buildModel, evaluate, fit, loadFashionMnist, SUBSET_DIR, subset } from '../src/node.js';
import { backendName, getThreads, threadUse, simulateFitDnn, type Module } from '../src/index.js';
import { fitSpec } from '../src/reproduce/fitdnn.js';
import { median } from './race.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const rounds = arg('--rounds', quick ? 2 : 5),
  rows = arg('--rows', quick ? 300 : 5000),
  evalRows = arg('--eval-rows', quick ? 50 : 1000);
const shape = { hidden: arg('--hidden', 100), layers: arg('--layers', 2), diagonals: arg('--diagonals', 50) };
const theta = 0.5;
const log = (s: string) => process.stderr.write(`${s}\n`);

const data = loadFashionMnist(SUBSET_DIR);
const first = (n: number, ds = data.train) =>
  subset(
    ds,
    Array.from({ length: Math.min(n, ds.count) }, (_, i) => i),
  );
const train = first(rows),
  test = first(evalRows, data.test);
const runs = (['fit-dnn', 'decoupled'] as const).map((name) => {
  const model: Module = buildModel(fitSpec(shape, name === 'fit-dnn' ? theta : null), 1);
  return { name, model, opt: new SGD(model.parameters(), { lr: 0.32 }), times: [] as number[] };
});
const epoch = (r: (typeof runs)[number]) =>
  fit(r.model, { train, epochs: 1, batchSize: 32, optimizer: r.opt, seed: 1 }).history[0].seconds;
runs.forEach(epoch); // warm-up: JIT, kernels, pools
for (let k = 0; k < rounds; k++) for (const r of runs) r.times.push(epoch(r));
const [fd, dec] = runs.map((r) => median(r.times));
const ratio = fd / dec;
log(
  `Fit-DNN training: ${train.count} rows, N ${shape.hidden}, L ${shape.layers}, D ${shape.diagonals}, θ ${theta}, ` +
    `batch 32, ${rounds} rounds, ${backendName()}, ${getThreads()} threads`,
);
log(`  fit-dnn    ${fd.toFixed(3)} s/epoch  ${(train.count / fd).toFixed(0)} samples/s`);
log(`  decoupled  ${dec.toFixed(3)} s/epoch  ${(train.count / dec).toFixed(0)} samples/s`);
log(`  goal Fit-DNN ≤ 3× decoupled: ${ratio <= 3 ? 'met' : 'NOT met'} (${ratio.toFixed(3)}×)`);
// Evaluation: the map against the delay system integrated in time, on the same trained weights.
const model = runs[0].model;
const mapEval = evaluate(model, test);
simulateFitDnn(model, { kind: 'dde' });
const ddeEval = evaluate(model, test);
simulateFitDnn(model, { kind: 'map' });
log(
  `  evaluation on ${test.count} rows: map ${mapEval.samplesPerSecond.toFixed(0)} samples/s, DDE ` +
    `${ddeEval.samplesPerSecond.toFixed(0)} samples/s ` +
    `(${(mapEval.samplesPerSecond / ddeEval.samplesPerSecond).toFixed(1)}× slower)`,
);
const result = {
  bench: 'fitdnn',
  rows: train.count,
  ...shape,
  theta,
  rounds,
  ...threadUse(),
  backend: backendName(),
  training: {
    fitDnnSecondsPerEpoch: fd,
    decoupledSecondsPerEpoch: dec,
    fitDnnSamplesPerSecond: train.count / fd,
    decoupledSamplesPerSecond: train.count / dec,
    ratio,
    goalMet: ratio <= 3,
  },
  evaluation: {
    rows: test.count,
    mapSamplesPerSecond: mapEval.samplesPerSecond,
    ddeSamplesPerSecond: ddeEval.samplesPerSecond,
  },
};
process.stdout.write(`${JSON.stringify(result)}\n`);
