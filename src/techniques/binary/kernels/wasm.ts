// WebAssembly XNOR-popcount and jet kernels (assembly/binary.ts) on the wasm backend's runtime.
import type { FArray } from '../../../core/dtype.js';
import type { ConvGeom } from '../../../backend/types.js';
import type { WasmBackend } from '../../../backend/wasm/backend.js';
import type { WasmRuntime } from '../../../backend/wasm/runtime.js';
import { THREAD_MIN_FLOPS } from '../../../backend/wasm/policy.js';
import type { BinaryKernels } from './index.js';

/** The module's binary exports (assembly/binary.ts). */
interface BinaryExports {
  packSigns(x: number, M: number, K: number, out: number): void;
  packPatches(
    x: number,
    B: number,
    C: number,
    H: number,
    W: number,
    kh: number,
    kw: number,
    sh: number,
    sw: number,
    ph: number,
    pw: number,
    OH: number,
    OW: number,
    padBit: number,
    dense: number,
    pix: number,
    out: number,
  ): void;
  bgemm(A: number, B: number, Bp: number, M: number, N: number, K: number, Wk: number, C: number, pair: number): void;
  bgemmPanels(B: number, N: number, Wk: number, out: number): void;
  bgemmPanelBytes(N: number, Wk: number): number;
  bgemmPairBytes(Wk: number): number;
  jetTree(x: number, C: number, H: number, W: number, out: number, xs: number): void;
  signPad(x: number, C: number, H: number, W: number, p: number, padValue: number, out: number): void;
}

class BinaryWasm implements BinaryKernels {
  private readonly rt: WasmRuntime;
  private readonly k: BinaryExports;

  constructor(be: WasmBackend) {
    this.rt = be.runtime;
    this.k = be.runtime.exports as unknown as BinaryExports;
  }

  packSigns(x: FArray, M: number, K: number, out: Int32Array): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.intOutPtr(out);
    // Rows split over threads from 2^20 values (a resident 1024² operand: 0.15–0.24 ms on one thread, 0.10–0.14 ms
    // on two here).
    if (this.rt.threads > 1 && M * K >= 1 << 20 && M >= 8) {
      const chunk = Math.ceil(M / (4 * this.rt.threads));
      this.rt.tasks('packSignsTasks', [chunk, px, M, K, po]);
    } else this.k.packSigns(px, M, K, po);
    this.rt.intDone(out, po);
  }

  packPatches(x: FArray, g: ConvGeom, padValue: 1 | -1, out: Int32Array, dense = false): void {
    if (g.dh !== 1 || g.dw !== 1) throw new Error('packPatches: dilation must be 1');
    if (dense && g.C >= 64) throw new Error(`packPatches: the dense layout is for fewer than 64 channels, got ${g.C}`);
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.intOutPtr(out),
      pix = this.rt.alloc(g.B * g.H * g.W * 2 * Math.ceil(g.C / 64));
    this.k.packPatches(
      px,
      g.B,
      g.C,
      g.H,
      g.W,
      g.kh,
      g.kw,
      g.sh,
      g.sw,
      g.ph,
      g.pw,
      g.OH,
      g.OW,
      padValue > 0 ? 1 : 0,
      +dense,
      pix,
      po,
    );
    this.rt.intDone(out, po);
  }

  bgemm(
    A: Int32Array,
    B: Int32Array,
    M: number,
    N: number,
    K: number,
    C: Int32Array,
    rowWords = Math.ceil(K / 64),
  ): void {
    if (rowWords < Math.ceil(K / 64)) throw new Error(`bgemm: ${rowWords} words cannot hold ${K} bits`);
    this.rt.begin();
    const pa = this.rt.intPtr(A),
      pb = this.rt.intPtr(B),
      pc = this.rt.intOutPtr(C);
    // B's rows as panels of interleaved rows (bgemmPanels: a copy of B, small beside the product).
    const panels = this.rt.alloc(this.k.bgemmPanelBytes(N, rowWords) / 4),
      pairBytes = this.k.bgemmPairBytes(rowWords);
    this.k.bgemmPanels(pb, N, rowWords, panels);
    // Rows split over threads in even chunks when the work (M·N·K bit operations) repays waking them.
    if (this.rt.threads > 1 && M * N * K >= 4 * THREAD_MIN_FLOPS && M >= 4) {
      const chunk = Math.max(2, Math.ceil(M / (4 * this.rt.threads) / 2) * 2);
      const pair = this.rt.alloc((pairBytes / 4) * this.rt.threads);
      this.rt.tasks('bgemmTasks', [chunk, pa, pb, panels, M, N, K, rowWords, pc, pair]);
    } else this.k.bgemm(pa, pb, panels, M, N, K, rowWords, pc, this.rt.alloc(pairBytes / 4));
    this.rt.intDone(C, pc);
  }

  signPad(x: FArray, C: number, H: number, W: number, p: number, padValue: 1 | -1, out: FArray): void {
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.outPtr(out);
    this.k.signPad(px, C, H, W, p, padValue, po);
    this.rt.done(out, po);
  }

  jetTree(x: FArray, C: number, H: number, W: number, out: FArray): void {
    if (H < 3 || W < 3) throw new Error(`jetTree: the map must be at least 3×3, got ${H}×${W}`);
    this.rt.begin();
    const px = this.rt.inPtr(x),
      po = this.rt.outPtr(out),
      xs = this.rt.alloc(3 * H * (W - 2));
    this.k.jetTree(px, C, H, W, po, xs);
    this.rt.done(out, po);
  }
}

/** The binary family's WebAssembly implementation on a wasm backend. */
export const binaryWasm = (be: WasmBackend): BinaryKernels => new BinaryWasm(be);
