// A Frugal kernel thread: instantiates the kernels on the shared memory, then runs the task
// named in the control block each time the generation counter moves. See threads.ts.
import { parentPort, workerData } from 'node:worker_threads';
import { ARGS_OFFSET, DONE, FAILED, FN, GEN, MAX_ARGS, NARGS, SPIN } from './threads.js';

const { module, memory, ctrl: buf, tid, nworkers, fns } = workerData as {
  module: WebAssembly.Module; memory: WebAssembly.Memory; ctrl: SharedArrayBuffer; tid: number; nworkers: number; fns: string[];
};
const instance = new WebAssembly.Instance(module, { env: { memory, abort: () => { throw new Error('wasm abort'); } } });
const ex = instance.exports as Record<string, (...a: number[]) => void>;
const ctrl = new Int32Array(buf);
const args = new Float64Array(buf, ARGS_OFFSET, MAX_ARGS);
// Read the generation before saying ready: a job posted right after 'ready' must not be missed.
let gen = Atomics.load(ctrl, GEN);
parentPort!.postMessage('ready');

for (;;) {
  // Spin briefly before sleeping: training issues kernels back to back, and waking a
  // sleeping thread costs tens of microseconds.
  for (let i = 0; i < SPIN && Atomics.load(ctrl, GEN) === gen; i++);
  Atomics.wait(ctrl, GEN, gen);
  gen = Atomics.load(ctrl, GEN);
  try {
    ex[fns[ctrl[FN]]](...Array.from(args.subarray(0, ctrl[NARGS])), tid);
  } catch {
    Atomics.store(ctrl, FAILED, 1);
  }
  if (Atomics.add(ctrl, DONE, 1) + 1 === nworkers) Atomics.notify(ctrl, DONE);
}
