import type { FArray } from '../core/dtype.js';
import type { AdamHyper, Backend, BinaryKind, ConvGeom, Csr, PoolGeom, PoolMode } from './types.js';

import { singleThread, type Pool } from './threads.js';
import { persistentArray } from '../core/arena.js';

/** Exports of the kernel modules (built from assembly/ by `npm run build:wasm`). */
interface Kernels {
  heapBase(): number;
  gemmWorkBytes(): number;
  gemmSharedCtrlInts(N: number, K: number): number;
  gemmSharedPanelFloats(): number;
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
  tileAdd(a: number, b: number, y: number, reps: number, n: number): void;
  channelAffine(x: number, scale: number, shift: number, outer: number, C: number, inner: number, y: number, mode: number): void;
  bnStats(x: number, outer: number, C: number, inner: number, mean: number, variance: number): void;
  bnNormalize(x: number, outer: number, C: number, inner: number, mean: number, invStd: number, gamma: number, beta: number, xhat: number, y: number): void;
  bnGradSums(gy: number, xhat: number, outer: number, C: number, inner: number, sumG: number, sumGX: number): void;
  bnInputGrad(gy: number, xhat: number, outer: number, C: number, inner: number, k: number, mg: number, mgx: number, dx: number): void;
  sumTiles(g: number, reps: number, n: number, out: number): void;
  spmm(rowPtr: number, colIdx: number, vals: number, rows: number, X: number, n: number, Y: number): void;
  transpose(x: number, r: number, c: number, out: number): void;
  rfft(x: number, M: number, N: number, re: number, im: number, tw: number, sp: number, rev: number, work: number): void;
  irfft(re: number, im: number, M: number, N: number, x: number, tw: number, sp: number, rev: number, work: number): void;
  rfftPacked(x: number, M: number, N: number, RP: number, P: number, out: number, tw: number, sp: number, rev: number, work: number): void;
  irfftPacked(inp: number, M: number, N: number, RP: number, P: number, x: number, tw: number, sp: number, rev: number, work: number): void;
  fftWorkFloats(N: number): number;
  cbin(ar: number, ai: number, wr: number, wi: number, yr: number, yi: number, B: number, R: number, S: number, F: number, mode: number): void;
  circGemv(x: number, B: number, R: number, S: number, N: number, wr: number, wi: number, bias: number, y: number, tw: number, sp: number, rev: number, work: number): void;
  circGemvScratch(R: number, S: number, N: number): number;
  packSigns(x: number, M: number, K: number, out: number): void;
  packPatches(x: number, B: number, C: number, H: number, W: number, kh: number, kw: number, sh: number, sw: number, ph: number, pw: number,
    OH: number, OW: number, padBit: number, dense: number, pix: number, out: number): void;
  bgemm(A: number, B: number, Bp: number, M: number, N: number, K: number, Wk: number, C: number, pair: number): void;
  bgemmPanels(B: number, N: number, Wk: number, out: number): void;
  bgemmPanelBytes(N: number, Wk: number): number;
  bgemmPairBytes(Wk: number): number;
  jetTree(x: number, C: number, H: number, W: number, out: number, xs: number): void;
  convDirect(x: number, w: number, bias: number, B: number, C: number, H: number, W: number, Co: number, kh: number, kw: number,
    ph: number, pw: number, OH: number, OW: number, out: number, P: number): void;
  convDirectScratch(C: number, H: number, W: number, ph: number, pw: number): number;
  signPad(x: number, C: number, H: number, W: number, p: number, padValue: number, out: number): void;
}

/** Twiddle and bit-reversal tables of the real FFT of length N (see assembly/fft.ts), kept resident per N. */
interface FftTables { tw: Float32Array; sp: Float32Array; rev: Int32Array; keep: Float32Array }

function checkPacked(M: number, N: number, RP: number, P: number): void {
  if (!isPow2(N) || N < 2 || ![RP, P].every((v) => Number.isInteger(v) && v >= 1) || M % RP !== 0 || RP % P !== 0) {
    throw new Error(`packed FFT: N = ${N} must be a power of two ≥ 2, and P = ${P} must divide RP = ${RP}, which must divide M = ${M}`);
  }
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/**
 * GEMMs below this many flops stay on one thread: waking a worker costs more than it saves.
 * Measured here (square GEMMs, 2 threads vs 1, medians of 9): 0.5 MFLOP ×0.78, 1.8 MFLOP ×1.22,
 * 4.2 MFLOP ×0.97, 8.2 MFLOP ×1.34, 14 MFLOP ×1.47 — the crossover is near 4 MFLOP.
 */
export const THREAD_MIN_FLOPS = 1 << 22;
/** From this size on, threads share one packed copy of each B panel (gemmShared). */
export let SHARED_PANEL_MIN_FLOPS = 1 << 26;
/** For benchmarks: change the size from which gemmShared is used. */
export function setSharedPanelMinFlops(n: number): void { SHARED_PANEL_MIN_FLOPS = n; }
/** Batched FFTs below this many input values (M·N) stay on one thread (about 80 µs of work). */
export const FFT_THREAD_MIN = 1 << 15;
/** im2col matrices below this many elements are built on one thread. */
export const THREAD_MIN_COL = 1 << 18;
/**
 * Largest C·kh·kw run by the direct convolution instead of im2col + GEMM (stride 1, no
 * dilation, outputs at least 16 wide), from `node dist/bench/conv-direct.js` (3×3, 2 threads,
 * runs/bench-conv-direct.json): direct/im2col time at batch 64 was 0.44 (1→32 at 28²), 0.40
 * (3→16 at 32²), 0.47 (8→16), 0.44 (16→16), 0.74 (32→32: 288 taps) and 1.17 (64→64 at 14²: 576
 * taps); at batch 1 0.82–0.90 on 28² outputs but 1.27 on 13² (16→32), hence the width floor.
 */
export const DIRECT_MAX_TAPS = 288;
const unitStride = (g: ConvGeom): boolean => g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1;
function directConv(g: ConvGeom): boolean {
  return unitStride(g) && g.OW >= 16 && g.C * g.kh * g.kw <= DIRECT_MAX_TAPS;
}

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
  /** Start of the per-call scratch region: the end of the pooled arrays carved so far. */
  private poolTop: number;
  private top: number;
  private readonly workBytes: number;
  /** Byte offset of the shared task counter (16 bytes reserved at the heap base). */
  private readonly counter: number;
  /** The SharedArrayBuffers that have backed our memory: arrays on them are read in place. */
  private readonly ours = new WeakSet<ArrayBufferLike>();
  private readonly csrCache = new WeakMap<Csr, { rowPtr: Int32Array; colIdx: Int32Array; vals: FArray; ptrs: [number, number, number] }>();
  /**
   * Views of the whole memory and its size, renewed when ensure() grows it (nothing else does):
   * reading memory.buffer costs about 0.1 µs a time, which small calls felt several times over.
   */
  private f32v!: Float32Array;
  private i32v!: Int32Array;
  private bytes = 0;

  constructor(exports: WebAssembly.Exports, private readonly memory: WebAssembly.Memory, private pool: Pool, readonly features: { relaxed: boolean; shared: boolean }) {
    this.k = exports as unknown as Kernels;
    this.counter = this.k.heapBase();
    this.poolTop = this.counter + 16;
    this.top = this.poolTop;
    this.workBytes = this.k.gemmWorkBytes();
    this.name = `wasm-simd${features.relaxed ? '+relaxed' : ''}`;
    this.views();
  }

  private views(): void {
    const buf = this.memory.buffer;
    this.f32v = new Float32Array(buf);
    this.i32v = new Int32Array(buf);
    this.bytes = buf.byteLength;
  }

  /** Threads used by the kernels (1 = the calling thread only). */
  get threads(): number { return this.pool.threads; }

  /** Swap the thread pool (setThreads); the old one is closed. */
  setPool(pool: Pool): void { this.pool.close(); this.pool = pool; }

  /** Bytes of linear memory currently reserved (it only grows, to the largest need so far). */
  get memoryBytes(): number { return this.memory.buffer.byteLength; }

  private ensure(end: number): void {
    const need = end - this.bytes;
    if (need > 0) {
      this.memory.grow(Math.ceil(need / 65536));
      this.views();
    }
  }

  /**
   * A float32 array living in the shared memory, for the op buffer pool (core/arena.ts).
   * Only with shared memory: growing it does not detach existing views.
   */
  carve(n: number): Float32Array {
    if (!this.features.shared) throw new Error('carving arrays needs the shared-memory build');
    const p = this.poolTop;
    this.poolTop += (n * 4 + 15) & ~15;
    this.ensure(this.poolTop);
    const buf = this.memory.buffer;
    this.ours.add(buf);
    // The region may have been scratch space before: arrays are handed out zeroed.
    return new Float32Array(buf, p, n).fill(0);
  }

  /** Start a kernel call: scratch is reused from the end of the pooled arrays. */
  private begin(): void {
    this.top = this.poolTop;
  }

  private alloc(nFloats: number): number {
    const p = this.top;
    this.top += (nFloats * 4 + 15) & ~15;
    this.ensure(this.top);
    return p;
  }

  private isOurs(a: FArray): boolean {
    return this.ours.has(a.buffer);
  }

  /** Pointer to an input: in place when it lives in our memory, else a scratch copy. */
  private inPtr(a: FArray): number {
    f32(a);
    if (this.isOurs(a)) return a.byteOffset;
    const p = this.alloc(a.length);
    this.f32v.set(a as Float32Array, p >> 2);
    return p;
  }

  /** Pointer for an output: in place when it lives in our memory, else scratch (copied back by done()). */
  private outPtr(a: FArray): number {
    f32(a);
    return this.isOurs(a) ? a.byteOffset : this.alloc(a.length);
  }

  /**
   * Copy a scratch output back to its array (nothing to do when it was written in place).
   * Scratch starts at poolTop and every array of ours lies below it, so the pointer alone
   * tells: reading `a.buffer` costs about 0.06 µs, felt by calls of a few microseconds.
   */
  private done(a: FArray, p: number): void {
    if (p < this.poolTop) return;
    (a as Float32Array).set(this.f32v.subarray(p >> 2, (p >> 2) + a.length));
  }

  /** Packing space for every thread. */
  private allocWork(): number {
    return this.alloc((this.workBytes / 4) * this.pool.threads);
  }

  /** Run a `...Tasks` kernel on all threads, after resetting the shared counter. */
  private tasks(fn: string, args: number[]): void {
    this.i32v[this.counter >> 2] = 0;
    this.pool.run(fn, [this.counter, ...args]);
  }

  /** GEMM on pointers already in linear memory; threaded above THREAD_MIN_FLOPS. */
  private gemmPtr(ta: boolean, tb: boolean, M: number, N: number, K: number, A: number, B: number, C: number, acc: boolean, work: number): void {
    const lda = ta ? M : K, ldb = tb ? K : N;
    // M < 4 takes the packing-free small-M kernel, which is never split (same rounding at any thread count).
    if (this.pool.threads === 1 || 2 * M * N * K < THREAD_MIN_FLOPS || Math.max(M, N) < 16 || M < 4) {
      this.k.gemm(+ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work);
      return;
    }
    // Split the larger output dimension into about two chunks per thread (columns in
    // multiples of 8, rows of 4); a chunk never splits K, so results do not depend on threads.
    if (2 * M * N * K >= SHARED_PANEL_MIN_FLOPS && M >= 128) {
      // Large: the threads share each packed B panel and split A's row blocks.
      const ints = this.k.gemmSharedCtrlInts(N, K);
      const ctrl = this.alloc(ints), bp = this.alloc(this.k.gemmSharedPanelFloats());
      new Int32Array(this.memory.buffer, ctrl, ints).fill(0);
      this.pool.run('gemmShared', [ctrl, this.pool.threads, +ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, bp, work]);
      return;
    }
    const splitCols = N >= M;
    const unit = splitCols ? 8 : 4, extent = splitCols ? N : M;
    const chunk = Math.max(unit, Math.ceil(extent / (2 * this.pool.threads) / unit) * unit);
    this.tasks('gemmTasks', [+splitCols, chunk, +ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work]);
  }

  gemm(transA: boolean, transB: boolean, M: number, N: number, K: number, A: FArray, B: FArray, C: FArray, acc: boolean): void {
    this.begin();
    const a = A.length === M * K ? A : A.subarray(0, M * K), b = B.length === K * N ? B : B.subarray(0, K * N), c = C.length === M * N ? C : C.subarray(0, M * N);
    const pa = this.inPtr(a), pb = this.inPtr(b), pc = acc ? this.inPtr(c) : this.outPtr(c), work = this.allocWork();
    this.gemmPtr(transA, transB, M, N, K, pa, pb, pc, acc, work);
    this.done(c, pc);
  }

  /**
   * Products too small to split (gemmPtr's rule) run whole, one per task, on all threads when
   * together they repay waking them; otherwise one after another. Operands are copied in once.
   */
  gemmBatch(transA: boolean, transB: boolean, batch: number, M: number, N: number, K: number, A: FArray, B: FArray, C: FArray, sharedB: boolean): void {
    this.begin();
    const sa = M * K, sb = sharedB ? 0 : K * N, sc = M * N;
    const pa = this.inPtr(A.subarray(0, batch * sa)), pb = this.inPtr(B.subarray(0, sharedB ? K * N : batch * sb)), c = C.subarray(0, batch * sc), pc = this.outPtr(c), work = this.allocWork();
    const flops = 2 * M * N * K, whole = flops < THREAD_MIN_FLOPS || Math.max(M, N) < 16 || M < 4;
    if (this.pool.threads > 1 && batch > 1 && whole && flops * batch >= THREAD_MIN_FLOPS) {
      this.tasks('gemmBatchTasks', [batch, +transA, +transB, M, N, K, pa, sa, pb, sb, pc, 0, work]);
    } else {
      for (let i = 0; i < batch; i++) this.gemmPtr(transA, transB, M, N, K, pa + 4 * i * sa, pb + 4 * i * sb, pc + 4 * i * sc, false, work);
    }
    this.done(c, pc);
  }

  private geomArgs(g: ConvGeom): number[] {
    return [g.B, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW];
  }

  im2col(x: FArray, g: ConvGeom, col: FArray): void {
    this.begin();
    const px = this.inPtr(x), pc = this.outPtr(col);
    this.k.im2col(px, ...this.geomArgs(g), pc);
    this.done(col, pc);
  }

  col2im(col: FArray, g: ConvGeom, dx: FArray): void {
    this.begin();
    const pc = this.inPtr(col), pd = this.outPtr(dx);
    this.k.col2im(pc, ...this.geomArgs(g), pd);
    this.done(dx, pd);
  }

  /** im2col / col2im are split over threads only when big enough to repay waking them. */
  private threadedCol(g: ConvGeom): boolean {
    return this.pool.threads > 1 && g.C > 1 && g.C * g.kh * g.kw * g.B * g.OH * g.OW >= THREAD_MIN_COL;
  }

  private im2colPtr(px: number, g: ConvGeom, col: number): void {
    if (this.threadedCol(g)) this.tasks('im2colTasks', [px, ...this.geomArgs(g), col]);
    else this.k.im2col(px, ...this.geomArgs(g), col);
  }

  /** path: 'auto' picks the direct kernel for few taps (directConv); the others force one (bench/conv-direct). */
  conv2dForward(x: FArray, w: FArray, bias: FArray | null, g: ConvGeom, out: FArray, path: 'auto' | 'direct' | 'im2col' = 'auto'): void {
    if (path === 'direct' && !unitStride(g)) throw new Error('conv2dForward: the direct kernel needs stride 1 and no dilation');
    this.begin();
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw;
    const px = this.inPtr(x), pw = this.inPtr(w), pb = bias ? this.inPtr(bias) : 0;
    if (path === 'direct' || (path === 'auto' && directConv(g))) {
      const po = this.outPtr(out), per = this.k.convDirectScratch(g.C, g.H, g.W, g.ph, g.pw);
      const threads = this.pool.threads > 1 && 2 * g.B * g.Co * g.OH * g.OW * ckk >= THREAD_MIN_FLOPS ? this.pool.threads : 1;
      const args: Parameters<Kernels['convDirect']> = [px, pw, pb, g.B, g.C, g.H, g.W, g.Co, g.kh, g.kw, g.ph, g.pw, g.OH, g.OW, po, this.alloc(per * threads)];
      if (threads > 1) this.tasks('convDirectTasks', args); else this.k.convDirect(...args);
      this.done(out, po);
      return;
    }
    const po = this.outPtr(out), col = this.alloc(ckk * n), tmp = this.alloc(g.Co * n), work = this.allocWork();
    this.im2colPtr(px, g, col);
    this.gemmPtr(false, false, g.Co, n, ckk, pw, col, tmp, false, work);
    this.k.swap01(tmp, g.Co, g.B, g.OH * g.OW, po, pb);
    this.done(out, po);
  }

  /**
   * binConv2d's bins on threads, one bin per task (each bin on one thread, with the kernel
   * conv2dForward would pick for it): small bins no longer run one after another, and big ones
   * skip the GEMM's split, which gains little on these shapes (×1.1–1.2 from a second thread on
   * 3–8 MFLOP conv GEMMs here). One thread, one bin, or less work in all than repays waking a
   * thread (THREAD_MIN_FLOPS) go bin by bin through conv2dForward.
   */
  binConv2dForward(x: FArray, w: FArray, g: ConvGeom, bins: number, out: FArray): void {
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw, xs = x.length / bins, ws = w.length / bins, ys = out.length / bins;
    if (this.pool.threads === 1 || bins < 2 || 2 * g.Co * n * ckk * bins < THREAD_MIN_FLOPS) {
      for (let h = 0; h < bins; h++) this.conv2dForward(x.subarray(h * xs, (h + 1) * xs), w.subarray(h * ws, (h + 1) * ws), null, g, out.subarray(h * ys, (h + 1) * ys));
      return;
    }
    this.begin();
    const px = this.inPtr(x), pw = this.inPtr(w), po = this.outPtr(out), direct = directConv(g);
    const per = direct ? this.k.convDirectScratch(g.C, g.H, g.W, g.ph, g.pw) : ckk * n + g.Co * n;
    this.tasks('binConvTasks', [bins, +direct, px, pw, ...this.geomArgs(g).slice(0, 4), g.Co, ...this.geomArgs(g).slice(4), po, this.alloc(per * this.pool.threads), this.allocWork()]);
    this.done(out, po);
  }

  conv2dBackward(x: FArray, w: FArray, dy: FArray, g: ConvGeom, dw: FArray, db: FArray | null, dx: FArray | null): void {
    this.begin();
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw;
    const px = this.inPtr(x), pw = this.inPtr(w), pdy = this.inPtr(dy);
    const pdx = dx ? this.outPtr(dx) : 0, pdw = this.outPtr(dw), pdb = db ? this.outPtr(db) : 0;
    const col = this.alloc(ckk * n), dyT = this.alloc(g.Co * n), work = this.allocWork();
    this.k.swap01(pdy, g.B, g.Co, g.OH * g.OW, dyT, 0);
    if (db) this.k.rowSums(dyT, g.Co, n, pdb);
    this.im2colPtr(px, g, col);
    this.gemmPtr(false, true, g.Co, ckk, n, dyT, col, pdw, false, work);
    if (dx) {
      this.gemmPtr(true, false, ckk, n, g.Co, pw, dyT, col, false, work);
      if (this.threadedCol(g)) this.tasks('col2imTasks', [col, ...this.geomArgs(g), pdx]);
      else this.k.col2im(col, ...this.geomArgs(g), pdx);
    }
    this.done(dw, pdw);
    if (db) this.done(db, pdb);
    if (dx) this.done(dx, pdx);
  }

  pool2dForward(x: FArray, g: PoolGeom, mode: PoolMode, out: FArray): void {
    this.begin();
    const px = this.inPtr(x), po = this.outPtr(out);
    this.k.pool2dForward(px, g.P, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, mode === 'max' ? 0 : 1, po);
    this.done(out, po);
  }

  pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, dx: FArray): void {
    this.begin();
    const px = this.inPtr(x), pdy = this.inPtr(dy), pdx = this.outPtr(dx);
    this.k.pool2dBackward(px, g.P, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, mode === 'max' ? 0 : 1, pdy, pdx);
    this.done(dx, pdx);
  }

  relu(x: FArray, y: FArray): void {
    this.begin();
    const px = this.inPtr(x), py = this.outPtr(y);
    this.k.relu(px, py, x.length);
    this.done(y, py);
  }

  reluBackward(x: FArray, dy: FArray, dx: FArray): void {
    this.begin();
    const px = this.inPtr(x), pdy = this.inPtr(dy), pdx = this.outPtr(dx);
    this.k.reluBackward(px, pdy, pdx, x.length);
    this.done(dx, pdx);
  }

  binary(kind: BinaryKind, a: FArray, b: FArray, y: FArray): void {
    this.begin();
    const pa = this.inPtr(a), pb = this.inPtr(b), py = this.outPtr(y);
    this.k.binary(pa, pb, py, y.length, BINARY[kind]);
    this.done(y, py);
  }

  channelAffine(x: FArray, scale: FArray | null, shift: FArray | null, outer: number, inner: number, y: FArray): void {
    this.begin();
    const C = (scale ?? shift)!.length;
    const px = this.inPtr(x), ps = scale ? this.inPtr(scale) : 0, pt = shift ? this.inPtr(shift) : 0, py = this.outPtr(y);
    this.k.channelAffine(px, ps, pt, outer, C, inner, py, scale && shift ? 0 : scale ? 1 : 2);
    this.done(y, py);
  }

  bnStats(x: FArray, outer: number, inner: number, mean: FArray, variance: FArray): void {
    this.begin();
    const px = this.inPtr(x), pm = this.outPtr(mean), pv = this.outPtr(variance);
    this.k.bnStats(px, outer, mean.length, inner, pm, pv);
    this.done(mean, pm); this.done(variance, pv);
  }

  bnNormalize(x: FArray, outer: number, inner: number, mean: FArray, invStd: FArray, gamma: FArray, beta: FArray, xhat: FArray | null, y: FArray): void {
    this.begin();
    const px = this.inPtr(x), pm = this.inPtr(mean), pi = this.inPtr(invStd), pg = this.inPtr(gamma), pb = this.inPtr(beta);
    const ph = xhat ? this.outPtr(xhat) : 0, py = this.outPtr(y);
    this.k.bnNormalize(px, outer, mean.length, inner, pm, pi, pg, pb, ph, py);
    if (xhat) this.done(xhat, ph);
    this.done(y, py);
  }

  bnGradSums(gy: FArray, xhat: FArray, outer: number, inner: number, sumG: FArray, sumGX: FArray): void {
    this.begin();
    const pg = this.inPtr(gy), ph = this.inPtr(xhat), ps = this.outPtr(sumG), px = this.outPtr(sumGX);
    this.k.bnGradSums(pg, ph, outer, sumG.length, inner, ps, px);
    this.done(sumG, ps); this.done(sumGX, px);
  }

  bnInputGrad(gy: FArray, xhat: FArray, outer: number, inner: number, k: FArray, mg: FArray, mgx: FArray, dx: FArray): void {
    this.begin();
    const pg = this.inPtr(gy), ph = this.inPtr(xhat), pk = this.inPtr(k), pa = this.inPtr(mg), pb = this.inPtr(mgx), pd = this.outPtr(dx);
    this.k.bnInputGrad(pg, ph, outer, k.length, inner, pk, pa, pb, pd);
    this.done(dx, pd);
  }

  tileAdd(a: FArray, b: FArray, y: FArray): void {
    this.begin();
    const pa = this.inPtr(a), pb = this.inPtr(b), py = this.outPtr(y);
    this.k.tileAdd(pa, pb, py, y.length / b.length, b.length);
    this.done(y, py);
  }

  sumTiles(g: FArray, out: FArray): void {
    this.begin();
    const pg = this.inPtr(g), po = this.outPtr(out);
    this.k.sumTiles(pg, g.length / out.length, out.length, po);
    this.done(out, po);
  }

  private readonly fftTables = new Map<number, FftTables>();

  private tablesFor(N: number): FftTables {
    if (!isPow2(N)) throw new Error(`FFT length must be 1 or a power of two, got ${N}`);
    let t = this.fftTables.get(N);
    if (t) return t;
    const L = Math.max(1, N >> 1), bits = Math.log2(L);
    const tw = persistentArray(Math.max(4, 2 * (L - 1))), sp = persistentArray(Math.max(4, 2 * L)), keep = persistentArray(Math.max(4, L));
    let o = 0;
    for (let h = 1; h < L; h <<= 1) {
      for (let j = 0; j < h; j++) { tw[o + j] = Math.cos((-Math.PI * j) / h); tw[o + h + j] = Math.sin((-Math.PI * j) / h); }
      o += 2 * h;
    }
    for (let k = 0; k < L; k++) { sp[k] = Math.cos((-2 * Math.PI * k) / N); sp[L + k] = Math.sin((-2 * Math.PI * k) / N); }
    const rev = new Int32Array(keep.buffer, keep.byteOffset, L);
    for (let i = 0; i < L; i++) { let r = 0; for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b); rev[i] = r; }
    t = { tw, sp, rev, keep };
    this.fftTables.set(N, t);
    return t;
  }

  /** Start an FFT call: pointers to the length-N tables and to scratch space. */
  private fftArgs(N: number): [number, number, number, number] {
    const t = this.tablesFor(N);
    this.begin();
    // Scratch per thread (assembly/fft.ts, fftWorkFloats).
    return [this.inPtr(t.tw), this.inPtr(t.sp), this.intPtr(t.rev), this.alloc(this.k.fftWorkFloats(N) * this.pool.threads)];
  }

  /**
   * Units per task when M FFTs of length N are split over threads (vectors in multiples of 4,
   * of 16 for packed spectra with RP a multiple of 16, which the kernel writes sixteen at a
   * time; or groups of P), or 0 for one thread.
   */
  private fftChunk(M: number, N: number, P = 1, RP = 0): number {
    if (this.pool.threads === 1 || M * N < FFT_THREAD_MIN || M < 8) return 0;
    if (P > 1) return Math.max(1, Math.ceil(M / P / (4 * this.pool.threads)));
    const unit = RP > 0 && RP % 16 === 0 ? 16 : 4;
    return Math.max(unit, Math.ceil(M / (4 * this.pool.threads) / unit) * unit);
  }

  rfft(x: FArray, M: number, N: number, re: FArray, im: FArray): void {
    const tables = this.fftArgs(N);
    const px = this.inPtr(x), pr = this.outPtr(re), pi = this.outPtr(im), chunk = this.fftChunk(M, N);
    if (chunk) this.tasks('fftTasks', [chunk, 1, px, M, N, pr, pi, 0, 1, ...tables]); else this.k.rfft(px, M, N, pr, pi, ...tables);
    this.done(re, pr); this.done(im, pi);
  }

  irfft(re: FArray, im: FArray, M: number, N: number, x: FArray): void {
    const tables = this.fftArgs(N);
    const pr = this.inPtr(re), pi = this.inPtr(im), px = this.outPtr(x), chunk = this.fftChunk(M, N);
    if (chunk) this.tasks('fftTasks', [chunk, 0, px, M, N, pr, pi, 0, 1, ...tables]); else this.k.irfft(pr, pi, M, N, px, ...tables);
    this.done(x, px);
  }

  rfftPacked(x: FArray, M: number, N: number, RP: number, out: FArray, P = 1): void {
    checkPacked(M, N, RP, P);
    const tables = this.fftArgs(N);
    const px = this.inPtr(x), po = this.outPtr(out), chunk = this.fftChunk(M, N, P, RP);
    if (chunk) this.tasks('fftTasks', [chunk, 1, px, M, N, po, 0, RP, P, ...tables]); else this.k.rfftPacked(px, M, N, RP, P, po, ...tables);
    this.done(out, po);
  }

  irfftPacked(packed: FArray, M: number, N: number, RP: number, x: FArray, P = 1): void {
    checkPacked(M, N, RP, P);
    const tables = this.fftArgs(N);
    const pp = this.inPtr(packed), px = this.outPtr(x), chunk = this.fftChunk(M, N, P, RP);
    if (chunk) this.tasks('fftTasks', [chunk, 0, px, M, N, pp, 0, RP, P, ...tables]); else this.k.irfftPacked(pp, M, N, RP, P, px, ...tables);
    this.done(x, px);
  }

  cbin(a: [FArray, FArray], w: [FArray, FArray], y: [FArray, FArray], B: number, R: number, S: number, F: number, mode: 0 | 1 | 2): void {
    this.begin();
    const pa = a.map((t) => this.inPtr(t)), pw = w.map((t) => this.inPtr(t)), py = y.map((t) => this.outPtr(t));
    this.k.cbin(pa[0], pa[1], pw[0], pw[1], py[0], py[1], B, R, S, F, mode);
    this.done(y[0], py[0]); this.done(y[1], py[1]);
  }

  circGemv(x: FArray, B: number, R: number, S: number, N: number, wt: FArray, bias: FArray | null, y: FArray): void {
    const t = this.tablesFor(N);
    this.begin();
    const F = (N >> 1) + 1, px = this.inPtr(x), pw = this.inPtr(wt), pb = bias ? this.inPtr(bias) : 0, py = this.outPtr(y);
    const tables = [this.inPtr(t.tw), this.inPtr(t.sp), this.intPtr(t.rev)] as const;
    this.k.circGemv(px, B, R, S, N, pw, pw + 4 * F * R * S, pb, py, ...tables, this.alloc(this.k.circGemvScratch(R, S, N)));
    this.done(y, py);
  }

  packSigns(x: FArray, M: number, K: number, out: Int32Array): void {
    this.begin();
    const px = this.inPtr(x), po = this.intOutPtr(out);
    // Rows split over threads from 2^20 values (a resident 1024² operand: 0.15–0.24 ms on one thread, 0.10–0.14 ms on two here).
    if (this.pool.threads > 1 && M * K >= 1 << 20 && M >= 8) {
      const chunk = Math.ceil(M / (4 * this.pool.threads));
      this.tasks('packSignsTasks', [chunk, px, M, K, po]);
    } else this.k.packSigns(px, M, K, po);
    this.intDone(out, po);
  }

  packPatches(x: FArray, g: ConvGeom, padValue: 1 | -1, out: Int32Array, dense = false): void {
    if (g.dh !== 1 || g.dw !== 1) throw new Error('packPatches: dilation must be 1');
    if (dense && g.C >= 64) throw new Error(`packPatches: the dense layout is for fewer than 64 channels, got ${g.C}`);
    this.begin();
    const px = this.inPtr(x), po = this.intOutPtr(out), pix = this.alloc(g.B * g.H * g.W * 2 * Math.ceil(g.C / 64));
    this.k.packPatches(px, g.B, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, padValue > 0 ? 1 : 0, +dense, pix, po);
    this.intDone(out, po);
  }

  bgemm(A: Int32Array, B: Int32Array, M: number, N: number, K: number, C: Int32Array, rowWords = Math.ceil(K / 64)): void {
    if (rowWords < Math.ceil(K / 64)) throw new Error(`bgemm: ${rowWords} words cannot hold ${K} bits`);
    this.begin();
    const pa = this.intPtr(A), pb = this.intPtr(B), pc = this.intOutPtr(C);
    // B's rows as panels of interleaved rows (bgemmPanels: a copy of B, small beside the product).
    const panels = this.alloc(this.k.bgemmPanelBytes(N, rowWords) / 4), pairBytes = this.k.bgemmPairBytes(rowWords);
    this.k.bgemmPanels(pb, N, rowWords, panels);
    // Rows split over threads in even chunks when the work (M·N·K bit operations) repays waking them.
    if (this.pool.threads > 1 && M * N * K >= 4 * THREAD_MIN_FLOPS && M >= 4) {
      const chunk = Math.max(2, Math.ceil(M / (4 * this.pool.threads) / 2) * 2);
      const pair = this.alloc((pairBytes / 4) * this.pool.threads);
      this.tasks('bgemmTasks', [chunk, pa, pb, panels, M, N, K, rowWords, pc, pair]);
    } else this.k.bgemm(pa, pb, panels, M, N, K, rowWords, pc, this.alloc(pairBytes / 4));
    this.intDone(C, pc);
  }

  signPad(x: FArray, C: number, H: number, W: number, p: number, padValue: 1 | -1, out: FArray): void {
    this.begin();
    const px = this.inPtr(x), po = this.outPtr(out);
    this.k.signPad(px, C, H, W, p, padValue, po);
    this.done(out, po);
  }

  jetTree(x: FArray, C: number, H: number, W: number, out: FArray): void {
    if (H < 3 || W < 3) throw new Error(`jetTree: the map must be at least 3×3, got ${H}×${W}`);
    this.begin();
    const px = this.inPtr(x), po = this.outPtr(out), xs = this.alloc(3 * H * (W - 2));
    this.k.jetTree(px, C, H, W, po, xs);
    this.done(out, po);
  }

  private intOutPtr(a: Int32Array): number {
    return this.ours.has(a.buffer) ? a.byteOffset : this.alloc(a.length);
  }

  private intDone(a: Int32Array, p: number): void {
    if (p < this.poolTop) return;
    a.set(this.i32v.subarray(p >> 2, (p >> 2) + a.length));
  }

  /** Pointer to an index array: in place when it lives in our memory, else a scratch copy. */
  private intPtr(a: Int32Array): number {
    if (this.ours.has(a.buffer)) return a.byteOffset;
    const p = this.alloc(a.length);
    this.i32v.set(a, p >> 2);
    return p;
  }

  /**
   * Pointers of a CSR operand's arrays, remembered per operand when all three live in our
   * memory (as a SparseLinear's weights do): they never move, and looking them up each call
   * cost about a third of a 90%-sparse batch-1 head product.
   */
  private csrPtrs(s: Csr): [number, number, number] {
    const c = this.csrCache.get(s);
    if (c && c.rowPtr === s.rowPtr && c.colIdx === s.colIdx && c.vals === s.vals) return c.ptrs;
    const ptrs: [number, number, number] = [this.intPtr(s.rowPtr), this.intPtr(s.colIdx), this.inPtr(s.vals)];
    if (ptrs.every((p) => p < this.poolTop)) this.csrCache.set(s, { rowPtr: s.rowPtr, colIdx: s.colIdx, vals: s.vals, ptrs });
    return ptrs;
  }

  /** CSR product on pointers; rows split over threads when the work repays waking them. */
  private spmmPtr(s: Csr, X: number, n: number, Y: number): void {
    const [rp, ci, pv] = this.csrPtrs(s);
    if (this.pool.threads > 1 && 2 * s.vals.length * n >= THREAD_MIN_FLOPS && s.rows >= 8) {
      const chunk = Math.max(1, Math.ceil(s.rows / (4 * this.pool.threads)));
      this.tasks('spmmTasks', [chunk, rp, ci, pv, s.rows, X, n, Y]);
    } else this.k.spmm(rp, ci, pv, s.rows, X, n, Y);
  }

  spmm(s: Csr, X: FArray, n: number, Y: FArray): void {
    this.begin();
    const px = this.inPtr(X), py = this.outPtr(Y);
    this.spmmPtr(s, px, n, py);
    this.done(Y, py);
  }

  transpose(x: FArray, r: number, c: number, out: FArray): void {
    this.begin();
    const px = this.inPtr(x), po = this.outPtr(out);
    this.k.transpose(px, r, c, po);
    this.done(out, po);
  }

  conv2dSparse(x: FArray, w: Csr, bias: FArray | null, g: ConvGeom, out: FArray): void {
    const n = g.B * g.OH * g.OW, ckk = g.C * g.kh * g.kw;
    if (w.rows !== g.Co || w.cols !== ckk) throw new Error(`conv2dSparse: CSR weight is ${w.rows}×${w.cols}, expected ${g.Co}×${ckk}`);
    this.begin();
    const px = this.inPtr(x), pb = bias ? this.inPtr(bias) : 0;
    const po = this.outPtr(out), col = this.alloc(ckk * n), tmp = this.alloc(g.Co * n);
    this.im2colPtr(px, g, col);
    this.spmmPtr(w, col, n, tmp);
    this.k.swap01(tmp, g.Co, g.B, g.OH * g.OW, po, pb);
    this.done(out, po);
  }

  adam(p: FArray, g: FArray, m: FArray, v: FArray, hp: AdamHyper): void {
    this.begin();
    const pp = this.inPtr(p), pg = this.inPtr(g), pm = this.inPtr(m), pv = this.inPtr(v);
    this.k.adam(pp, pg, pm, pv, p.length, hp.lr, hp.beta1, hp.beta2, hp.eps, hp.weightDecay, hp.bc1, hp.bc2, +hp.decoupled);
    this.done(p, pp); this.done(m, pm); this.done(v, pv);
  }
}

/** Instantiate a non-shared kernel module (no threads). */
export async function loadWasmBackend(bytes: BufferSource): Promise<WasmBackend> {
  if (!WebAssembly.validate(bytes)) throw new Error('this WebAssembly engine cannot validate the SIMD128 kernels');
  const { instance } = await WebAssembly.instantiate(bytes, { env: { abort: () => { throw new Error('wasm abort'); } } });
  // The single-threaded build owns (exports) its memory; growing it detaches views, so no arrays are carved from it.
  return new WasmBackend(instance.exports, instance.exports.memory as WebAssembly.Memory, singleThread(instance.exports as Record<string, unknown>), { relaxed: false, shared: false });
}
