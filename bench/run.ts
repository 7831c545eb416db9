// npm run bench [-- --quick] [--no-memory] [--out FILE]
// Frugal beside TensorFlow.js 4.22 (same process) and PyTorch (Debian's python3-torch, when installed); then
// inference beside ONNX Runtime with the WebAssembly peak (bench/onnx.ts, its own process).
// Prints one JSON object on stdout and a table on stderr.
import { spawnSync } from 'node:child_process';
import { existsSync, realpathSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { backendName, getThreads, setThreads, threadUse } from '../src/index.js';
import { writeFileAtomic } from '../src/node.js';
import { frugalGemm, frugalInfer, frugalTrain } from './frugal-side.js';
import { tfGemm, tfInfer, tfTrain, tfWasmThreads } from './tfjs-peer.js';

const args = process.argv.slice(2);
const quick = args.includes('--quick');
const memory = !args.includes('--no-memory') && !quick;
const outIdx = args.indexOf('--out');
const budget = quick ? 300 : 1500;
// This machine is a shared VM: every number is the median of interleaved rounds.
const rounds = quick ? 1 : 5;
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
async function interleaved(
  f: () => number | Promise<number>,
  g: () => number | Promise<number>,
): Promise<[number, number]> {
  const a: number[] = [],
    b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    a.push(await f());
    b.push(await g());
  }
  return [median(a), median(b)];
}
const PY = '/usr/bin/python3';
const root = fileURLToPath(new URL('../..', import.meta.url));
const log = (s: string) => process.stderr.write(`${s}\n`);

function torchAvailable(): string | null {
  if (!existsSync(PY)) return `${PY} not found`;
  const r = spawnSync(PY, ['-c', 'import torch'], { encoding: 'utf8' });
  return r.status === 0 ? null : 'python3-torch is not installed (apt-get install python3-torch libopenblas0-pthread)';
}

/**
 * Whether Debian's libblas.so.3, which its python3-torch calls, is the reference BLAS (its sgemm measured 3–6
 * GFLOP/s here, against 166–187 with OpenBLAS): PyTorch's ratios then say little about PyTorch.
 */
function referenceBlas(): boolean {
  try {
    return realpathSync('/usr/lib/x86_64-linux-gnu/libblas.so.3').includes('/blas/');
  } catch {
    return false;
  }
}

function torchRun(...a: string[]): Record<string, number> {
  const r = spawnSync(PY, [`${root}/bench/torch_peer.py`, ...a], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`PyTorch peer failed: ${r.stderr.slice(-400)}`);
  return JSON.parse(r.stdout.trim().split('\n').pop()!);
}

interface Row {
  name: string;
  unit: string;
  frugal: number;
  tfjs?: number;
  tfjsBackend?: string;
  torch?: number;
  ratioTfjs?: number;
  ratioTorch?: number;
}
const rows: Row[] = [];
function add(row: Row): void {
  if (row.tfjs) row.ratioTfjs = row.frugal / row.tfjs;
  if (row.torch) row.ratioTorch = row.frugal / row.torch;
  rows.push(row);
  log(
    `${row.name.padEnd(28)} frugal ${row.frugal.toFixed(1).padStart(9)} ${row.unit}` +
      (row.tfjs
        ? `  tfjs-${row.tfjsBackend} ${row.tfjs.toFixed(1).padStart(8)} ` + `(×${row.ratioTfjs!.toFixed(2)})`
        : '') +
      (row.torch ? `  torch ${row.torch.toFixed(1).padStart(8)} (×${row.ratioTorch!.toFixed(2)})` : ''),
  );
}

const torchMissing = torchAvailable();
log(`frugal backend: ${backendName()}, ${getThreads()} thread(s); PyTorch: ${torchMissing ?? 'available'}`);
const torch = torchMissing ? null : torchRun('speed', '--budget', String(budget / 1000));
if (torch) log(`PyTorch threads: ${torch.threads}`);
if (torch && referenceBlas())
  log(
    `PyTorch runs on the reference BLAS (sgemm ${torch.sgemm1024Gflops?.toFixed(1)} GFLOP/s): its ratios mean ` +
      'little; apt-get install libopenblas0-pthread',
  );

const threads = getThreads();
const tfjsThreads = await tfWasmThreads();
log(`TF.js wasm threads: ${tfjsThreads}`);
let [f, t] = await interleaved(
  () => frugalGemm(1024, budget),
  () => tfGemm('wasm', 1024, budget),
);
add({ name: 'sgemm 1024³', unit: 'GFLOP/s', frugal: f, tfjs: t, tfjsBackend: 'wasm', torch: torch?.sgemm1024Gflops });
[f, t] = await interleaved(
  () => frugalTrain('mlp', 128, budget),
  () => tfTrain('wasm', 'mlp', 128, budget),
);
add({
  name: 'MLP training (batch 128)',
  unit: 'samples/s',
  frugal: f,
  tfjs: t,
  tfjsBackend: 'wasm',
  torch: torch?.mlpTrainSamplesPerSecond,
});
// TF.js's wasm backend has no Conv2DBackpropFilter kernel: CNN training runs on its cpu backend (slow: one round).
f = median(await Promise.all(Array.from({ length: rounds }, () => frugalTrain('cnn', 64, budget))));
add({
  name: 'CNN training (batch 64)',
  unit: 'samples/s',
  frugal: f,
  tfjs: await tfTrain('cpu', 'cnn', 64, 3000),
  tfjsBackend: 'cpu',
  torch: torch?.cnnTrainSamplesPerSecond,
});
[f, t] = await interleaved(
  () => frugalInfer(1, budget),
  () => tfInfer('wasm', 1, budget),
);
add({
  name: 'CNN inference (batch 1)',
  unit: 'samples/s',
  frugal: f,
  tfjs: t,
  tfjsBackend: 'wasm',
  torch: torch?.cnnInferBatch1SamplesPerSecond,
});
[f, t] = await interleaved(
  () => frugalInfer(256, budget),
  () => tfInfer('wasm', 256, budget),
);
add({
  name: 'CNN inference (batch 256)',
  unit: 'samples/s',
  frugal: f,
  tfjs: t,
  tfjsBackend: 'wasm',
  torch: torch?.cnnInferBatch256SamplesPerSecond,
});

// Thread scaling of SGEMM 1024³: 1 vs 2 threads, interleaved, median of 5 rounds each.
let scaling: Record<string, number> | null = null;
if (threads >= 2) {
  const one: number[] = [],
    two: number[] = [];
  for (let r = 0; r < (quick ? 1 : 5); r++) {
    await setThreads(1);
    one.push(frugalGemm(1024, budget / 2));
    await setThreads(2);
    two.push(frugalGemm(1024, budget / 2));
  }
  await setThreads(threads);
  scaling = {
    oneThreadGflops: median(one),
    twoThreadGflops: median(two),
    speedup: median(two) / median(one),
    bestSpeedup: Math.max(...two) / Math.min(...one),
  };
  log(
    `sgemm 1024³ thread scaling: 1 thread ${scaling.oneThreadGflops.toFixed(1)}, 2 threads ` +
      `${scaling.twoThreadGflops.toFixed(1)} GFLOP/s (×${scaling.speedup.toFixed(2)} median)`,
  );
}

let mem: Record<string, unknown> | null = null;
if (memory) {
  // Peak RSS of one full-data epoch of the reference CNN, Frugal's CLI vs the PyTorch script.
  log('peak memory: one full Fashion-MNIST epoch of the reference CNN in each (about a minute each)...');
  const r = spawnSync(
    process.execPath,
    [
      `${root}/dist/src/cli/main.js`,
      'train',
      '--model',
      'cnn',
      '--epochs',
      '1',
      '--out',
      '/tmp/frugal-bench-cnn.safetensors',
      '--json',
    ],
    { encoding: 'utf8' },
  );
  if (r.status !== 0) throw new Error(`frugal train failed: ${r.stderr.slice(-400)}`);
  const f = JSON.parse(r.stdout);
  const t = torch ? torchRun('train', 'cnn', f.dataDir, '1') : null;
  mem = {
    dataSource: f.dataSource,
    frugalPeakRssBytes: f.peakRssBytes,
    torchPeakRssBytes: t?.peakRssBytes ?? null,
    ratio: t ? f.peakRssBytes / t.peakRssBytes : null,
  };
  log(
    `peak RSS: frugal ${(f.peakRssBytes / 2 ** 20).toFixed(0)} MiB` +
      (t ? `, torch ${(t.peakRssBytes / 2 ** 20).toFixed(0)} MiB (×${(mem.ratio as number).toFixed(2)})` : ''),
  );
}

// Inference beside ONNX Runtime (native and WebAssembly) with the WebAssembly peak: bench/onnx.ts in its own
// process (onnxruntime-web's worker threads keep a process alive; that script exits by itself).
log('inference beside onnxruntime-node and onnxruntime-web (bench/onnx.ts)...');
const ox = spawnSync(process.execPath, [`${root}/dist/bench/onnx.js`, ...(quick ? ['--quick'] : [])], {
  encoding: 'utf8',
  stdio: ['ignore', 'pipe', 'inherit'],
  maxBuffer: 1 << 24,
});
if (ox.status !== 0) throw new Error(`bench/onnx.ts failed with exit ${ox.status}`);
const onnx = JSON.parse(ox.stdout.trim().split('\n').pop()!);

const { soloShare } = threadUse();
// A busy machine sends the pool to the calling thread alone (src/backend/late.ts): say so beside the numbers.
if (soloShare > 0.01)
  log(`note: ${(100 * soloShare).toFixed(1)}% of Frugal's kernel calls ran on one thread (the machine was busy)`);
const result = {
  date: new Date().toISOString(),
  backend: backendName(),
  threads,
  soloShare,
  tfjsWasmThreads: tfjsThreads,
  quick,
  rounds,
  scaling,
  torch: torchMissing ? { unavailable: torchMissing } : { threads: torch!.threads },
  rows,
  memory: mem,
  onnx,
};
if (outIdx >= 0) writeFileAtomic(args[outIdx + 1], JSON.stringify(result, null, 2));
process.stdout.write(`${JSON.stringify(result)}\n`);
