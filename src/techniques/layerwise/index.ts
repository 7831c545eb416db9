// Layer-wise training of deep linear networks by block coordinate gradient descent (Shin): spec
// shared/papers/01-layerwise-bcgd.md. Float64 analysis tool: Mat (Float64Array) matrices, not Tensors.
export {
  zeros as zerosMat,
  eye as eyeMat,
  matmul as matmulF64,
  transpose as transposeMat,
  householderQr,
  type Mat,
  type FlopCounter,
} from './mat.js';
export {
  deepLinearWidths,
  checkWidths,
  initDeepLinear,
  semiOrthogonal,
  endToEnd,
  deepLinearFromSpec,
  DEEP_LINEAR_LIMITS,
  type DeepLinear,
  type DeepLinearInit,
} from './network.js';
export {
  directProblem,
  gramProblem,
  GramAccumulator,
  lossOf,
  gramSolve,
  optimum,
  dims,
  type DirectProblem,
  type GramProblem,
  type LeastSquares,
} from './problem.js';
export {
  trainBcgd,
  relativeGaps,
  firstBelow,
  cloneNet,
  type BcgdOptions,
  type BcgdResult,
  type BcgdStep,
  type BcgdOrder,
  type BcgdStepRecord,
} from './bcgd.js';
export { syntheticProblem, fashionProblem, type SyntheticOptions, type FashionLsqOptions } from './data.js';
