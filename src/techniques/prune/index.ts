// Pruning (Qi et al., shared/papers/05): masks as a reparametrisation, one-shot methods,
// pruneToRate, compact(), CSR inference layers and L1 training.
export {
  applyMask,
  removePruning,
  reapplyMasks,
  isPruned,
  prunedNames,
  pruneEntry,
  effectiveParam,
} from './reparam.js';
export {
  l1Unstructured,
  randomUnstructured,
  globalUnstructured,
  lnStructured,
  customMask,
  amountToCount,
  channelNorms,
  type Amount,
} from './methods.js';
export {
  analyse,
  countWeights,
  isWeightLayer,
  type Structure,
  type PrunableLayer,
  type ChannelGroup,
  type Counts,
  type WeightLayer,
} from './graph.js';
export {
  pruneToRate,
  cubicSparsity,
  RATE_TOLERANCE,
  type PruneToRateOptions,
  type PruneToRateResult,
  type RateMetric,
} from './to-rate.js';
export { compact, type CompactOptions, type CompactReport } from './compact.js';
export { SparseLinear, SparseConv2d, toCsr, SPARSE_MAX_DENSITY } from './sparse.js';
export { proximalL1, softThreshold, l1Norm } from './l1.js';
export { installGate, removeGates, gateValues, type Gate, type GateSet } from './gates.js';
export { sparseKernels, type SparseKernels, type Csr } from './kernels/index.js';
