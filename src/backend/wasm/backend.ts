// The core kernels' WebAssembly wrappers: the Backend interface over the module's exports.
// Memory and scratch are the runtime's (runtime.ts), split thresholds the policy's (policy.ts);
// technique kernel families build on the same runtime from their own folders.
import type { FArray } from '../../core/dtype.js';
import type { AdamHyper, Backend, BinaryKind, ConvEpilogue, ConvGeom, PoolGeom, PoolMode } from '../types.js';
import { singleThread, type Pool } from '../threads.js';
import { WasmRuntime } from './runtime.js';
import {
  PACKED_MIN_TAPS,
  SHARED_PANEL_MIN_FLOPS,
  SPLIT_K_CHUNK,
  THREAD_MIN_FLOPS,
  THREAD_MIN_SWAP,
  directConv,
  chanConv,
  geomArgs,
  splitK,
  threadedCol,
  unitStride,
} from './policy.js';

/** Exports of the kernel module used by the core kernels (built from assembly/ by `npm run build:wasm`). */
interface Kernels {
  heapBase(): number;
  gemmWorkBytes(): number;
  gemmSharedCtrlInts(N: number, K: number): number;
  gemmSharedPanelFloats(): number;
  padPlanes(x: number, P: number, H: number, W: number, ph: number, pw: number, out: number): void;
  gemmTasks(...counterArgsTid: number[]): void;
  gemmSplitKTasks(...counterArgsTid: number[]): void;
  gemm(
    ta: number,
    tb: number,
    M: number,
    N: number,
    K: number,
    A: number,
    lda: number,
    B: number,
    ldb: number,
    C: number,
    ldc: number,
    acc: number,
    work: number,
  ): void;
  im2col(x: number, ...g: number[]): void;
  col2im(col: number, ...g: number[]): void;
  swap01(inp: number, A: number, B: number, L: number, out: number, bias: number, relu: number): void;
  swap01ReluPool(inp: number, A: number, B: number, OH: number, OW: number, out: number, bias: number, Q: number): void;
  rowSums(m: number, R: number, n: number, out: number): void;
  /** x, then poolArgs (geometry and mode), then out. */
  pool2dForward(x: number, ...geomModeOut: number[]): void;
  /** x, then poolArgs, then dy and dx. */
  pool2dBackward(x: number, ...geomModeDyDx: number[]): void;
  relu(x: number, y: number, n: number): void;
  reluBackward(x: number, dy: number, dx: number, n: number): void;
  binary(a: number, b: number, y: number, n: number, op: number): void;
  adam(
    p: number,
    g: number,
    m: number,
    v: number,
    n: number,
    lr: number,
    b1: number,
    b2: number,
    eps: number,
    wd: number,
    bc1: number,
    bc2: number,
    decoupled: number,
  ): void;
  tileAdd(a: number, b: number, y: number, reps: number, n: number, relu: number): void;
  channelAffine(
    x: number,
    scale: number,
    shift: number,
    outer: number,
    C: number,
    inner: number,
    y: number,
    mode: number,
  ): void;
  bnStats(x: number, outer: number, C: number, inner: number, mean: number, variance: number): void;
  bnNormalize(
    x: number,
    outer: number,
    C: number,
    inner: number,
    mean: number,
    invStd: number,
    gamma: number,
    beta: number,
    xhat: number,
    y: number,
  ): void;
  bnGradSums(gy: number, xhat: number, outer: number, C: number, inner: number, sumG: number, sumGX: number): void;
  bnInputGrad(
    gy: number,
    xhat: number,
    outer: number,
    C: number,
    inner: number,
    k: number,
    mg: number,
    mgx: number,
    dx: number,
  ): void;
  sumTiles(g: number, reps: number, n: number, out: number): void;
  transpose(x: number, r: number, c: number, out: number): void;
  convDirect(
    x: number,
    w: number,
    bias: number,
    B: number,
    C: number,
    H: number,
    W: number,
    Co: number,
    kh: number,
    kw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    out: number,
    P: number,
    relu: number,
    pool: number,
  ): void;
  convDirectScratch(C: number, H: number, W: number, ph: number, pw: number): number;
  chanPackFloats(Co: number, taps: number): number;
  chanPack(w: number, bias: number, Co: number, taps: number, out: number): void;
  convChanTasks(
    counter: number,
    x: number,
    pk: number,
    B: number,
    C: number,
    H: number,
    W: number,
    Co: number,
    kh: number,
    kw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    out: number,
    P: number,
    relu: number,
    pool: number,
    tid: number,
  ): void;
  chanScratch(
    C: number,
    H: number,
    W: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    pool: number,
    kh: number,
    kw: number,
  ): number;
  directScratch(C: number, H: number, W: number, ph: number, pw: number, OH: number, OW: number, pool: number): number;
}

const BINARY: Record<BinaryKind, number> = { add: 0, sub: 1, mul: 2, div: 3 };

/**
 * WebAssembly SIMD128 backend. Each call copies its inputs into linear memory with a
 * bump allocator (reset per call), runs the kernel and copies results out; the copy is
 * a memcpy, small next to the arithmetic of the kernels routed here.
 */
export class WasmBackend implements Backend {
  readonly name: string;
  private readonly k: Kernels;
  /** Memory, scratch and threads, shared with the techniques' kernel families (internal API). */
  readonly runtime: WasmRuntime;
  private readonly rt: WasmRuntime;

  constructor(
    exports: WebAssembly.Exports,
    memory: WebAssembly.Memory,
    pool: Pool,
    readonly features: { relaxed: boolean; shared: boolean },
  ) {
    this.k = exports as unknown as Kernels;
    this.rt = this.runtime = new WasmRuntime(exports, memory, pool, features.shared);
    this.name = `wasm-simd${features.relaxed ? '+relaxed' : ''}`;
  }

  /** Threads used by the kernels (1 = the calling thread only). */
  get threads(): number {
    return this.rt.pool.threads;
  }

  /** Swap the thread pool (setThreads); the old one is closed. */
  setPool(pool: Pool): void {
    this.rt.pool.close();
    this.rt.pool = pool;
    this.rt.begin(); // the thread count of the new pool, before any call reads it
    this.rt.calls = this.rt.soloCalls = 0; // threadUse() speaks of this pool; that begin() was no kernel call
  }

  /** Bytes of linear memory currently reserved (it only grows, to the largest need so far). */
  get memoryBytes(): number {
    return this.rt.memory.buffer.byteLength;
  }

  /** A float32 array in the shared memory, for the op buffer pool (see WasmRuntime.carve). */
  carve(n: number): Float32Array {
    return this.rt.carve(n);
  }

  /** Whether a released region holds carve(n) (see WasmRuntime.fits). */
  fits(n: number): boolean {
    return this.rt.fits(n);
  }

  /** Give a carved array's region back for later carves (see WasmRuntime.release). */
  release(a: Float32Array): void {
    this.rt.release(a);
  }

  /**
   * GEMM on pointers already in linear memory; threaded above THREAD_MIN_FLOPS. For kernel families too.
   * With `geo` (convGeo's pointer) B is a convolution's input image and op(B) its im2col matrix, never
   * written out (colpack.ts); ta and tb must then be false, and columns are split over threads.
   */
  gemmPtr(
    ta: boolean,
    tb: boolean,
    M: number,
    N: number,
    K: number,
    A: number,
    B: number,
    C: number,
    acc: boolean,
    work: number,
    geo = 0,
  ): void {
    const lda = ta ? M : K,
      ldb = tb ? K : N;
    if (!geo && splitK(M, N, K)) {
      // Fixed chunks of K into partial products, summed in chunk order (slot 0: C when accumulating, else
      // zeros): the same bits at any thread count.
      const mn = M * N,
        chunks = Math.ceil(K / SPLIT_K_CHUNK),
        P = this.rt.alloc((chunks + 1) * mn);
      const f = new Float32Array(this.rt.memory.buffer);
      if (acc) f.copyWithin(P >>> 2, C >>> 2, (C >>> 2) + mn);
      else f.fill(0, P >>> 2, (P >>> 2) + mn);
      const args = [SPLIT_K_CHUNK, +ta, +tb, M, N, K, A, lda, B, ldb, P + 4 * mn, work];
      // Too small to repay waking the workers: the same chunks on this thread (the same bits).
      if (this.rt.threads === 1 || 2 * M * N * K < THREAD_MIN_FLOPS) this.rt.tasksHere(this.k.gemmSplitKTasks, args);
      else this.rt.tasks('gemmSplitKTasks', args);
      this.k.sumTiles(P, chunks + 1, mn, C);
      return;
    }
    // M < 4 takes the packing-free small-M kernel, never split by rows or columns (same rounding at any thread
    // count; a long K is cut as above whatever the thread count).
    if (this.rt.threads === 1 || 2 * M * N * K < THREAD_MIN_FLOPS || Math.max(M, N) < 16 || M < 4) {
      // A convolution: one chunk of every column (gemm's small-M path has no packing to take the image from).
      if (geo) this.rt.tasksHere(this.k.gemmTasks, [1, N, 0, 0, M, N, K, A, lda, B, ldb, C, N, 0, work, geo]);
      else this.k.gemm(+ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work);
      return;
    }
    // Split the larger output dimension into about two chunks per thread (columns in
    // multiples of 8, rows of 4); a chunk never splits K, so results do not depend on threads.
    if (2 * M * N * K >= SHARED_PANEL_MIN_FLOPS && M >= 128) {
      // Large: the threads share each packed B panel and split A's row blocks.
      const ints = this.k.gemmSharedCtrlInts(N, K);
      const ctrl = this.rt.alloc(ints),
        bp = this.rt.alloc(this.k.gemmSharedPanelFloats());
      new Int32Array(this.rt.memory.buffer, ctrl, ints).fill(0);
      const args = [ctrl, this.rt.threads, +ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, bp, work, geo];
      this.rt.pool.run('gemmShared', args);
      return;
    }
    // A convolution's columns are its output pixels: split them, so each image panel is packed once.
    const splitCols = geo !== 0 || N >= M;
    const unit = splitCols ? 8 : 4,
      extent = splitCols ? N : M;
    const chunk = Math.max(unit, Math.ceil(extent / (2 * this.rt.threads) / unit) * unit);
    this.rt.tasks('gemmTasks', [+splitCols, chunk, +ta, +tb, M, N, K, A, lda, B, ldb, C, N, +acc, work, geo]);
  }

  gemm(
    transA: boolean,
    transB: boolean,
    M: number,
    N: number,
    K: number,
    A: FArray,
    B: FArray,
    C: FArray,
    acc: boolean,
  ): void {
    this.rt.begin();
    const a = A.length === M * K ? A : A.subarray(0, M * K),
      b = B.length === K * N ? B : B.subarray(0, K * N),
      c = C.length === M * N ? C : C.subarray(0, M * N);
    const pa = this.rt.inPtr(a),
      pb = this.rt.inPtr(b),
      pc = acc ? this.rt.inPtr(c) : this.rt.outPtr(c),
      work = this.rt.allocWork();
    this.gemmPtr(transA, transB, M, N, K, pa, pb, pc, acc, work);
    this.rt.done(c, pc);
  }

  /**
   * Products too small to split (gemmPtr's rule) run whole, one per task, on all threads when
   * together they repay waking them; otherwise one after another, as are products whose K gemmPtr
   * cuts into chunks (so each equals gemm() on its slabs at any thread count). Operands are copied in once.
   */
  gemmBatch(
    transA: boolean,
    transB: boolean,
    batch: number,
    M: number,
    N: number,
    K: number,
    A: FArray,
    B: FArray,
    C: FArray,
    sharedB: boolean,
  ): void {
    this.rt.begin();
    const sa = M * K,
      sb = sharedB ? 0 : K * N,
      sc = M * N;
    const pa = this.rt.inPtr(A.subarray(0, batch * sa)),
      pb = this.rt.inPtr(B.subarray(0, sharedB ? K * N : batch * sb)),
      c = C.subarray(0, batch * sc),
      pc = this.rt.outPtr(c),
      work = this.rt.allocWork();
    const flops = 2 * M * N * K,
      whole = (flops < THREAD_MIN_FLOPS || Math.max(M, N) < 16 || M < 4) && !splitK(M, N, K);
    if (this.rt.threads > 1 && batch > 1 && whole && flops * batch >= THREAD_MIN_FLOPS) {
      this.rt.tasks('gemmBatchTasks', [batch, +transA, +transB, M, N, K, pa, sa, pb, sb, pc, 0, work]);
    } else {
      for (let i = 0; i < batch; i++)
        this.gemmPtr(transA, transB, M, N, K, pa + 4 * i * sa, pb + 4 * i * sb, pc + 4 * i * sc, false, work);
    }
    this.rt.done(c, pc);
  }

  im2col(x: FArray, g: ConvGeom, col: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pc = this.rt.outPtr(col);
    this.k.im2col(px, ...geomArgs(g), pc);
    this.rt.done(col, pc);
  }

  col2im(col: FArray, g: ConvGeom, dx: FArray): void {
    this.rt.begin();
    const pc = this.rt.inPtr(col),
      pd = this.rt.outPtr(dx);
    this.k.col2im(pc, ...geomArgs(g), pd);
    this.rt.done(dx, pd);
  }

  /** im2col on pointers already in linear memory (threaded when large); for kernel families too. */
  im2colPtr(px: number, g: ConvGeom, col: number): void {
    if (threadedCol(g, this.rt.threads)) this.rt.tasks('im2colTasks', [px, ...geomArgs(g), col]);
    else this.k.im2col(px, ...geomArgs(g), col);
  }

  /**
   * path: 'auto' picks the direct kernel vectorized across output channels where it was measured fastest
   * (chanConv: 'chan', the same bits as 'direct' but for its rows narrower than 4), else the one vectorized
   * across pixels for few taps (directConv: 'direct'), else the GEMM whose B panels are packed from the image
   * ('packed'; im2col's matrix is never written); 'im2col' writes it first, as before (bit-identical to
   * 'packed' unless K = C·kh·kw ≥ 16,384 with few outputs, which gemmPtr cuts into chunks; kept for benchmarks
   * and tests). The others force one (bench/conv-direct).
   * The epilogue's relu is applied where the output is stored: the direct kernel's stores, or swap01; its pooling
   * from a plane of scratch in cache (per group of four or eight channels, or per plane in swap01ReluPool).
   */
  conv2dForward(
    x: FArray,
    w: FArray,
    bias: FArray | null,
    g: ConvGeom,
    out: FArray,
    epi: ConvEpilogue = {},
    path: 'auto' | 'direct' | 'chan' | 'im2col' | 'packed' = 'auto',
  ): void {
    if ((path === 'direct' || path === 'chan') && !unitStride(g))
      throw new Error('conv2dForward: the direct kernel needs stride 1 and no dilation');
    if (epi.pool && !(epi.relu && g.OH >= 2 && g.OW >= 2))
      throw new Error('conv2dForward: the pooling epilogue needs relu and an output of at least 2×2');
    this.rt.begin();
    const n = g.B * g.OH * g.OW,
      ckk = g.C * g.kh * g.kw;
    const px = this.rt.inPtr(x),
      pw = this.rt.inPtr(w),
      pb = bias ? this.rt.inPtr(bias) : 0;
    // The direct kernels split over threads when the convolution repays waking them.
    const threads = this.rt.threads > 1 && 2 * g.Co * n * ckk >= THREAD_MIN_FLOPS ? this.rt.threads : 1;
    if (path === 'chan' || (path === 'auto' && chanConv(g))) {
      const pk = this.rt.alloc(this.k.chanPackFloats(g.Co, ckk)),
        per = this.k.chanScratch(g.C, g.H, g.W, g.ph, g.pw, g.OH, g.OW, +!!epi.pool, g.kh, g.kw);
      this.k.chanPack(pw, pb, g.Co, ckk, pk);
      const po = this.rt.outPtr(out),
        args = [px, pk, g.B, g.C, g.H, g.W, g.Co, g.kh, g.kw, g.ph, g.pw, g.OH, g.OW, po];
      args.push(this.rt.alloc(per * threads), +!!epi.relu, +!!epi.pool);
      if (threads > 1) this.rt.tasks('convChanTasks', args);
      else this.rt.tasksHere(this.k.convChanTasks, args);
      this.rt.done(out, po);
      return;
    }
    if (path === 'direct' || (path === 'auto' && directConv(g))) {
      const po = this.rt.outPtr(out),
        per = this.k.directScratch(g.C, g.H, g.W, g.ph, g.pw, g.OH, g.OW, +!!epi.pool);
      const args: Parameters<Kernels['convDirect']> = [
        px,
        pw,
        pb,
        g.B,
        g.C,
        g.H,
        g.W,
        g.Co,
        g.kh,
        g.kw,
        g.ph,
        g.pw,
        g.OH,
        g.OW,
        po,
        this.rt.alloc(per * threads),
        +!!epi.relu,
        +!!epi.pool,
      ];
      if (threads > 1) this.rt.tasks('convDirectTasks', args);
      else this.k.convDirect(...args);
      this.rt.done(out, po);
      return;
    }
    const po = this.rt.outPtr(out),
      tmp = this.rt.alloc(g.Co * n),
      work = this.rt.allocWork();
    if (path === 'im2col' || g.Co < 4 || (path === 'auto' && ckk < PACKED_MIN_TAPS)) {
      const col = this.rt.alloc(ckk * n);
      this.im2colPtr(px, g, col);
      this.gemmPtr(false, false, g.Co, n, ckk, pw, col, tmp, false, work);
    } else if (g.ph || g.pw) {
      // Padded once here, every panel's taps fall inside the image: no per-tap bounds checks in the packing.
      const Hp = g.H + 2 * g.ph,
        Wp = g.W + 2 * g.pw,
        padded = this.rt.alloc(g.B * g.C * Hp * Wp);
      this.k.padPlanes(px, g.B * g.C, g.H, g.W, g.ph, g.pw, padded);
      const geo = this.convGeo({ ...g, H: Hp, W: Wp, ph: 0, pw: 0 });
      this.gemmPtr(false, false, g.Co, n, ckk, pw, padded, tmp, false, work, geo);
    } else this.gemmPtr(false, false, g.Co, n, ckk, pw, px, tmp, false, work, this.convGeo(g));
    if (epi.pool) this.swapReluPool(tmp, g.Co, g.B, g.OH, g.OW, po, pb);
    else this.swap(tmp, g.Co, g.B, g.OH * g.OW, po, pb, !!epi.relu);
    this.rt.done(out, po);
  }

  /** swap01 (out[b, a, :] = inp[a, b, :], + bias, relu), split over threads by slice a when large. */
  private swap(inp: number, A: number, B: number, L: number, out: number, bias: number, relu: boolean): void {
    if (this.rt.threads > 1 && A > 1 && A * B * L >= THREAD_MIN_SWAP)
      this.rt.tasks('swap01Tasks', [inp, A, B, L, out, bias, +relu]);
    else this.k.swap01(inp, A, B, L, out, bias, +relu);
  }

  /** swap01ReluPool, split over threads by slice when large (a scratch plane per thread). */
  private swapReluPool(inp: number, A: number, B: number, OH: number, OW: number, out: number, bias: number): void {
    const threads = this.rt.threads > 1 && A > 1 && A * B * OH * OW >= THREAD_MIN_SWAP ? this.rt.threads : 1,
      Q = this.rt.alloc(OH * OW * threads);
    if (threads > 1) this.rt.tasks('swap01ReluPoolTasks', [inp, A, B, OH, OW, out, bias, Q]);
    else this.k.swap01ReluPool(inp, A, B, OH, OW, out, bias, Q);
  }

  /** A convolution's geometry as 14 ints in kernel memory (colpack.ts's order), for gemmPtr's `geo`. */
  private convGeo(g: ConvGeom): number {
    const p = this.rt.alloc(14);
    new Int32Array(this.rt.memory.buffer, p, 14).set(geomArgs(g));
    return p;
  }

  conv2dBackward(
    x: FArray,
    w: FArray,
    dy: FArray,
    g: ConvGeom,
    dw: FArray,
    db: FArray | null,
    dx: FArray | null,
  ): void {
    this.rt.begin();
    const n = g.B * g.OH * g.OW,
      ckk = g.C * g.kh * g.kw;
    const px = this.rt.inPtr(x),
      pw = this.rt.inPtr(w),
      pdy = this.rt.inPtr(dy);
    const pdx = dx ? this.rt.outPtr(dx) : 0,
      pdw = this.rt.outPtr(dw),
      pdb = db ? this.rt.outPtr(db) : 0;
    const col = this.rt.alloc(ckk * n),
      dyT = this.rt.alloc(g.Co * n),
      work = this.rt.allocWork();
    this.swap(pdy, g.B, g.Co, g.OH * g.OW, dyT, 0, false);
    if (db) this.k.rowSums(dyT, g.Co, n, pdb);
    this.im2colPtr(px, g, col);
    this.gemmPtr(false, true, g.Co, ckk, n, dyT, col, pdw, false, work);
    if (dx) {
      this.gemmPtr(true, false, ckk, n, g.Co, pw, dyT, col, false, work);
      if (threadedCol(g, this.rt.threads)) this.rt.tasks('col2imTasks', [col, ...geomArgs(g), pdx]);
      else this.k.col2im(col, ...geomArgs(g), pdx);
    }
    this.rt.done(dw, pdw);
    if (db) this.rt.done(db, pdb);
    if (dx) this.rt.done(dx, pdx);
  }

  pool2dForward(x: FArray, g: PoolGeom, mode: PoolMode, out: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.outPtr(out);
    this.k.pool2dForward(px, ...poolArgs(g, mode), po);
    this.rt.done(out, po);
  }

  pool2dBackward(x: FArray, dy: FArray, g: PoolGeom, mode: PoolMode, dx: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pdy = this.rt.inPtr(dy),
      pdx = this.rt.outPtr(dx);
    this.k.pool2dBackward(px, ...poolArgs(g, mode), pdy, pdx);
    this.rt.done(dx, pdx);
  }

  relu(x: FArray, y: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      py = this.rt.outPtr(y);
    this.k.relu(px, py, x.length);
    this.rt.done(y, py);
  }

  reluBackward(x: FArray, dy: FArray, dx: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pdy = this.rt.inPtr(dy),
      pdx = this.rt.outPtr(dx);
    this.k.reluBackward(px, pdy, pdx, x.length);
    this.rt.done(dx, pdx);
  }

  binary(kind: BinaryKind, a: FArray, b: FArray, y: FArray): void {
    this.rt.begin();
    const pa = this.rt.inPtr(a),
      pb = this.rt.inPtr(b),
      py = this.rt.outPtr(y);
    this.k.binary(pa, pb, py, y.length, BINARY[kind]);
    this.rt.done(y, py);
  }

  channelAffine(x: FArray, scale: FArray | null, shift: FArray | null, outer: number, inner: number, y: FArray): void {
    this.rt.begin();
    const C = (scale ?? shift)!.length;
    const px = this.rt.inPtr(x),
      ps = scale ? this.rt.inPtr(scale) : 0,
      pt = shift ? this.rt.inPtr(shift) : 0,
      py = this.rt.outPtr(y);
    this.k.channelAffine(px, ps, pt, outer, C, inner, py, scale && shift ? 0 : scale ? 1 : 2);
    this.rt.done(y, py);
  }

  bnStats(x: FArray, outer: number, inner: number, mean: FArray, variance: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pm = this.rt.outPtr(mean),
      pv = this.rt.outPtr(variance);
    this.k.bnStats(px, outer, mean.length, inner, pm, pv);
    this.rt.done(mean, pm);
    this.rt.done(variance, pv);
  }

  bnNormalize(
    x: FArray,
    outer: number,
    inner: number,
    mean: FArray,
    invStd: FArray,
    gamma: FArray,
    beta: FArray,
    xhat: FArray | null,
    y: FArray,
  ): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pm = this.rt.inPtr(mean),
      pi = this.rt.inPtr(invStd),
      pg = this.rt.inPtr(gamma),
      pb = this.rt.inPtr(beta);
    const ph = xhat ? this.rt.outPtr(xhat) : 0,
      py = this.rt.outPtr(y);
    this.k.bnNormalize(px, outer, mean.length, inner, pm, pi, pg, pb, ph, py);
    if (xhat) this.rt.done(xhat, ph);
    this.rt.done(y, py);
  }

  bnGradSums(gy: FArray, xhat: FArray, outer: number, inner: number, sumG: FArray, sumGX: FArray): void {
    this.rt.begin();
    const pg = this.rt.inPtr(gy),
      ph = this.rt.inPtr(xhat),
      ps = this.rt.outPtr(sumG),
      px = this.rt.outPtr(sumGX);
    this.k.bnGradSums(pg, ph, outer, sumG.length, inner, ps, px);
    this.rt.done(sumG, ps);
    this.rt.done(sumGX, px);
  }

  bnInputGrad(
    gy: FArray,
    xhat: FArray,
    outer: number,
    inner: number,
    k: FArray,
    mg: FArray,
    mgx: FArray,
    dx: FArray,
  ): void {
    this.rt.begin();
    const pg = this.rt.inPtr(gy),
      ph = this.rt.inPtr(xhat),
      pk = this.rt.inPtr(k),
      pa = this.rt.inPtr(mg),
      pb = this.rt.inPtr(mgx),
      pd = this.rt.outPtr(dx);
    this.k.bnInputGrad(pg, ph, outer, k.length, inner, pk, pa, pb, pd);
    this.rt.done(dx, pd);
  }

  tileAdd(a: FArray, b: FArray, y: FArray, relu = false): void {
    this.rt.begin();
    const pa = this.rt.inPtr(a),
      pb = this.rt.inPtr(b),
      py = this.rt.outPtr(y);
    this.k.tileAdd(pa, pb, py, y.length / b.length, b.length, +relu);
    this.rt.done(y, py);
  }

  sumTiles(g: FArray, out: FArray): void {
    this.rt.begin();
    const pg = this.rt.inPtr(g),
      po = this.rt.outPtr(out);
    this.k.sumTiles(pg, g.length / out.length, out.length, po);
    this.rt.done(out, po);
  }

  transpose(x: FArray, r: number, c: number, out: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.outPtr(out);
    this.k.transpose(px, r, c, po);
    this.rt.done(out, po);
  }

  adam(p: FArray, g: FArray, m: FArray, v: FArray, hp: AdamHyper): void {
    this.rt.begin();
    const pp = this.rt.inPtr(p),
      pg = this.rt.inPtr(g),
      pm = this.rt.inPtr(m),
      pv = this.rt.inPtr(v);
    this.k.adam(
      pp,
      pg,
      pm,
      pv,
      p.length,
      hp.lr,
      hp.beta1,
      hp.beta2,
      hp.eps,
      hp.weightDecay,
      hp.bc1,
      hp.bc2,
      +hp.decoupled,
    );
    this.rt.done(p, pp);
    this.rt.done(m, pm);
    this.rt.done(v, pv);
  }
}

/** Instantiate a non-shared kernel module (no threads). */
export async function loadWasmBackend(bytes: BufferSource): Promise<WasmBackend> {
  if (!WebAssembly.validate(bytes)) throw new Error('this WebAssembly engine cannot validate the SIMD128 kernels');
  const { instance } = await WebAssembly.instantiate(bytes, {
    env: {
      abort: () => {
        throw new Error('wasm abort');
      },
    },
  });
  // The single-threaded build owns (exports) its memory; growing it detaches views, so no arrays are carved from it.
  return new WasmBackend(
    instance.exports,
    instance.exports.memory as WebAssembly.Memory,
    singleThread(instance.exports as Record<string, unknown>),
    { relaxed: false, shared: false },
  );
}

/** A pooling call's geometry and mode (0 max, 1 average) in the kernels' argument order. */
function poolArgs(g: PoolGeom, mode: PoolMode): number[] {
  return [g.P, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.OH, g.OW, mode === 'max' ? 0 : 1];
}
