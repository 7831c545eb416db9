// Binarized networks and neural jet features (Simons & Lee): spec shared/papers/06-binary-jet-features.md.
export {
  BinaryLinear,
  BinaryConv2d,
  QuantizedLayer,
  padConstant,
  type BinaryOptions,
  type BinaryConvOptions,
  type Quantizer,
} from './quantized.js';
export { NeuralJetConv2d, JETS, JET_TREE_OPS, jetTree, type JetOptions } from './jets.js';
export {
  packBinary,
  PackedBinaryLayer,
  PackedJetLayer,
  SignThreshold,
  toBits,
  fromBits,
  type PackReport,
  type PackedConfig,
} from './pack.js';
export { steSign, oneHotSte } from './ste.js';
export { binaryKernels, type BinaryKernels } from './kernels/index.js';
export type { BinarySummary } from './profile.js';
import './profile.js';
