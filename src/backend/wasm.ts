import type { FArray } from '../core/dtype.js';
import type { AdamHyper, Backend, BinaryKind, ConvGeom, PoolGeom, PoolMode } from './types.js';

import { singleThread, type Pool } from './threads.js';

/** Exports of the kernel modules (built from assembly/ by `npm run build:wasm`). */
interface Kernels {
  heapBase(): number;
  gemmWorkBytes(): number;
  gemm(ta: number, tb: number, M: number, N: number, K: number, A: number, lda: number, B: number, ldb: number,
    C: number, ldc: number, acc: number, work: number): void;
  im2col(x: number, ...g: number[]): void;
  col2im(col: number, ...g: number[]): void;
  swap01(inp: number, A: number, B: number, L: number, out: number, bias: number): void;
  rowSums(m: number, R: number, n: number, out: number): void;
  pool2dForward(x: number, P: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, mode: number, out: number): void;
  pool2dBackward(x: number, P: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number,
    ph: number, pw: number, OH: number, OW: number, mode: number, dy: number, dx: number): void;
  relu(x: number, y: number, n: number): void;
  reluBackward(x: number, dy: number, dx: number, n: number): void;
  binary(a: number, b: number, y: number, n: number, op: number): void;
  adam(p: number, g: number, m: number, v: number, n: number, lr: number, b1: number, b2: number, eps: number,
    wd: number, bc1: number, bc2: number, decoupled: number): void;
}

/** GEMMs below this many flops stay on one thread (waking workers costs more than it saves). */
export const THREAD_MIN_FLOPS = 1 << 22;

const BINARY: Record<BinaryKind, number> = { add: 0, sub: 1, mul: 2, div: 3 };

function f32(a: FArray): Float32Array {
  if (!(a instanceof Float32Array)) throw new Error('the WebAssembly backend takes float32 arrays only; use the reference backend for float64');
  return a;
}

/**
 * WebAssembly SIMD128 backend. Each call copies its inputs into linear memory with a
 * bump allocator (reset per call), runs the kernel and copies results out; the copy is
 * a memcpy, small next to the arithmetic of the kernels routed here.
 */
export class WasmBackend implements Backend {
  readonly name: string;
  private readonly k: Kernels;
  private readonly base: number;
  private top: number;
  private readonly workBytes: number;
  /** Byte offset of the shared task counter (16 bytes reserved at the heap base). */
  private readonly counter: number;

  constructor(exports: WebAssembly.Exports, private readonly memory: WebAssembly.Memory, private pool: Pool, readonly features: { relaxed: boolean; shared: boolean }) {
    this.k = exports as unknown as Kernels;
    this.counter = this.k.heapBase();
    this.base = this.counter + 16;
    this.top = this.base;
    this.workBytes = this.k.gemmWorkBytes();
    this.name = `wasm-simd${features.relaxed ? '+relaxed' : ''}`;
  }

  /** Threads used by the kernels (1 = the calling thread only). */
  get threads(): number { return this.pool.threads; }

  /** Swap the thread pool (setThreads); the old one is closed. */
  setPool(pool: Pool): void { this.pool.close(); this.pool = pool; }

  /** Bytes of linear memory currently reserved (it only grows, to the largest call so far). */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }

  private alloc(nFloats: number): number {
    const p = this.top;
    this.top += (nFloats * 4 + 15) & ~15;
    const need = this.top - this.memory.buffer.byteLength;
    if (need > 0) this.memory.grow(Math.ceil(need / 65536));
    return p;
  }

  private heap(): Float32Array {
    return new Float32Array(this.memory.buffer);
  }

  /** Packing space for every thread. */
  private allocWork(): number {
    return this.alloc((this.workBytes / 4) * this.pool.threads);
  }

  /** Run a `...Tasks` kernel on all threads, after resetting the shared counter. */
  private tasks(fn: string, args: number[]): void {
    new Int32Array(this.memory.buffer, this.counter, 1)[0] = 0;
    this.pool.run(fn, [this.counter, ...args]);
  }

  /** GEMM on pointers already in linear memory; threaded above THREAD_MIN_FLOPS. */
  private gemmPtr(ta: boolean, tb: boolean, M: number, N: number, K: number, A: number, B: number, C: number, acc: boolean, work: number): void {
    const lda = ta ? M : K, ldb = tb ? K : N;
    if (this.pool.threads === 1 || 2 * M * N * K < THREAD_MIN_FLOPS || Math.max(M, N) < 16) {
      this.k.gemm(+ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work);
      return;
    }
    // Split the larger output dimension into about two chunks per thread (columns in
    // multiples of 8, rows of 4); a chunk never splits K, so results do not depend on threads.
    const splitCols = N >= M;
    const unit = splitCols ? 8 : 4, extent = splitCols ? N : M;
    const chunk = Math.max(unit, Math.ceil(extent / (2 * this.pool.threads) / unit) * unit);
    this.tasks('gemmTasks', [+splitCols, chunk, +ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work]);
  }

  private put(h: Float32Array, p: number, a: FArray): void {
    h.set(f32(a), p >> 2);
  }

  private get(h: Float32Array, p: number, out: FArray): void {
    f32(out).set(h.subarray(p >> 2, (p >> 2) + out.length));
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: FArray, B: FArray, C: FArray, acc: boolean): void {
    this.top = this.base;
    const pa = this.alloc(M * K), pb = this.alloc(K * N), pc = this.alloc(M * N), work = this.allocWork();
    const h = this.heap();
    this.put(h, pa, A.subarray(0, M * K)); this.put(h, pb, B.subarray(0, K * N));
    if (acc) this.put(h, pc, C.subarray(0, M * N));
    this.gemmPtr(transA, transB, M, N, K, pa, pb, pc, acc, work);
    this.get(h, pc, C.subarray(0, M * N));
  }

  private geomArgs(g: ConvGeom): number[] {
    return [g.B, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW];
  }

  im2col(x: FArray, g: ConvGeom, col: FArray): void {
    this.top = this.base;
    const px = this.alloc(x.length), pc = this.alloc(col.length);
    const h = this.heap();
    this.put(h, px, x);
    this.k.im2col(px, ...this.geomArgs(g), pc);
    this.get(h, pc, col);
  }

  col2im(col: FArray, g: ConvGeom, dx: FArray): void {
    this.top = this.base;
    const pc = this.alloc(col.length), pd = this.alloc(dx.length);
    const h = this.heap();
    this.put(h, pc, col);
    this.k.col2im(pc, ...this.geomArgs(g), pd);
    this.get(h, pd, dx);
  }

  private im2colPtr(px: number, g: ConvGeom, col: number): void {
    if (this.pool.threads > 1 && g.C > 1) this.tasks('im2colTasks', [px, ...this.geomArgs(g), col]);
    else this.k.im2col(px, ...this.geomArgs(g), col);
  }

  conv2dForward(x: FArray, w: FArray, bias: FArray | null, g: ConvGeom, out: FArray): void {
    this.top = this.base;
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw;
    const px = this.alloc(x.length), pw = this.alloc(w.length), pb = bias ? this.alloc(bias.length) : 0;
    const po = this.alloc(out.length), col = this.alloc(ckk * n), tmp = this.alloc(g.Co * n), work = this.allocWork();
    const h = this.heap();
    this.put(h, px, x); this.put(h, pw, w);
    if (bias) this.put(h, pb, bias);
    this.im2colPtr(px, g, col);
    this.gemmPtr(false, false, g.Co, n, ckk, pw, col, tmp, false, work);
    this.k.swap01(tmp, g.Co, g.B, g.OH * g.OW, po, pb);
    this.get(this.heap(), po, out);
  }

  conv2dBackward(x: FArray, w: FArray, dy: FArray, g: ConvGeom, dw: FArray, db: FArray | null, dx: FArray | null): void {
    this.top = this.base;
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw;
    const px = this.alloc(x.length), pw = this.alloc(w.length), pdy = this.alloc(dy.length);
    const pdx = dx ? this.alloc(dx.length) : 0, pdw = this.alloc(dw.length), pdb = db ? this.alloc(db.length) : 0;
    const col = this.alloc(ckk * n), dyT = this.alloc(g.Co * n), work = this.allocWork();
    const h = this.heap();
    this.put(h, px, x); this.put(h, pw, w); this.put(h, pdy, dy);
    this.k.swap01(pdy, g.B, g.Co, g.OH * g.OW, dyT, 0);
    if (db) this.k.rowSums(dyT, g.Co, n, pdb);
    this.im2colPtr(px, g, col);
    this.gemmPtr(false, true, g.Co, ckk, n, dyT, col, pdw, false, work);
    if (dx) {
      this.gemmPtr(true, false, ckk, n, g.Co, pw, dyT, col, false, work);
      if (this.pool.threads > 1 && g.C > 1) this.tasks('col2imTasks', [col, ...this.geomArgs(g), pdx]);
      else this.k.col2im(col, ...this.geomArgs(g), pdx);
    }
    const h2 = this.heap();
    this.get(h2, pdw, dw);
    if (db) this.get(h2, pdb, db);
    if (dx) this.get(h2, pdx, dx);
  }

  pool2dForward(x: FArray, g: PoolGeom, mode: PoolMode, out: FArray): void {
    this.top = this.base;
    const px = this.alloc(x.length), po = this.alloc(out.length);
    const h = this.heap();
    this.put(h, px, x);
    this.k.pool2dForward(px, g.P, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, mode === 'max' ? 0 : 1, po);
    this.get(h, po, out);
  }

  pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, dx: FArray): void {
    this.top = this.base;
    const px = this.alloc(x.length), pdy = this.alloc(dy.length), pdx = this.alloc(dx.length);
    const h = this.heap();
    this.put(h, px, x); this.put(h, pdy, dy);
    this.k.pool2dBackward(px, g.P, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, mode === 'max' ? 0 : 1, pdy, pdx);
    this.get(h, pdx, dx);
  }

  relu(x: FArray, y: FArray): void {
    this.top = this.base;
    const px = this.alloc(x.length), py = this.alloc(y.length);
    const h = this.heap();
    this.put(h, px, x);
    this.k.relu(px, py, x.length);
    this.get(h, py, y);
  }

  reluBackward(x: FArray, dy: FArray, dx: FArray): void {
    this.top = this.base;
    const px = this.alloc(x.length), pdy = this.alloc(dy.length), pdx = this.alloc(dx.length);
    const h = this.heap();
    this.put(h, px, x); this.put(h, pdy, dy);
    this.k.reluBackward(px, pdy, pdx, x.length);
    this.get(h, pdx, dx);
  }

  binary(kind: BinaryKind, a: FArray, b: FArray, y: FArray): void {
    this.top = this.base;
    const pa = this.alloc(a.length), pb = this.alloc(b.length), py = this.alloc(y.length);
    const h = this.heap();
    this.put(h, pa, a); this.put(h, pb, b);
    this.k.binary(pa, pb, py, y.length, BINARY[kind]);
    this.get(h, py, y);
  }

  adam(p: FArray, g: FArray, m: FArray, v: FArray, hp: AdamHyper): void {
    this.top = this.base;
    const n = p.length;
    const pp = this.alloc(n), pg = this.alloc(n), pm = this.alloc(n), pv = this.alloc(n);
    const h = this.heap();
    this.put(h, pp, p); this.put(h, pg, g); this.put(h, pm, m); this.put(h, pv, v);
    this.k.adam(pp, pg, pm, pv, n, hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.bc1, hp.bc2, +hp.decoupled);
    this.get(h, pp, p); this.get(h, pm, m); this.get(h, pv, v);
  }
}

/** Instantiate a non-shared kernel module (no threads). */
export async function loadWasmBackend(bytes: BufferSource): Promise<WasmBackend> {
  if (!WebAssembly.validate(bytes)) throw new Error('this WebAssembly engine cannot validate the SIMD128 kernels');
  const memory = new WebAssembly.Memory({ initial: 16 });
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => { throw new Error('wasm abort'); } } });
  const mem = (instance.exports.memory as WebAssembly.Memory | undefined) ?? memory;
  return new WasmBackend(instance.exports, mem, singleThread(instance.exports as Record<string, unknown>), { relaxed: false, shared: false });
}
