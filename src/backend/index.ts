import type { DType } from '../core/dtype.js';
import { reference } from './reference.js';
import { loadWasmBackend, WasmBackend } from './wasm/backend.js';
import { isNode, singleThread, workerPool } from './threads.js';
import { kernelUrl } from './assets.js';
import { setArenaProvider } from '../core/arena.js';
import type { Backend } from './types.js';
import { LIMITS, LimitError, maxThreads } from '../core/limits.js';

export type { Backend, ConvGeom, ConvEpilogue, PoolGeom, PoolMode, BinaryKind, AdamHyper } from './types.js';
export { reference } from './reference.js';
export { WasmBackend } from './wasm/backend.js';
export { THREAD_MIN_FLOPS } from './wasm/policy.js';
export type { WasmRuntime } from './wasm/runtime.js';

type Env = Record<string, string | undefined>;
const env: Env = (globalThis as { process?: { env?: Env } }).process?.env ?? {};

async function readKernelBytes(file: string): Promise<ArrayBuffer> {
  const url = kernelUrl(file);
  if (url.protocol === 'file:') {
    const fs = await import('node:fs');
    const b = fs.readFileSync(url);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetching ${url.href} failed with ${res.status}`);
  return res.arrayBuffer();
}

/** Relaxed SIMD (FMA): Node.js 20 validates it only behind a V8 flag; probe, never assume. */
async function relaxedSupported(bytes: ArrayBuffer): Promise<boolean> {
  if (env.FRUGAL_RELAXED === '0') return false;
  if (WebAssembly.validate(bytes)) return true;
  if (!isNode) return false;
  const v8 = await import('node:v8');
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WebAssembly.validate(bytes);
}

/** Cores of this machine (or what the browser reports), read once: the thread limits are a multiple of it. */
async function countCores(): Promise<number> {
  if (!isNode)
    return (globalThis as { navigator?: { hardwareConcurrency?: number } }).navigator?.hardwareConcurrency ?? 1;
  const os = await import('node:os');
  return typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
}
const cores = await countCores();

/**
 * A thread count from a flag or FRUGAL_THREADS (`field` names it), as an integer in [1, maxThreads(cores)]:
 * each thread is a worker with its own stack and instance, so 10⁹ of them would exhaust the machine.
 */
export function checkThreads(field: string, v: unknown): number {
  const n = typeof v === 'string' && v.trim() !== '' ? Number(v) : v,
    max = maxThreads(cores);
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1 || n > max)
    throw new LimitError(
      `${field} must be a positive integer ≤ ${max} (threadsPerCore ${LIMITS.threadsPerCore} × ${cores} cores, ` +
        `core/limits.ts), got ${JSON.stringify(v) ?? String(v)}`,
    );
  return n;
}

/** Threads from FRUGAL_THREADS, else the available cores. */
function defaultThreads(): number {
  return env.FRUGAL_THREADS !== undefined ? checkThreads('FRUGAL_THREADS', env.FRUGAL_THREADS) : cores;
}

let sharedModule: WebAssembly.Module | null = null;
let sharedMemory: WebAssembly.Memory | null = null;
let sharedExports: WebAssembly.Exports | null = null;

/** The threaded build on shared memory, with a worker pool; null where shared memory or workers are missing. */
async function loadThreaded(threads: number): Promise<WasmBackend | null> {
  if (typeof SharedArrayBuffer === 'undefined' || env.FRUGAL_SHARED === '0') return null;
  // A browser shares memory with Web Workers only on a cross-origin isolated page (COOP/COEP headers).
  const g = globalThis as { crossOriginIsolated?: boolean; Worker?: unknown };
  if (!isNode && (!g.crossOriginIsolated || typeof g.Worker !== 'function')) return null;
  const relaxedBytes = await readKernelBytes('kernels-mt-relaxed.wasm');
  const relaxed = await relaxedSupported(relaxedBytes);
  const bytes = relaxed ? relaxedBytes : await readKernelBytes('kernels-mt.wasm');
  if (!WebAssembly.validate(bytes)) return null;
  sharedModule = await WebAssembly.compile(bytes);
  sharedMemory = new WebAssembly.Memory({ initial: 64, maximum: 65536, shared: true });
  const instance = await WebAssembly.instantiate(sharedModule, {
    env: {
      memory: sharedMemory,
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  });
  sharedExports = instance.exports;
  let pool = singleThread(sharedExports as Record<string, unknown>);
  if (threads > 1) {
    try {
      pool = await workerPool(sharedModule, sharedMemory, sharedExports as Record<string, unknown>, threads);
    } catch (e) {
      console.error(`frugal: worker threads unavailable (${(e as Error).message}); using one thread`);
    }
  }
  const backend = new WasmBackend(sharedExports, sharedMemory, pool, { relaxed, shared: true });
  // Pooled op outputs live in the shared memory, so kernels use them without copies.
  setArenaProvider(backend);
  return backend;
}

let wasm: WasmBackend | null = null;
/** Why the WebAssembly backend is not in use, or null when it is. */
export let wasmUnavailableReason: string | null = null;

// Probed once at start-up; on failure Frugal runs on the reference kernels and says so once.
if (env.FRUGAL_BACKEND === 'reference') {
  wasmUnavailableReason = 'FRUGAL_BACKEND=reference';
} else {
  try {
    wasm = (await loadThreaded(defaultThreads())) ?? (await loadWasmBackend(await readKernelBytes('kernels.wasm')));
  } catch (e) {
    wasmUnavailableReason = (e as Error).message;
    console.error(
      `frugal: WebAssembly SIMD kernels unavailable (${wasmUnavailableReason}); using the reference backend`,
    );
  }
}

/**
 * Use n threads for the kernels (1 = the calling thread only). Needs the threaded build
 * (shared memory and worker threads); elsewhere only 1 is accepted.
 */
export async function setThreads(n: number): Promise<void> {
  checkThreads('threads', n);
  if (!wasm) return;
  if (wasm.threads === n) return;
  if (!sharedModule || !sharedMemory || !sharedExports) {
    if (n > 1) throw new Error('threads need SharedArrayBuffer and worker threads, which this environment lacks');
    return;
  }
  wasm.setPool(
    n > 1
      ? await workerPool(sharedModule, sharedMemory, sharedExports as Record<string, unknown>, n)
      : singleThread(sharedExports as Record<string, unknown>),
  );
}

/** Threads the kernels use now. */
export function getThreads(): number {
  return wasm ? wasm.threads : 1;
}

/**
 * Threads configured, and the share of kernel calls made since the pool was set (setThreads) that ran on the
 * calling thread alone because the workers kept starting late (late.ts); 0 with one thread. A share of calls,
 * not of work: many calls are too small to be threaded anyway. A benchmark reports both, since a busy machine
 * can run a "2-thread" measurement mostly on one.
 */
export function threadUse(): { threads: number; soloShare: number } {
  if (!wasm) return { threads: 1, soloShare: 0 };
  const rt = wasm.runtime;
  return { threads: wasm.threads, soloShare: rt.calls ? rt.soloCalls / rt.calls : 0 };
}
let forced: Backend | null = null;

/** The backend used for arrays of this dtype: WebAssembly for float32 when available. */
export function backendFor(dtype: DType): Backend {
  if (forced) return dtype === 'float32' || forced === reference ? forced : reference;
  return dtype === 'float32' && wasm ? wasm : reference;
}

/** The WebAssembly backend instance, or null when it could not be loaded. */
export function wasmBackend(): WasmBackend | null {
  return wasm;
}

/** Force a backend for float32 work (tests, benchmarks); null restores the default. */
export function setBackend(b: Backend | null): void {
  forced = b;
}

/** Name of the float32 backend in use. */
export function backendName(): string {
  return backendFor('float32').name;
}
