// Frugal: browser-safe public API. Node-only extras (files, CLI helpers) are in ./node.js.
export { Tensor, noGrad, isGradEnabled } from './core/tensor.js';
export { Rng } from './core/rng.js';
export { LIMITS, LimitError, maxThreads } from './core/limits.js';
export { withScope, inScope, poolStats, persistentArray } from './core/arena.js';
export type { DType, FArray } from './core/dtype.js';
export { OPS, type Op, type OpName } from './core/op.js';
export * from './ops/index.js';
export {
  backendFor,
  backendName,
  setBackend,
  reference,
  wasmBackend,
  wasmUnavailableReason,
  setThreads,
  checkThreads,
  getThreads,
  threadUse,
} from './backend/index.js';
export type { Backend, ConvEpilogue, ConvGeom, PoolGeom, WasmRuntime } from './backend/index.js';
export { kernelFamily, type KernelFamily, type KernelFamilyImpls } from './backend/family.js';
export * from './nn/index.js';
export * from './optim/index.js';
export { parseIdx, encodeIdxU8, IdxError, type IdxArray } from './data/idx.js';
export { parseNpy, encodeNpyF32, NpyError, type NpyArray } from './data/npy.js';
export {
  DataLoader,
  gatherBatch,
  subset,
  trainValSplit,
  sampleSize,
  type ImageDataset,
  type LoaderOptions,
  type Batch,
} from './data/dataset.js';
export {
  sequentialSampler,
  shuffleSampler,
  weightedSampler,
  normaliseProbabilities,
  drawBatch,
  epochRng,
  epochLength,
  balancedWeights,
  type Sampler,
  type SampledBatch,
  type SamplerState,
  type WeightedOptions,
  type SampleFeedback,
} from './data/sampler.js';
export * from './train/index.js';
export {
  encodeSafetensors,
  decodeSafetensors,
  tensorsOf,
  SafetensorsError,
  MAX_HEADER_BYTES,
  type StEntry,
  type StDType,
} from './io/safetensors.js';
export { decodeModel, encodeModel } from './io/model-bytes.js';
export {
  profileModel,
  formatProfile,
  profileJson,
  registerProfileExtension,
  extra,
  type ModelProfile,
  type LayerProfile,
  type CostReport,
  type Costed,
  type ProfileExtension,
  type ProfileColumn,
} from './report/profile.js';
export { compareLatency } from './report/latency.js';
export * from './techniques/prune/index.js';
export * from './techniques/circulant/index.js';
export * from './techniques/binary/index.js';
export * from './techniques/sampling/index.js';
export * from './techniques/fitdnn/index.js';
export * from './techniques/hsic/index.js';
export * from './techniques/layerwise/index.js';
export * from './techniques/control/index.js';
export * from './techniques/spiking/index.js';
export * from './search/index.js';
export { toOnnx, OnnxExportError, ONNX_OPSETS, type ToOnnxOptions, type OnnxExportable } from './onnx/export.js';
export { fromOnnx, OnnxImportError, type FromOnnxResult } from './onnx/import.js';
export { CIRCULANT_EXPORTS, type CirculantExport } from './onnx/circulant.js';
export * from './techniques/ecg/index.js';
