// The machine's WebAssembly SIMD peak, measured in the run that measures the networks (issue 27 point 1): the
// kernels' `peakFma` loop (12 independent a·b + c chains, fused in the relaxed-SIMD build) on each of `threads`
// worker threads at once. A network's GFLOP/s divided by this is the share of the peak it reaches.
import { readFileSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { backendName } from '../src/index.js';
import { median } from './race.js';

const WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
const memory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
const ex = new WebAssembly.Instance(workerData.module, { env: { memory, abort() { throw new Error('abort'); } } })
  .exports;
// Calibrate to about 50 ms a call; a few more calls so V8 swaps its baseline code for the optimised tier (the
// first calls run several times slower), then time 'rounds' calls.
let iters = 1 << 16;
for (;;) {
  const t0 = performance.now();
  ex.peakFma(iters, 1);
  if (performance.now() - t0 > 50) break;
  iters *= 2;
}
for (let k = 0; k < 4; k++) ex.peakFma(iters, k);
parentPort.postMessage('ready');
parentPort.once('message', () => {
  const rates = [];
  for (let r = 0; r < workerData.rounds; r++) {
    const t0 = performance.now();
    ex.peakFma(iters, r);
    rates.push((96 * iters) / ((performance.now() - t0) * 1e6));
  }
  parentPort.postMessage(rates);
});
`;

export interface WasmPeak {
  /** Whether the fused (relaxed-SIMD) build ran, as Frugal's kernels do when the engine allows. */
  relaxed: boolean;
  threads: number;
  /** Median GFLOP/s of one thread while all run. */
  perThreadGflops: number;
  /** Sum over the threads. */
  gflops: number;
}

/** Runs `peakFma` on `threads` workers at once for `rounds` timed calls each; medians per thread, summed. */
export async function wasmPeak(threads: number, rounds = 5): Promise<WasmPeak> {
  const relaxed = backendName().includes('relaxed');
  const file = new URL(`../../build/${relaxed ? 'kernels-mt-relaxed' : 'kernels-mt'}.wasm`, import.meta.url);
  const module = new WebAssembly.Module(readFileSync(file));
  const workers = Array.from(
    { length: threads },
    () => new Worker(WORKER, { eval: true, workerData: { module, rounds } }),
  );
  const next = (w: Worker) =>
    new Promise<unknown>((ok, fail) => {
      w.once('message', ok);
      w.once('error', fail);
    });
  await Promise.all(workers.map(next));
  const done = workers.map(next);
  for (const w of workers) w.postMessage('go');
  const rates = (await Promise.all(done)) as number[][];
  await Promise.all(workers.map((w) => w.terminate()));
  const per = rates.map(median);
  return { relaxed, threads, perThreadGflops: median(per), gflops: per.reduce((a, b) => a + b, 0) };
}
