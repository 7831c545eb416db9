// Threading policy of the WebAssembly kernels: from what size work is split over threads (and
// how), measured on this machine. Technique families keep their own thresholds beside their
// kernels; the ones here serve the core kernels and the families that build on them.
import type { ConvGeom } from '../types.js';

/**
 * GEMMs below this many flops stay on one thread: waking a worker costs more than it saves. The
 * crossover of square GEMMs on 2 threads against 1 is near 4 MFLOP on this machine (docs/measurements.md).
 */
export const THREAD_MIN_FLOPS = 1 << 22;
/** From this size on, threads share one packed copy of each B panel (gemmShared). */
export let SHARED_PANEL_MIN_FLOPS = 1 << 26;
/** For benchmarks: change the size from which gemmShared is used. */
export function setSharedPanelMinFlops(n: number): void {
  SHARED_PANEL_MIN_FLOPS = n;
}
/**
 * Products with a long K and few outputs are cut into chunks of K (gemmSplitKTasks): split by rows or columns
 * instead, every thread would pack all of op(B) (a first convolution's weight gradient, 16×9 outputs over 43,264
 * pixels at batch 64, packed by four row tasks). The chunk is fixed, not per thread, so results do not depend
 * on the thread count.
 */
export const SPLIT_K_CHUNK = 4096;
export const splitK = (M: number, N: number, K: number): boolean => K >= 4 * SPLIT_K_CHUNK && M * N <= 4096;

/** Convolution epilogues' transposes (swap01, with relu and pooling) below this many values stay on one thread. */
export const THREAD_MIN_SWAP = 1 << 16;
/** im2col matrices below this many elements are built on one thread. */
export const THREAD_MIN_COL = 1 << 18;
/**
 * Largest C·kh·kw run by the direct convolution instead of im2col + GEMM (stride 1, no
 * dilation, outputs at least 16 wide): where `node dist/bench/conv-direct.js` found the direct kernel
 * faster (runs/bench-conv-direct.json; up to 288 taps it was, at 576 not; narrow outputs lost at batch 1).
 */
export const DIRECT_MAX_TAPS = 288;

export const unitStride = (g: ConvGeom): boolean => g.sh === 1 && g.sw === 1 && g.dh === 1 && g.dw === 1;

/**
 * Fewest C·kh·kw for which conv2dForward packs its GEMM's panels from the image instead of writing the im2col
 * matrix first: `node dist/bench/conv-direct.js` had packing slower at 9 taps (1→32 at 28×28, batch 64: 1.47 against
 * 1.27 ms; the padded copy and the packing outweigh a 9-row matrix) and faster from 27 taps on (2.18 against 2.33).
 */
export const PACKED_MIN_TAPS = 16;

/** Whether conv2dForward takes the direct kernel for this geometry. */
export function directConv(g: ConvGeom): boolean {
  return unitStride(g) && g.OW >= 16 && g.C * g.kh * g.kw <= DIRECT_MAX_TAPS;
}

/**
 * Where conv2dForward takes the direct kernel vectorized across output channels (convChanTasks): 3×3 kernels (the
 * only ones measured), stride 1, no dilation, at least CHAN_MIN_OUT output channels, at most CHAN_MAX_TAPS =
 * C·kh·kw, and at batch 1 at least CHAN_MIN_TAPS_ONE. `node dist/bench/conv-direct.js`
 * (runs/bench-conv-direct.json) had it at 0.53–0.78× the time of the best other path at batch 64 from 9 to 1152
 * taps (1.00× at 27, 3→16 on 32×32) and 0.66–0.86× at batch 1 from 72 to 1152 taps; at batch 1 with 9 and 18
 * taps 1.00× and 1.07× the pixel-vectorized kernel, which keeps batch 1 below 27 taps (not measured at batch 1
 * between 18 and 72); at 2304 taps 0.86× the packed GEMM at batch 64 and 1.08× at batch 1; with 4 output
 * channels (half its lanes idle) 1.07×.
 */
export const CHAN_MIN_OUT = 8;
export const CHAN_MAX_TAPS = 1152;
export const CHAN_MIN_TAPS_ONE = 27;

/** Whether conv2dForward takes the direct kernel vectorized across output channels. */
export function chanConv(g: ConvGeom): boolean {
  const taps = g.C * g.kh * g.kw;
  return (
    unitStride(g) &&
    g.kh === 3 &&
    g.kw === 3 &&
    g.Co >= CHAN_MIN_OUT &&
    taps <= CHAN_MAX_TAPS &&
    (g.B > 1 || taps >= CHAN_MIN_TAPS_ONE)
  );
}

/** im2col / col2im are split over threads only when big enough to repay waking them. */
export function threadedCol(g: ConvGeom, threads: number): boolean {
  return threads > 1 && g.C > 1 && g.C * g.kh * g.kw * g.B * g.OH * g.OW >= THREAD_MIN_COL;
}

/** A convolution geometry as the kernels' argument list. */
export function geomArgs(g: ConvGeom): number[] {
  return [g.B, g.C, g.H, g.W, g.kh, g.kw, g.sh, g.sw, g.ph, g.pw, g.dh, g.dw, g.OH, g.OW];
}
