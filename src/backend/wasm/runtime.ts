// The WebAssembly module's memory, scratch allocator and thread pool: what every wrapper needs,
// the core backend's (backend.ts) and the techniques' kernel families alike. Internal API:
// a family's wasm implementation gets it from WasmBackend.runtime.
import type { FArray } from '../../core/dtype.js';
import type { Pool } from '../threads.js';

/** wasm32 addresses 2³² bytes at most (65536 pages, the threaded build's declared maximum). */
const MAX_MEMORY_BYTES = 2 ** 32;

/**
 * Round bytes up to 16 with arithmetic, not `& ~15`, which wraps at 2³¹ and turns a huge request into a small one.
 */
const align16 = (bytes: number): number => Math.ceil(bytes / 16) * 16;

function f32(a: FArray): Float32Array {
  if (!(a instanceof Float32Array))
    throw new Error('the WebAssembly backend takes float32 arrays only; use the reference backend for float64');
  return a;
}

/**
 * Linear memory with a bump allocator: each call copies its inputs into scratch (reset per
 * call by begin()), runs a kernel and copies results out; arrays that already live in this
 * memory (pooled op outputs, on the shared build) are used in place.
 */
export class WasmRuntime {
  /** The module's exports: every kernel of assembly/ (core and technique families alike). */
  readonly exports: WebAssembly.Exports;
  /** Start of the per-call scratch region: the end of the pooled arrays carved so far. */
  poolTop: number;
  private top: number;
  /** Bytes of GEMM packing space one thread needs (assembly/gemm.ts). */
  readonly workBytes: number;
  /** Byte offset of the shared task counter (16 bytes reserved at the heap base). */
  private readonly counter: number;
  /** The SharedArrayBuffers that have backed our memory: arrays on them are read in place. */
  private readonly ours = new WeakSet<ArrayBufferLike>();
  /**
   * Views of the whole memory and its size, renewed when ensure() grows it (nothing else does):
   * reading memory.buffer costs about 0.1 µs a time, which small calls felt several times over.
   * Read them after allocating, never keep them across an alloc().
   */
  f32v!: Float32Array;
  i32v!: Int32Array;
  private bytes = 0;

  constructor(
    exports: WebAssembly.Exports,
    readonly memory: WebAssembly.Memory,
    public pool: Pool,
    readonly shared: boolean,
  ) {
    this.exports = exports;
    const k = exports as unknown as { heapBase(): number; gemmWorkBytes(): number };
    this.counter = k.heapBase();
    this.poolTop = this.counter + 16;
    this.top = this.poolTop;
    this.active = pool.threads;
    this.workBytes = k.gemmWorkBytes();
    this.views();
  }

  private views(): void {
    const buf = this.memory.buffer;
    this.f32v = new Float32Array(buf);
    this.i32v = new Int32Array(buf);
    this.bytes = buf.byteLength;
  }

  /**
   * Threads the kernels use in this call (1 = the calling thread only): the pool's advice, taken at begin(), so
   * scratch sized by it and the tasks run agree within a call.
   */
  get threads(): number {
    return this.active;
  }
  private active = 1;
  /**
   * Kernel calls begun with a pool of several threads, and those of them its advice ran on the calling thread
   * alone (a busy machine, late.ts). Calls with a one-thread pool count in neither.
   */
  calls = 0;
  soloCalls = 0;

  /**
   * Grow the memory to hold `end` bytes, or throw a clear error. Callers move their top only after this
   * returns, so a refused growth leaves the allocator as it was and the next (smaller) call works.
   */
  private ensure(end: number, what: string): void {
    const need = end - this.bytes;
    if (need <= 0) return;
    const pages = Math.ceil(need / 65536);
    try {
      if (!Number.isSafeInteger(end) || end > MAX_MEMORY_BYTES) throw new RangeError('beyond the maximum');
      this.memory.grow(pages);
    } catch (e) {
      throw new Error(
        `the kernels' WebAssembly memory cannot grow to ${end} bytes for ${what} (it holds ${this.bytes}, ` +
          `at most ${MAX_MEMORY_BYTES}: ${(e as Error).message}); use smaller batches or layers`,
      );
    }
    this.views();
  }

  /**
   * Regions below poolTop given back by release(), as [start, end) byte pairs sorted by start and never touching
   * (neighbours merge). Without them memory held every array size any model had used: a search training one
   * architecture after another grew it to the 4 GiB limit.
   */
  private holes: number[] = [];

  /**
   * A float32 array living in the shared memory, for the op buffer pool (core/arena.ts): the smallest hole that
   * holds it, else carved at poolTop. Only with shared memory: growing it does not detach existing views.
   */
  carve(n: number): Float32Array {
    if (!this.shared) throw new Error('carving arrays needs the shared-memory build');
    const size = align16(n * 4),
      h = this.holes,
      best = this.bestHole(size);
    let p: number;
    if (best >= 0) {
      p = h[best];
      if (h[best + 1] - p === size) h.splice(best, 2);
      else h[best] = p + size;
    } else {
      p = this.poolTop;
      this.ensure(p + size, `a pooled array of ${n} floats`);
      this.poolTop = p + size;
    }
    const buf = this.memory.buffer;
    this.ours.add(buf);
    // The region may have been scratch space or another array before: arrays are handed out zeroed.
    return new Float32Array(buf, p, n).fill(0);
  }

  /** Whether a released region holds carve(n) (else it moves poolTop up, into scratch and maybe new memory). */
  fits(n: number): boolean {
    return this.bestHole(align16(n * 4)) >= 0;
  }

  /** Index in holes of the smallest hole of at least `size` bytes, or −1. */
  private bestHole(size: number): number {
    const h = this.holes;
    let best = -1;
    for (let i = 0; i < h.length; i += 2) {
      const room = h[i + 1] - h[i];
      if (room >= size && (best < 0 || room < h[best + 1] - h[best])) best = i;
    }
    return best;
  }

  /**
   * Give a carved array's region back (the caller never uses the array again). A region that ends at poolTop
   * lowers it, so scratch gets the room too.
   */
  release(a: Float32Array): void {
    if (!this.isOurs(a)) throw new Error('release() takes arrays carve() made');
    let start = a.byteOffset,
      end = start + align16(a.length * 4);
    const h = this.holes;
    let i = 0;
    while (i < h.length && h[i] < start) i += 2;
    if ((i < h.length && h[i] < end) || (i > 0 && h[i - 1] > start) || end > this.poolTop)
      throw new Error(`release(): the region ${start}..${end} is free already or was never carved`);
    if (i > 0 && h[i - 1] === start) {
      i -= 2;
      start = h[i];
      h.splice(i, 2);
    }
    if (i < h.length && h[i] === end) {
      end = h[i + 1];
      h.splice(i, 2);
    }
    if (end === this.poolTop) this.poolTop = start;
    else h.splice(i, 0, start, end);
  }

  /** Bytes of carved arrays in use (below poolTop and not in a hole), for tests and diagnostics. */
  get carvedBytes(): number {
    let free = 0;
    for (let i = 0; i < this.holes.length; i += 2) free += this.holes[i + 1] - this.holes[i];
    return this.poolTop - (this.counter + 16) - free;
  }

  /** Start a kernel call: scratch is reused from the end of the pooled arrays. */
  begin(): void {
    this.top = this.poolTop;
    this.active = this.pool.advise();
    if (this.pool.threads > 1) {
      this.calls++;
      if (this.active < this.pool.threads) this.soloCalls++;
    }
  }

  /** Scratch for nFloats 4-byte values (16-byte aligned) until the next begin(). */
  alloc(nFloats: number): number {
    const p = this.top,
      end = p + align16(nFloats * 4);
    this.ensure(end, `scratch of ${nFloats} floats`);
    this.top = end;
    return p;
  }

  /** Whether an array lives in this memory (then kernels read and write it in place). */
  isOurs(a: FArray | Int32Array): boolean {
    return this.ours.has(a.buffer);
  }

  /** Pointer to an input: in place when it lives in our memory, else a scratch copy. */
  inPtr(a: FArray): number {
    f32(a);
    if (this.isOurs(a)) return a.byteOffset;
    const p = this.alloc(a.length);
    this.f32v.set(a as Float32Array, p >>> 2);
    return p;
  }

  /** Pointer for an output: in place when it lives in our memory, else scratch (copied back by done()). */
  outPtr(a: FArray): number {
    f32(a);
    return this.isOurs(a) ? a.byteOffset : this.alloc(a.length);
  }

  /**
   * Copy a scratch output back to its array (nothing to do when it was written in place).
   * Scratch starts at poolTop and every array of ours lies below it, so the pointer alone
   * tells: reading `a.buffer` costs about 0.06 µs, felt by calls of a few microseconds.
   */
  done(a: FArray, p: number): void {
    if (p < this.poolTop) return;
    (a as Float32Array).set(this.f32v.subarray(p >>> 2, (p >>> 2) + a.length));
  }

  /** Pointer to an index array: in place when it lives in our memory, else a scratch copy. */
  intPtr(a: Int32Array): number {
    if (this.ours.has(a.buffer)) return a.byteOffset;
    const p = this.alloc(a.length);
    this.i32v.set(a, p >>> 2);
    return p;
  }

  /** Pointer for an Int32 output (see outPtr). */
  intOutPtr(a: Int32Array): number {
    return this.ours.has(a.buffer) ? a.byteOffset : this.alloc(a.length);
  }

  /** Copy an Int32 scratch output back (see done). */
  intDone(a: Int32Array, p: number): void {
    if (p < this.poolTop) return;
    a.set(this.i32v.subarray(p >>> 2, (p >>> 2) + a.length));
  }

  /** GEMM packing space for every thread. */
  allocWork(): number {
    return this.alloc((this.workBytes / 4) * this.pool.threads);
  }

  /** Run a `...Tasks` kernel on the calling thread alone (tid 0), after resetting the shared counter. */
  tasksHere(fn: (...a: number[]) => void, args: number[]): void {
    this.i32v[this.counter >>> 2] = 0;
    fn(this.counter, ...args, 0);
  }

  /** Run a `...Tasks` kernel on all threads, after resetting the shared counter. */
  tasks(fn: string, args: number[]): void {
    this.i32v[this.counter >>> 2] = 0;
    this.pool.run(fn, [this.counter, ...args]);
  }
}
