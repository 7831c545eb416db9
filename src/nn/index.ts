export { Module, type LayerSpec } from './module.js';
export * from './layers.js';
export * from './init.js';
export { buildModel, buildLayer, registerLayer, specInt, validateSpec, specOf, referenceCnn, referenceMlp, vggSpec, type ModelSpec } from './spec.js';
