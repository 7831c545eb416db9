// Threading policy of the WebAssembly kernels: from what size work is split over threads (and
// how), measured on this machine. Technique families keep their own thresholds beside their
// kernels; the ones here serve the core kernels and the families that build on them.
import type { ConvGeom } from '../types.js';

/**
 * GEMMs below this many flops stay on one thread: waking a worker costs more than it saves.
 * Measured here (square GEMMs, 2 threads vs 1, medians of 9): 0.5 MFLOP ×0.78, 1.8 MFLOP ×1.22,
 * 4.2 MFLOP ×0.97, 8.2 MFLOP ×1.34, 14 MFLOP ×1.47 — the crossover is near 4 MFLOP.
 */
export const THREAD_MIN_FLOPS = 1 << 22;
/** From this size on, threads share one packed copy of each B panel (gemmShared). */
export let SHARED_PANEL_MIN_FLOPS = 1 << 26;
/** For benchmarks: change the size from which gemmShared is used. */
export function setSharedPanelMinFlops(n: number): void {
  SHARED_PANEL_MIN_FLOPS = n;
}
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

export const unitStride = (g: ConvGeom): boolean => g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1;

/** Whether conv2dForward takes the direct kernel for this geometry. */
export function directConv(g: ConvGeom): boolean {
  return unitStride(g) && g.OW >= 16 && g.C * g.kh * g.kw <= DIRECT_MAX_TAPS;
}

/** im2col / col2im are split over threads only when big enough to repay waking them. */
export function threadedCol(g: ConvGeom, threads: number): boolean {
  return threads > 1 && g.C > 1 && g.C * g.kh * g.kw * g.B * g.OH * g.OW >= THREAD_MIN_COL;
}

/** A convolution geometry as the kernels' argument list. */
export function geomArgs(g: ConvGeom): number[] {
  return [g.B, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW];
}
