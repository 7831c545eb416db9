export { Module, type LayerSpec, type ForwardPreHook, type ForwardHook, type HookHandle } from './module.js';
export * from './layers.js';
export * from './init.js';
export { setInferenceFusion } from './fuse.js';
export {
  buildModel,
  layerTableMarkdown,
  buildLayer,
  registerLayer,
  specInt,
  validateSpec,
  specOf,
  referenceCnn,
  referenceMlp,
  vggSpec,
  FASHION_MNIST_STATS,
  type ModelSpec,
} from './spec.js';
export {
  linearPlan,
  convPlan,
  planLayers,
  registerLayerFields,
  layerFields,
  type LayerPlan,
  type Planner,
  type Fields,
  type LayerFields,
} from './spec-plan.js';
