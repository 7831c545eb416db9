// Circulant layers (CircConv, Liao & Yuan; CirCNN, Ding et al.): spec shared/papers/02-circulant-conv.md.
export {
  CircLinear,
  CircConv2d,
  circMults,
  FFT_MIN_BLOCK,
  MAX_EXPANDED_BLOCK,
  CIRC_GEMV,
  type CircPath,
  type CircConvOptions,
} from './layers.js';
export { toCirculant, projectCirculant, type ToCirculantOptions, type ToCirculantReport } from './convert.js';
export { rfft, irfft, binProduct, rfftBins, irfftBins, circGemv } from './fft-ops.js';
export { binConv2d } from './bin-conv.js';
export { fftKernels, type FftKernels } from './kernels/index.js';
import './profile.js';
