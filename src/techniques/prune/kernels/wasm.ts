// WebAssembly CSR kernels (assembly/sparse.ts) on the wasm backend's runtime.
import type { FArray } from '../../../core/dtype.js';
import type { ConvGeom } from '../../../backend/types.js';
import type { WasmBackend } from '../../../backend/wasm/backend.js';
import type { WasmRuntime } from '../../../backend/wasm/runtime.js';
import { THREAD_MIN_FLOPS } from '../../../backend/wasm/policy.js';
import type { Csr, SparseKernels } from './index.js';

/** The module's sparse exports (assembly/sparse.ts) and the layout swap the convolution ends with. */
interface SparseExports {
  spmm(rowPtr: number, colIdx: number, vals: number, rows: number, X: number, n: number, Y: number): void;
  swap01(inp: number, A: number, B: number, L: number, out: number, bias: number, relu: number): void;
}

class SparseWasm implements SparseKernels {
  private readonly rt: WasmRuntime;
  private readonly k: SparseExports;
  private readonly csrCache = new WeakMap<
    Csr,
    { rowPtr: Int32Array; colIdx: Int32Array; vals: FArray; ptrs: [number, number, number] }
  >();

  constructor(private readonly be: WasmBackend) {
    this.rt = be.runtime;
    this.k = be.runtime.exports as unknown as SparseExports;
  }

  /**
   * Pointers of a CSR operand's arrays, remembered per operand when all three live in our
   * memory (as a SparseLinear's weights do): they never move, and looking them up each call
   * cost about a third of a 90%-sparse batch-1 head product.
   */
  private csrPtrs(s: Csr): [number, number, number] {
    const c = this.csrCache.get(s);
    if (c && c.rowPtr === s.rowPtr && c.colIdx === s.colIdx && c.vals === s.vals) return c.ptrs;
    const ptrs: [number, number, number] = [this.rt.intPtr(s.rowPtr), this.rt.intPtr(s.colIdx), this.rt.inPtr(s.vals)];
    if (ptrs.every((p) => p < this.rt.poolTop))
      this.csrCache.set(s, { rowPtr: s.rowPtr, colIdx: s.colIdx, vals: s.vals, ptrs });
    return ptrs;
  }

  /** CSR product on pointers; rows split over threads when the work repays waking them. */
  private spmmPtr(s: Csr, X: number, n: number, Y: number): void {
    const [rp, ci, pv] = this.csrPtrs(s);
    if (this.rt.threads > 1 && 2 * s.vals.length * n >= THREAD_MIN_FLOPS && s.rows >= 8) {
      const chunk = Math.max(1, Math.ceil(s.rows / (4 * this.rt.threads)));
      this.rt.tasks('spmmTasks', [chunk, rp, ci, pv, s.rows, X, n, Y]);
    } else this.k.spmm(rp, ci, pv, s.rows, X, n, Y);
  }

  spmm(s: Csr, X: FArray, n: number, Y: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(X),
      py = this.rt.outPtr(Y);
    this.spmmPtr(s, px, n, py);
    this.rt.done(Y, py);
  }

  conv2dSparse(x: FArray, w: Csr, bias: FArray | null, g: ConvGeom, out: FArray): void {
    const n = g.B * g.OH * g.OW,
      ckk = g.C * g.kh * g.kw;
    if (w.rows !== g.Co || w.cols !== ckk)
      throw new Error(`conv2dSparse: CSR weight is ${w.rows}×${w.cols}, expected ${g.Co}×${ckk}`);
    this.rt.begin();
    const px = this.rt.inPtr(x),
      pb = bias ? this.rt.inPtr(bias) : 0;
    const po = this.rt.outPtr(out),
      col = this.rt.alloc(ckk * n),
      tmp = this.rt.alloc(g.Co * n);
    this.be.im2colPtr(px, g, col);
    this.spmmPtr(w, col, n, tmp);
    this.k.swap01(tmp, g.Co, g.B, g.OH * g.OW, po, pb, 0);
    this.rt.done(out, po);
  }
}

/** The sparse family's WebAssembly implementation on a wasm backend. */
export const sparseWasm = (be: WasmBackend): SparseKernels => new SparseWasm(be);
