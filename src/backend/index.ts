import type { DType } from '../core/dtype.js';
import { reference } from './reference.js';
import { loadWasmBackend, WasmBackend } from './wasm.js';
import type { Backend } from './types.js';

export type { Backend, ConvGeom, PoolGeom, PoolMode, BinaryKind, AdamHyper } from './types.js';
export { reference } from './reference.js';
export { WasmBackend } from './wasm.js';

async function readKernelBytes(): Promise<ArrayBuffer> {
  const url = new URL('../../../build/kernels.wasm', import.meta.url);
  if (url.protocol === 'file:') {
    const fs = await import('node:fs');
    const b = fs.readFileSync(url);
    return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
  }
  const res = await fetch(url);
  if (!res.ok) throw new Error(`fetching ${url.href} failed with ${res.status}`);
  return res.arrayBuffer();
}

function wantReference(): boolean {
  const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
  return env?.FRUGAL_BACKEND === 'reference';
}

let wasm: WasmBackend | null = null;
/** Why the WebAssembly backend is not in use, or null when it is. */
export let wasmUnavailableReason: string | null = null;

// Probed once at start-up; on failure Frugal runs on the reference kernels and says so once.
if (wantReference()) {
  wasmUnavailableReason = 'FRUGAL_BACKEND=reference';
} else {
  try {
    wasm = await loadWasmBackend(await readKernelBytes());
  } catch (e) {
    wasmUnavailableReason = (e as Error).message;
    console.error(`frugal: WebAssembly SIMD kernels unavailable (${wasmUnavailableReason}); using the reference backend`);
  }
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
