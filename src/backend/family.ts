// Kernel families: a technique's own kernels (FFT, XNOR-popcount, sparse, …), kept out of the core
// Backend interface. Each family has a plain reference implementation (the test oracle, float32
// and float64) and optionally a WebAssembly one built on the wasm backend's runtime; which one
// runs follows backendFor's rule, so a family and the core kernels always agree.
import type { DType } from '../core/dtype.js';
import { backendFor, wasmBackend } from './index.js';
import { WasmBackend } from './wasm/backend.js';

/** The implementations of one kernel family. */
export interface KernelFamilyImpls<K> {
  /** Plain TypeScript, any dtype: obvious code, the oracle the WebAssembly version is tested against. */
  reference: K;
  /** Float32 on the WebAssembly module (its memory, scratch and threads: `be.runtime`); none = reference. */
  wasm?: (be: WasmBackend) => K;
}

/** A technique's kernels, picked per dtype like the core kernels. */
export interface KernelFamily<K> {
  readonly name: string;
  readonly reference: K;
  /** The implementation for arrays of this dtype: WebAssembly for float32 when backendFor picks it. */
  for(dtype: DType): K;
  /** The WebAssembly implementation on a wasm backend (default: the loaded one), or null without one. */
  wasm(be?: WasmBackend | null): K | null;
}

/**
 * Declare a kernel family: a technique's kernels beside their reference, selected by the same
 * dtype/backend rule as backendFor (float64 → reference, float32 → WebAssembly when loaded).
 *
 * @example
 * const toyKernels = kernelFamily<ToyKernels>('toy', { reference: toyReference, wasm: (be) => new ToyWasm(be.runtime)
 * });
 * toyKernels.for(x.dtype).scale(x.data, 2, out.data);
 */
export function kernelFamily<K>(name: string, impls: KernelFamilyImpls<K>): KernelFamily<K> {
  const built = new WeakMap<WasmBackend, K>();
  // The last backend and its implementation: for() runs once per op call, so skip the map then.
  let lastBe: WasmBackend | null = null,
    lastK: K = impls.reference;
  const onWasm = (be: WasmBackend): K => {
    if (be === lastBe) return lastK;
    let k = built.get(be);
    if (!k) {
      k = impls.wasm ? impls.wasm(be) : impls.reference;
      built.set(be, k);
    }
    lastBe = be;
    lastK = k;
    return k;
  };
  return {
    name,
    reference: impls.reference,
    for(dtype: DType): K {
      const be = backendFor(dtype);
      return be instanceof WasmBackend ? onWasm(be) : impls.reference;
    },
    wasm(be?: WasmBackend | null): K | null {
      const b = be === undefined ? wasmBackend() : be;
      return b && impls.wasm ? onWasm(b) : null;
    },
  };
}
