/**
 * A pool of worker threads sharing the kernels' WebAssembly.Memory. A call writes its
 * arguments into a shared control block, bumps a generation counter and wakes the
 * workers with Atomics.notify (no message per call); every thread, the caller included,
 * runs the same `...Tasks` kernel with its own thread id and claims work from an atomic
 * counter; the caller then waits (Atomics.wait) until all workers report done.
 */
import { workerUrl } from './assets.js';
import { LateWorkers } from './late.js';

// Control block layout (Int32 slots); arguments follow as Float64s from byte 64.
const GEN = 0,
  FN = 1,
  DONE = 2,
  NARGS = 3,
  FAILED = 4;
const ARGS_OFFSET = 64,
  MAX_ARGS = 32;
/** Bytes at the end of the control block for a failed worker's error message (UTF-8, zero-padded). */
const ERROR_BYTES = 512;

/** The control block's error-message area. */
function errorArea(ctrl: SharedArrayBuffer): Uint8Array {
  return new Uint8Array(ctrl, ctrl.byteLength - ERROR_BYTES, ERROR_BYTES);
}

/** A worker's failure, written into the error area for the caller's message (cut to fit). */
export function writeError(ctrl: SharedArrayBuffer, e: unknown): void {
  const area = errorArea(ctrl);
  area.fill(0);
  const text = e instanceof Error ? `${e.name}: ${e.message}` : String(e);
  new TextEncoder().encodeInto(text.slice(0, ERROR_BYTES / 4), area);
}

/** The message writeError left (empty when none). */
export function readError(ctrl: SharedArrayBuffer): string {
  const area = errorArea(ctrl).slice();
  const end = area.indexOf(0);
  return new TextDecoder().decode(end < 0 ? area : area.subarray(0, end));
}
/** No worker progress for this long means a worker died. */
const STALL_MS = 120_000;

export interface Pool {
  readonly threads: number;
  /**
   * Threads to use until the next advice: `threads`, or 1 while the workers keep starting late (late.ts); then
   * run() uses the calling thread alone. Called at the start of each kernel call, so a call never sees it change.
   */
  advise(): number;
  /** Run exports[fn](...args, tid) on every thread and wait for all. */
  run(fn: string, args: number[]): void;
  close(): void;
}

/** A pool of one: the caller alone (no workers). */
export function singleThread(exports: Record<string, unknown>): Pool {
  return {
    threads: 1,
    advise: () => 1,
    run(fn, args) {
      (exports[fn] as (...a: number[]) => void)(...args, 0);
    },
    close() {},
  };
}

/**
 * The functions a pool can run on its threads, by index: every function the module exports, so
 * a technique's threaded kernel (assembly/) needs no entry in a core list.
 */
export function taskFunctions(module: WebAssembly.Module): string[] {
  return WebAssembly.Module.exports(module)
    .filter((e) => e.kind === 'function')
    .map((e) => e.name);
}

/** What the pool needs of a worker, in Node.js (worker_threads) and in browsers (Web Workers). */
interface KernelWorker {
  ready: Promise<void>;
  stop(): void;
}

export const isNode =
  typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node === 'string';

async function startWorker(init: WorkerInit): Promise<KernelWorker> {
  const url = workerUrl();
  if (isNode) {
    const { Worker } = await import('node:worker_threads');
    const w = new Worker(url, {
      execArgv: [], // the parent's flags (--input-type, --cpu-prof, …) do not apply to kernel threads
      workerData: init,
    });
    w.unref(); // blocked workers must not keep the process alive
    return {
      ready: new Promise<void>((res, rej) => {
        w.once('message', () => res());
        w.once('error', rej);
      }),
      stop: () => void w.terminate(),
    };
  }
  // A browser: a module Web Worker, sent its start-up data by message (the module and the shared
  // memory clone only where the page is cross-origin isolated, which shared memory needs anyway).
  const W = (globalThis as unknown as { Worker: new (u: URL, o: { type: 'module' }) => BrowserWorker }).Worker;
  const w = new W(url, { type: 'module' });
  const ready = new Promise<void>((res, rej) => {
    w.addEventListener('message', () => res(), { once: true });
    w.addEventListener(
      'error',
      (e) => rej(new Error(`kernel worker failed to start: ${(e as { message?: string }).message ?? 'error event'}`)),
      { once: true },
    );
  });
  w.postMessage(init);
  return { ready, stop: () => w.terminate() };
}
interface BrowserWorker {
  postMessage(m: unknown): void;
  terminate(): void;
  addEventListener(t: 'message' | 'error', f: (e: unknown) => void, o: { once: boolean }): void;
}
export interface WorkerInit {
  module: WebAssembly.Module;
  memory: WebAssembly.Memory;
  ctrl: SharedArrayBuffer;
  tid: number;
  nworkers: number;
  fns: string[];
}

/**
 * Whether this thread may block in Atomics.wait: not a browser's main thread (a window), which
 * must poll instead; Node.js and workers may.
 */
const canBlock = isNode || typeof (globalThis as { document?: unknown }).document === 'undefined';

/** FRUGAL_ADAPT_THREADS=0 keeps every thread whatever the workers' delays (late.ts), e.g. to time the pool itself. */
const adapt =
  (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.FRUGAL_ADAPT_THREADS !== '0';

/** Start `threads − 1` workers that instantiate `module` on `memory`. */
export async function workerPool(
  module: WebAssembly.Module,
  memory: WebAssembly.Memory,
  exports: Record<string, unknown>,
  threads: number,
): Promise<Pool> {
  // After the arguments: the time a call was posted, then each worker's delay in starting it.
  const ctrlBuf = new SharedArrayBuffer(ARGS_OFFSET + 8 * (MAX_ARGS + threads) + ERROR_BYTES);
  const ctrl = new Int32Array(ctrlBuf);
  const f64 = new Float64Array(ctrlBuf, ARGS_OFFSET),
    args = f64.subarray(0, MAX_ARGS);
  const late = new LateWorkers();
  let solo = false;
  const nworkers = threads - 1,
    fns = taskFunctions(module),
    ids = new Map(fns.map((f, i) => [f, i]));
  const workers = await Promise.all(
    Array.from({ length: nworkers }, (_, i) =>
      startWorker({ module, memory, ctrl: ctrlBuf, tid: i + 1, nworkers, fns }),
    ),
  );
  try {
    await Promise.all(workers.map((w) => w.ready));
  } catch (e) {
    for (const w of workers) w.stop();
    throw e;
  }
  return {
    threads,
    advise() {
      if (adapt && (solo || late.tripped)) solo = late.solo(clock());
      return solo ? 1 : threads;
    },
    run(fn, a) {
      if (a.length > MAX_ARGS) throw new Error(`too many kernel arguments (${a.length})`);
      const id = ids.get(fn);
      if (id === undefined) throw new Error(`${fn} is not a function of the kernel module`);
      // Alone: every task kernel claims its work from the shared counter, so the caller does all of it. Not
      // gemmShared, which deals strips by thread and waits at barriers: the backend never sends it while solo.
      if (solo) {
        if (fn === 'gemmShared') throw new Error('gemmShared needs every thread; the pool is running alone');
        return void (exports[fn] as (...x: number[]) => void)(...a, 0);
      }
      args.set(a);
      f64[POSTED] = clock();
      ctrl[FN] = id;
      ctrl[NARGS] = a.length;
      Atomics.store(ctrl, DONE, 0);
      Atomics.add(ctrl, GEN, 1);
      Atomics.notify(ctrl, GEN);
      // The caller's share failing (a trap) still waits for the workers: returning at once would let the next
      // call be posted while they run this one, and their late "done" would count for it.
      let mine: unknown = null;
      try {
        (exports[fn] as (...x: number[]) => void)(...a, 0);
      } catch (e) {
        mine = e;
      }
      const own = clock();
      let d: number;
      for (let i = 0; i < SPIN && Atomics.load(ctrl, DONE) < nworkers; i++);
      let t0 = Date.now(),
        stalls = 0,
        last = -1;
      while ((d = Atomics.load(ctrl, DONE)) < nworkers) {
        if (d !== last) {
          last = d;
          t0 = Date.now();
          stalls = 0;
        }
        // A worker that died never reports: give up loudly rather than hang forever. Two silent
        // periods in a row, not one: a virtual machine paused by its host wakes with the first
        // period already spent (a training run here once stopped after one such period, with
        // no other sign of a fault, and its re-run went through).
        const timedOut = canBlock ? Atomics.wait(ctrl, DONE, d, STALL_MS) === 'timed-out' : Date.now() - t0 > STALL_MS;
        if (!timedOut || Atomics.load(ctrl, DONE) !== d) continue;
        if (++stalls >= 2) throw new Error(`worker threads stopped responding in ${fn}; run with FRUGAL_THREADS=1`);
        t0 = Date.now();
      }
      const failed = ctrl[FAILED];
      ctrl[FAILED] = 0;
      if (mine) throw mine;
      if (failed)
        throw new Error(`a worker thread failed in ${fn}(${a.join(', ')}): ${readError(ctrlBuf) || 'no message'}`);
      // Late: a worker started over LATE_MS after posting, or the caller, its own share done, waited longer than
      // that share took (a worker lost its core mid-task): either way a core was not there for us.
      let slowest = 0;
      for (let t = 1; t <= nworkers; t++) slowest = Math.max(slowest, f64[POSTED + t]);
      const end = clock(),
        waited = end - own;
      late.record(waited > own - f64[POSTED] ? Math.max(slowest, waited) : slowest, end);
    },
    close() {
      for (const w of workers) w.stop();
    },
  };
}

/** Polls of the control block before a thread sleeps in Atomics.wait (a few tens of microseconds). */
const SPIN = 20000;
/** Index, in the Float64 view from ARGS_OFFSET, of a call's posting time; worker t's start delay follows at +t. */
const POSTED = MAX_ARGS;

/** Milliseconds on a clock every thread of the process shares (each thread's performance.now has its own origin). */
export const clock = (): number => performance.timeOrigin + performance.now();

export { GEN, FN, DONE, NARGS, FAILED, ARGS_OFFSET, MAX_ARGS, SPIN, POSTED };
