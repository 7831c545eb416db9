// Frugal WebAssembly kernels. Memory layout is owned by the JavaScript side: every
// pointer here is a byte offset into linear memory at or above heapBase().
export {
  gemm,
  gemmTasks,
  gemmBatchTasks,
  gemmSplitKTasks,
  gemmShared,
  gemmSharedCtrlInts,
  gemmSharedPanelFloats,
  gemmWorkBytes,
} from './gemm';
export {
  im2col,
  col2im,
  im2colTasks,
  col2imTasks,
  swap01,
  rowSums,
  pool2dForward,
  pool2dBackward,
  convDirect,
  convDirectTasks,
  convDirectScratch,
  directScratch,
  swap01ReluPool,
  swap01Tasks,
  swap01ReluPoolTasks,
  binConvTasks,
} from './conv';
export { chanPack, chanPackFloats, chanScratch, convChanTasks } from './convchan';
export {
  relu,
  reluBackward,
  binary,
  adam,
  tileAdd,
  sumTiles,
  channelAffine,
  bnStats,
  bnNormalize,
  bnGradSums,
  bnInputGrad,
} from './elementwise';
export { spmm, spmmTasks, transpose } from './sparse';
export { rfft, irfft, rfftPacked, irfftPacked, fftTasks, fftWorkFloats, cbin } from './fft';
export { circGemv, circGemvScratch } from './circ';
export {
  packSigns,
  packSignsTasks,
  packPatches,
  bgemm,
  bgemmTasks,
  bgemmPanels,
  bgemmPanelBytes,
  bgemmPairBytes,
  jetTree,
  signPad,
} from './binary';

export function heapBase(): usize {
  return (__heap_base + 15) & ~15;
}
export { peakFma } from './peak';
export { padPlanes } from './colpack';
export { ifSteps, spikeLinear, padTranspose } from './spiking';
