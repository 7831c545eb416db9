// WebAssembly FFT kernels (assembly/fft.ts, assembly/circ.ts) on the wasm backend's runtime:
// its memory, scratch and threads. The reference (reference.ts) is what tests hold them equal to.
import type { FArray } from '../../../core/dtype.js';
import { persistentArray } from '../../../core/arena.js';
import type { ConvGeom } from '../../../backend/types.js';
import type { WasmBackend } from '../../../backend/wasm/backend.js';
import type { WasmRuntime } from '../../../backend/wasm/runtime.js';
import { THREAD_MIN_FLOPS, chanConv, directConv, geomArgs } from '../../../backend/wasm/policy.js';
import type { FftKernels } from './index.js';

/** The module's FFT exports (assembly/fft.ts, assembly/circ.ts) and the conv scratch size binConv2d needs. */
interface FftExports {
  rfft(
    x: number,
    M: number,
    N: number,
    re: number,
    im: number,
    tw: number,
    sp: number,
    rev: number,
    work: number,
  ): void;
  irfft(
    re: number,
    im: number,
    M: number,
    N: number,
    x: number,
    tw: number,
    sp: number,
    rev: number,
    work: number,
  ): void;
  rfftPacked(
    x: number,
    M: number,
    N: number,
    RP: number,
    P: number,
    out: number,
    tw: number,
    sp: number,
    rev: number,
    work: number,
  ): void;
  irfftPacked(
    inp: number,
    M: number,
    N: number,
    RP: number,
    P: number,
    x: number,
    tw: number,
    sp: number,
    rev: number,
    work: number,
  ): void;
  fftWorkFloats(N: number): number;
  cbin(
    ar: number,
    ai: number,
    wr: number,
    wi: number,
    yr: number,
    yi: number,
    B: number,
    R: number,
    S: number,
    F: number,
    mode: number,
  ): void;
  circGemv(
    x: number,
    B: number,
    R: number,
    S: number,
    N: number,
    wr: number,
    wi: number,
    bias: number,
    y: number,
    tw: number,
    sp: number,
    rev: number,
    work: number,
  ): void;
  circGemvScratch(R: number, S: number, N: number): number;
  convDirectScratch(C: number, H: number, W: number, ph: number, pw: number): number;
}

/** Batched FFTs below this many input values (M·N) stay on one thread (about 80 µs of work). */
export const FFT_THREAD_MIN = 1 << 15;

/** Twiddle and bit-reversal tables of the real FFT of length N (see assembly/fft.ts), kept resident per N. */
interface FftTables {
  tw: Float32Array;
  sp: Float32Array;
  rev: Int32Array;
  keep: Float32Array;
}

function checkPacked(M: number, N: number, RP: number, P: number): void {
  if (!isPow2(N) || N < 2 || ![RP, P].every((v) => Number.isInteger(v) && v >= 1) || M % RP !== 0 || RP % P !== 0) {
    throw new Error(
      `packed FFT: N = ${N} must be a power of two ≥ 2, and P = ${P} must divide RP = ${RP}, which must divide M ` +
        `= ${M}`,
    );
  }
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

class FftWasm implements FftKernels {
  private readonly rt: WasmRuntime;
  private readonly k: FftExports;

  constructor(private readonly be: WasmBackend) {
    this.rt = be.runtime;
    this.k = be.runtime.exports as unknown as FftExports;
  }

  private readonly fftTables = new Map<number, FftTables>();

  private tablesFor(N: number): FftTables {
    if (!isPow2(N)) throw new Error(`FFT length must be 1 or a power of two, got ${N}`);
    let t = this.fftTables.get(N);
    if (t) return t;
    const L = Math.max(1, N >> 1),
      bits = Math.log2(L);
    const tw = persistentArray(Math.max(4, 2 * (L - 1))),
      sp = persistentArray(Math.max(4, 2 * L)),
      keep = persistentArray(Math.max(4, L));
    let o = 0;
    for (let h = 1; h < L; h <<= 1) {
      for (let j = 0; j < h; j++) {
        tw[o + j] = Math.cos((-Math.PI * j) / h);
        tw[o + h + j] = Math.sin((-Math.PI * j) / h);
      }
      o += 2 * h;
    }
    for (let k = 0; k < L; k++) {
      sp[k] = Math.cos((-2 * Math.PI * k) / N);
      sp[L + k] = Math.sin((-2 * Math.PI * k) / N);
    }
    const rev = new Int32Array(keep.buffer, keep.byteOffset, L);
    for (let i = 0; i < L; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      rev[i] = r;
    }
    t = { tw, sp, rev, keep };
    this.fftTables.set(N, t);
    return t;
  }

  /** Start an FFT call: pointers to the length-N tables and to scratch space. */
  private fftArgs(N: number): [number, number, number, number] {
    const t = this.tablesFor(N);
    this.rt.begin();
    // Scratch per thread (assembly/fft.ts, fftWorkFloats).
    return [
      this.rt.inPtr(t.tw),
      this.rt.inPtr(t.sp),
      this.rt.intPtr(t.rev),
      this.rt.alloc(this.k.fftWorkFloats(N) * this.rt.threads),
    ];
  }

  /**
   * Units per task when M FFTs of length N are split over threads (vectors in multiples of 4,
   * of 16 for packed spectra with RP a multiple of 16, which the kernel writes sixteen at a
   * time; or groups of P), or 0 for one thread.
   */
  private fftChunk(M: number, N: number, P = 1, RP = 0): number {
    if (this.rt.threads === 1 || M * N < FFT_THREAD_MIN || M < 8) return 0;
    if (P > 1) return Math.max(1, Math.ceil(M / P / (4 * this.rt.threads)));
    const unit = RP > 0 && RP % 16 === 0 ? 16 : 4;
    return Math.max(unit, Math.ceil(M / (4 * this.rt.threads) / unit) * unit);
  }

  rfft(x: FArray, M: number, N: number, re: FArray, im: FArray): void {
    const tables = this.fftArgs(N);
    const px = this.rt.inPtr(x),
      pr = this.rt.outPtr(re),
      pi = this.rt.outPtr(im),
      chunk = this.fftChunk(M, N);
    if (chunk) this.rt.tasks('fftTasks', [chunk, 1, px, M, N, pr, pi, 0, 1, ...tables]);
    else this.k.rfft(px, M, N, pr, pi, ...tables);
    this.rt.done(re, pr);
    this.rt.done(im, pi);
  }

  irfft(re: FArray, im: FArray, M: number, N: number, x: FArray): void {
    const tables = this.fftArgs(N);
    const pr = this.rt.inPtr(re),
      pi = this.rt.inPtr(im),
      px = this.rt.outPtr(x),
      chunk = this.fftChunk(M, N);
    if (chunk) this.rt.tasks('fftTasks', [chunk, 0, px, M, N, pr, pi, 0, 1, ...tables]);
    else this.k.irfft(pr, pi, M, N, px, ...tables);
    this.rt.done(x, px);
  }

  rfftPacked(x: FArray, M: number, N: number, RP: number, out: FArray, P = 1): void {
    checkPacked(M, N, RP, P);
    const tables = this.fftArgs(N);
    const px = this.rt.inPtr(x),
      po = this.rt.outPtr(out),
      chunk = this.fftChunk(M, N, P, RP);
    if (chunk) this.rt.tasks('fftTasks', [chunk, 1, px, M, N, po, 0, RP, P, ...tables]);
    else this.k.rfftPacked(px, M, N, RP, P, po, ...tables);
    this.rt.done(out, po);
  }

  irfftPacked(packed: FArray, M: number, N: number, RP: number, x: FArray, P = 1): void {
    checkPacked(M, N, RP, P);
    const tables = this.fftArgs(N);
    const pp = this.rt.inPtr(packed),
      px = this.rt.outPtr(x),
      chunk = this.fftChunk(M, N, P, RP);
    if (chunk) this.rt.tasks('fftTasks', [chunk, 0, px, M, N, pp, 0, RP, P, ...tables]);
    else this.k.irfftPacked(pp, M, N, RP, P, px, ...tables);
    this.rt.done(x, px);
  }

  cbin(
    a: [FArray, FArray],
    w: [FArray, FArray],
    y: [FArray, FArray],
    B: number,
    R: number,
    S: number,
    F: number,
    mode: 0 | 1 | 2,
  ): void {
    this.rt.begin();
    const pa = a.map((t) => this.rt.inPtr(t)),
      pw = w.map((t) => this.rt.inPtr(t)),
      py = y.map((t) => this.rt.outPtr(t));
    this.k.cbin(pa[0], pa[1], pw[0], pw[1], py[0], py[1], B, R, S, F, mode);
    this.rt.done(y[0], py[0]);
    this.rt.done(y[1], py[1]);
  }

  circGemv(x: FArray, B: number, R: number, S: number, N: number, wt: FArray, bias: FArray | null, y: FArray): void {
    const t = this.tablesFor(N);
    this.rt.begin();
    const F = (N >> 1) + 1,
      px = this.rt.inPtr(x),
      pw = this.rt.inPtr(wt),
      pb = bias ? this.rt.inPtr(bias) : 0,
      py = this.rt.outPtr(y);
    const tables = [this.rt.inPtr(t.tw), this.rt.inPtr(t.sp), this.rt.intPtr(t.rev)] as const;
    this.k.circGemv(
      px,
      B,
      R,
      S,
      N,
      pw,
      pw + 4 * F * R * S,
      pb,
      py,
      ...tables,
      this.rt.alloc(this.k.circGemvScratch(R, S, N)),
    );
    this.rt.done(y, py);
  }

  /**
   * binConv2d's bins on threads, one bin per task (each bin on one thread, with the direct kernel when
   * directConv picks it, else im2col + GEMM: conv2dForward's bits for those paths): small bins no longer run
   * one after another, and big ones skip the GEMM's split, which gains little on these shapes (×1.1–1.2 from a
   * second thread on 3–8 MFLOP conv GEMMs here). One thread, one bin, less work in all than repays waking a
   * thread (THREAD_MIN_FLOPS), or a geometry for the channel-vectorized kernel (chanConv: threaded within the
   * bin, its bits the same at any thread count) go bin by bin through conv2dForward.
   */
  binConv2dForward(x: FArray, w: FArray, g: ConvGeom, bins: number, out: FArray): void {
    const n = g.B * g.OH * g.OW,
      ckk = g.C * g.kh * g.kw,
      xs = x.length / bins,
      ws = w.length / bins,
      ys = out.length / bins;
    if (this.rt.threads === 1 || bins < 2 || 2 * g.Co * n * ckk * bins < THREAD_MIN_FLOPS || chanConv(g)) {
      for (let h = 0; h < bins; h++)
        this.be.conv2dForward(
          x.subarray(h * xs, (h + 1) * xs),
          w.subarray(h * ws, (h + 1) * ws),
          null,
          g,
          out.subarray(h * ys, (h + 1) * ys),
        );
      return;
    }
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pw = this.rt.inPtr(w),
      po = this.rt.outPtr(out),
      direct = directConv(g);
    const per = direct ? this.k.convDirectScratch(g.C, g.H, g.W, g.ph, g.pw) : ckk * n + g.Co * n;
    this.rt.tasks('binConvTasks', [
      bins,
      +direct,
      px,
      pw,
      ...geomArgs(g).slice(0, 4),
      g.Co,
      ...geomArgs(g).slice(4),
      po,
      this.rt.alloc(per * this.rt.threads),
      this.rt.allocWork(),
    ]);
    this.rt.done(out, po);
  }
}

/** The FFT family's WebAssembly implementation on a wasm backend. */
export const fftWasm = (be: WasmBackend): FftKernels => new FftWasm(be);
