import { allocArray, type DType, type FArray } from './dtype.js';
import { checkCount } from './limits.js';
import type { Shape } from './shape.js';
import { sizeOf } from './shape.js';
import { Tensor } from './tensor.js';

/**
 * A buffer pool for the arrays ops allocate inside a scope (one training or evaluation
 * step). At the end of the scope every such array goes back to a free list by length and
 * is handed out again (zeroed) in the next step, so a training loop stops allocating large
 * buffers after its first step. Where the backend provides it, pooled float32 arrays live
 * in the kernels' shared WebAssembly memory, so kernels read and write them in place.
 *
 * Rule: a tensor made by an op inside `withScope` must not be used after the scope ends;
 * copy what you need (`clone()`, numbers, predictions) inside it.
 */
export const MIN_POOLED = 256;
/** Where pooled arrays come from: carve a new one, say whether a given-back region holds it, give one back. */
export interface ArenaProvider {
  carve(n: number): Float32Array;
  fits(n: number): boolean;
  release(a: Float32Array): void;
}
let provider: ArenaProvider | null = null;
const free = new Map<number, Float32Array[]>();
let scope: Float32Array[] | null = null;

/** Set where pooled float32 arrays come from (the WebAssembly backend's shared memory), or null. */
export function setArenaProvider(p: ArenaProvider | null): void {
  provider = p;
  free.clear();
  persistentFree.clear();
}

/**
 * A new pooled array. When no region given back holds it (the provider's top would rise), every array waiting in
 * the free lists goes back first: lists by exact length keep the sizes of models no longer trained, and their
 * regions, merged, serve this one. A training loop meets this in its first step, and again when a new size comes
 * (an epoch's short last batch, an evaluation batch): its arrays are then carved again from the merged regions.
 */
function fresh(n: number): Float32Array {
  if (!provider) return new Float32Array(n);
  if (!provider.fits(n)) releaseFree();
  return provider.carve(n);
}

/** Return every waiting array (op outputs and collected parameters) to the provider. */
function releaseFree(): void {
  // Emptied first: were a release to throw, no array would stay listed for reuse after its region went back.
  const all = [...free.values(), ...persistentFree.values()].flat();
  free.clear();
  persistentFree.clear();
  for (const a of all) provider!.release(a);
}

export function scopedArray(dtype: DType, n: number, zeroed = true): FArray {
  if (!scope || dtype !== 'float32' || n < MIN_POOLED) return allocArray(dtype, n);
  const list = free.get(n);
  let a = list?.pop();
  if (a) {
    if (zeroed) a.fill(0);
  } else a = fresh(n);
  scope.push(a);
  return a;
}

/**
 * An output array whose every element the caller's kernel writes: a recycled one is not
 * zeroed first (it may hold values from the previous step).
 */
export function scopedEmptyLike(like: FArray, n: number): FArray {
  return scopedArray(like instanceof Float64Array ? 'float64' : 'float32', n, false);
}

export function scopedEmpty(shape: Shape, dtype: DType = 'float32'): Tensor {
  return new Tensor(scopedArray(dtype, sizeOf(shape), false), shape);
}

export function scopedLike(like: FArray, n: number): FArray {
  return scopedArray(like instanceof Float64Array ? 'float64' : 'float32', n);
}

export function scopedZeros(shape: Shape, dtype: DType = 'float32'): Tensor {
  return new Tensor(scopedArray(dtype, sizeOf(shape)), shape);
}

export function scopedFull(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
  const t = scopedZeros(shape, dtype);
  t.data.fill(value);
  return t;
}

/** Whether ops are allocating from the pool now. */
export function inScope(): boolean {
  return scope !== null;
}

/**
 * Run fn with pooled op outputs; when it returns (or throws), every array the ops
 * allocated inside goes back to the pool. Scopes nest; inner arrays return at the inner end.
 */
export function withScope<T>(fn: () => T): T {
  const outer = scope;
  const mine: Float32Array[] = [];
  scope = mine;
  try {
    return fn();
  } finally {
    scope = outer;
    for (const a of mine) {
      let list = free.get(a.length);
      if (!list) {
        list = [];
        free.set(a.length, list);
      }
      list.push(a);
    }
  }
}

/** Arrays waiting in the pool, and their bytes (for tests and diagnostics). */
export function poolStats(): { arrays: number; bytes: number } {
  let arrays = 0,
    bytes = 0;
  for (const [n, l] of free) {
    arrays += l.length;
    bytes += 4 * n * l.length;
  }
  return { arrays, bytes };
}

/**
 * Long-lived float32 arrays (parameters, optimizer state) in the kernels' shared memory,
 * so kernels use them in place. A region returns to a free list when its array object is
 * garbage-collected. Keep the array itself (`tensor.data`), not a derived view
 * (`subarray`, `new Float32Array(x.buffer)`), for as long as you use its memory.
 */
const persistentFree = new Map<number, Float32Array[]>();
const reclaim =
  typeof FinalizationRegistry === 'function'
    ? new FinalizationRegistry<{ n: number; view: () => Float32Array }>((h) => {
        let list = persistentFree.get(h.n);
        if (!list) {
          list = [];
          persistentFree.set(h.n, list);
        }
        list.push(h.view());
      })
    : null;

export function persistentArray(n: number): Float32Array {
  checkCount('a parameter array', n, 'maxTensorElements');
  if (!provider || n < MIN_POOLED) return new Float32Array(n);
  const reused = persistentFree.get(n)?.pop();
  const a = reused ? reused.fill(0) : fresh(n);
  // The registry keeps a way to rebuild a view of the region, not the array itself.
  const { buffer, byteOffset } = a;
  reclaim?.register(a, { n, view: () => new Float32Array(buffer, byteOffset, n) }, a);
  return a;
}

/**
 * Give a persistent array's region back now instead of when it is collected: V8 does not count the kernels'
 * memory as its own, so collection can wait for many models. The caller never uses the array again. Arrays that
 * are not persistent (or were released already) are left alone; returns whether this one was released.
 */
export function releasePersistent(a: FArray): boolean {
  if (!provider || !(a instanceof Float32Array) || !reclaim?.unregister(a)) return false;
  let list = persistentFree.get(a.length);
  if (!list) {
    list = [];
    persistentFree.set(a.length, list);
  }
  list.push(a);
  return true;
}

/** What a disposed tensor holds: any use of it throws this clear error instead of reading reused memory. */
const disposed: Float32Array = new Proxy(new Float32Array(0), {
  get() {
    throw new Error('this tensor was disposed (its memory released for reuse); use a tensor that is still alive');
  },
});

/** Release a tensor's persistent memory (its data, see releasePersistent) and make any later use of it throw. */
export function disposeTensor(t: Tensor): void {
  releasePersistent(t.data);
  t.data = disposed;
  t.grad = null;
}

/** A persistent copy of a float32 array (other arrays are returned unchanged). */
export function persistentCopy(a: FArray): FArray {
  if (!(a instanceof Float32Array) || !provider || a.length < MIN_POOLED) return a;
  const p = persistentArray(a.length);
  p.set(a);
  return p;
}

/** Persistent array like `like` (float64 stays a plain array). */
export function persistentLike(like: FArray, n: number): FArray {
  return like instanceof Float32Array ? persistentArray(n) : new Float64Array(n);
}
