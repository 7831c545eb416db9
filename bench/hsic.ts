// npm run bench:hsic [-- --quick] [-- --rows N] [-- --rounds R] [-- --data-dir DIR]
// One HSIC-bottleneck training epoch (spec 03's F1 network, batch 256) against one backprop epoch of the
// same network in the same process, interleaved rounds, medians; and against the same HSIC job written by
// us in PyTorch (bench/hsic_peer.py, Debian's python3-torch under /usr/bin/python3) at the same thread
// count. Goals (issue 17): HSIC epoch ≤ 2× backprop's; Frugal's HSIC speed ≥ 0.5× PyTorch's.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SGD,
  buildModel,
  fit,
  hsicBlocks,
  hsicMlp,
  hsicOptimizers,
  hsicStep,
  loadFashionMnist,
  subset,
} from '../src/node.js';
import { backendName, getThreads, threadUse, type Sequential } from '../src/index.js';
import { median } from './race.js';

const arg = (name: string, d: number) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? d : Number(process.argv[i + 1]);
};
const quick = process.argv.includes('--quick');
const dirArg = process.argv.indexOf('--data-dir');
const rounds = arg('--rounds', quick ? 1 : 3),
  rows = arg('--rows', quick ? 512 : 5120),
  batch = arg('--batch', quick ? 128 : 256);
const widths = quick ? [784, 64, 64, 10] : [784, 1024, 1024, 1024, 1024, 1024, 1024, 10];
const log = (s: string) => process.stderr.write(`${s}\n`);
const PY = '/usr/bin/python3';
const root = fileURLToPath(new URL('../..', import.meta.url));

const data = loadFashionMnist(dirArg < 0 ? undefined : process.argv[dirArg + 1]);
const train = subset(
  data.train,
  Array.from({ length: Math.min(rows, data.train.count) }, (_, i) => i),
);
const spec = hsicMlp(widths);
const hsicModel = buildModel(spec, 1) as Sequential;
const blocks = hsicBlocks(hsicModel);
const optimizers = hsicOptimizers(blocks, 1e-3);
const step = hsicStep(blocks, { sigma: 6, beta: 1000 });
const bpModel = buildModel(spec, 1) as Sequential;
const bpOpt = new SGD(bpModel.parameters(), { lr: 1e-3, weightDecay: 1e-3 });
// Sequential batches (the reference's shuffle=False); the same rows for both trainers.
const hsicEpoch = () =>
  fit(hsicModel, { train, epochs: 1, batchSize: batch, optimizers, step, seed: 1, inputShape: [784] }).history[0]
    .seconds;
const bpEpoch = () =>
  fit(bpModel, { train, epochs: 1, batchSize: batch, optimizer: bpOpt, seed: 1, inputShape: [784] }).history[0].seconds;
hsicEpoch(); // warm-up: JIT, kernels, pools
bpEpoch();
const th: number[] = [],
  tb: number[] = [];
for (let r = 0; r < rounds; r++) {
  th.push(hsicEpoch());
  tb.push(bpEpoch());
}
const hsic = median(th),
  bp = median(tb);
log(
  `HSIC bottleneck: ${train.count} rows, MLP ${widths.join('→')} (BN + ReLU blocks), batch ${batch}, ` +
    `${rounds} rounds, ${backendName()}, ${getThreads()} threads`,
);
log(`  frugal HSIC     ${hsic.toFixed(3)} s/epoch`);
log(`  frugal backprop ${bp.toFixed(3)} s/epoch`);
log(`  HSIC ÷ backprop ${(hsic / bp).toFixed(3)}× (goal ≤ 2×: ${hsic / bp <= 2 ? 'met' : 'NOT met'})`);

let peer: Record<string, unknown> | null = null,
  peerNote: string | null = null;
if (!existsSync(PY)) peerNote = `${PY} not found`;
else if (spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' }).status !== 0)
  peerNote = `PyTorch peer skipped: ${PY} has no torch (apt-get install python3-torch)`;
else {
  const r = spawnSync(
    PY,
    [
      `${root}/bench/hsic_peer.py`,
      data.dir,
      String(train.count),
      String(batch),
      String(getThreads()),
      String(rounds),
      widths.join(','),
    ],
    { encoding: 'utf8', maxBuffer: 1 << 20 },
  );
  if (r.status !== 0) throw new Error(`PyTorch peer failed: ${r.stderr.slice(-400)}`);
  peer = JSON.parse(r.stdout.trim().split('\n').pop()!);
}
let speedVsTorch: number | null = null;
if (peer) {
  const ph = peer.hsicSecondsPerEpoch as number,
    pb = peer.backpropSecondsPerEpoch as number;
  speedVsTorch = ph / hsic;
  log(`  ${peer.peer} HSIC     ${ph.toFixed(3)} s/epoch, backprop ${pb.toFixed(3)} s/epoch (${peer.threads} threads)`);
  log(
    `  frugal HSIC speed ÷ PyTorch's ${speedVsTorch.toFixed(3)}× ` +
      `(goal ≥ 0.5×: ${speedVsTorch >= 0.5 ? 'met' : 'NOT met'})`,
  );
} else log(`  ${peerNote}`);
const result = {
  bench: 'hsic',
  rows: train.count,
  widths,
  batch,
  rounds,
  backend: backendName(),
  ...threadUse(),
  frugal: { hsicSecondsPerEpoch: hsic, backpropSecondsPerEpoch: bp, hsicOverBackprop: hsic / bp },
  peer,
  peerNote,
  hsicSpeedOverTorch: speedVsTorch,
};
process.stdout.write(`${JSON.stringify(result)}\n`);
