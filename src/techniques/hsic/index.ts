// HSIC bottleneck (Ma, Lewis & Kleijn, AAAI 2020): spec shared/papers/03-hsic-bottleneck.md.
export { gaussianKernel, centreKernel, hsicProjector } from './ops.js';
export { spdInverse, SOLVE_BLOCK, NotPositiveDefiniteError } from './linalg.js';
export { HSIC_EPS, hsicFactor, nhsicOf, nhsic, oneHot } from './nhsic.js';
export { Residual } from './residual.js';
export {
  HSIC_TRAINABLE,
  HSIC_PASSTHROUGH,
  HsicModelError,
  checkHsicOptions,
  hsicBlocks,
  hsicDiagnostics,
  hsicOptimizers,
  hsicStep,
  type HsicBlock,
  type HsicDiagnostics,
  type HsicOptions,
} from './trainer.js';
export {
  fitPermutation,
  maxAssignment,
  permutedAccuracy,
  formatTrain,
  type FormatOptions,
  type PermutationFit,
} from './readout.js';
export {
  trainHsic,
  hsicProbe,
  outputWidth,
  type HsicProbe,
  type HsicProbeOptions,
  type HsicTrainOptions,
  type HsicTrainResult,
} from './run.js';
export { hsicMlp, hsicResConv } from './models.js';
