// A Frugal kernel thread (a Node.js worker thread or a browser's module Web Worker):
// instantiates the kernels on the shared memory, then runs the task named in the control block
// each time the generation counter moves. See threads.ts.
import {
  ARGS_OFFSET,
  DONE,
  FAILED,
  FN,
  GEN,
  MAX_ARGS,
  NARGS,
  POSTED,
  SPIN,
  clock,
  isNode,
  writeError,
} from './threads.js';
import type { WorkerInit } from './threads.js';

interface Scope {
  postMessage(m: unknown): void;
  addEventListener(t: 'message', f: (e: { data: unknown }) => void, o: { once: boolean }): void;
}
let init: WorkerInit, ready: () => void;
if (isNode) {
  const { parentPort, workerData } = await import('node:worker_threads');
  init = workerData as WorkerInit;
  ready = () => parentPort!.postMessage('ready');
} else {
  const self = globalThis as unknown as Scope;
  init = await new Promise<WorkerInit>((res) =>
    self.addEventListener('message', (e) => res(e.data as WorkerInit), { once: true }),
  );
  ready = () => self.postMessage('ready');
}
const { module, memory, ctrl: buf, tid, nworkers, fns } = init;
const instance = new WebAssembly.Instance(module, {
  env: {
    memory,
    abort: () => {
      throw new Error('wasm abort');
    },
  },
});
const ex = instance.exports as Record<string, (...a: number[]) => void>;
const ctrl = new Int32Array(buf);
const f64 = new Float64Array(buf, ARGS_OFFSET),
  args = f64.subarray(0, MAX_ARGS);
// Read the generation before saying ready: a job posted right after 'ready' must not be missed.
let gen = Atomics.load(ctrl, GEN);
ready();

for (;;) {
  // Spin briefly before sleeping: training issues kernels back to back, and waking a
  // sleeping thread costs tens of microseconds.
  for (let i = 0; i < SPIN && Atomics.load(ctrl, GEN) === gen; i++);
  Atomics.wait(ctrl, GEN, gen);
  gen = Atomics.load(ctrl, GEN);
  // How long this call waited for us: the pool runs alone for a while when its workers keep starting late.
  f64[POSTED + tid] = clock() - f64[POSTED];
  try {
    ex[fns[ctrl[FN]]](...Array.from(args.subarray(0, ctrl[NARGS])), tid);
  } catch (e) {
    writeError(buf, e);
    Atomics.store(ctrl, FAILED, 1);
  }
  if (Atomics.add(ctrl, DONE, 1) + 1 === nworkers) Atomics.notify(ctrl, DONE);
}
