// Frugal: browser-safe public API. Node-only extras (files, CLI helpers) are in ./node.js.
export { Tensor, noGrad, isGradEnabled } from './core/tensor.js';
export { Rng } from './core/rng.js';
export type { DType, FArray } from './core/dtype.js';
export { OPS, type Op } from './core/op.js';
export * from './ops/index.js';
export { backendFor, backendName, setBackend, reference, wasmBackend, wasmUnavailableReason } from './backend/index.js';
export type { Backend, ConvGeom, PoolGeom } from './backend/index.js';
