// Importance-sampled mini-batches (RAS, Rojas-Domínguez et al., and its anchors): spec
// shared/papers/10-ras-importance-sampling.md.
export {
  adaptiveSampler,
  asSampler,
  rasSampler,
  stratumProbabilities,
  checkLambda,
  type AdaptiveOptions,
  type AdaptiveSampler,
  type AdaptiveState,
  type Regularizer,
} from './adaptive.js';
export { obsSampler, obsProbabilities, type ObsOptions, type ObsSampler } from './obs.js';
export {
  kfSampler,
  kfScorer,
  lossScorer,
  type ScorerOptions,
  kfDistribution,
  kfTau,
  type KfOptions,
  type KfSampler,
  type RowScorer,
} from './kf.js';
export { samplerByName, uniformSampler, SAMPLERS, type SamplerName, type NamedSamplerOptions } from './by-name.js';
export { WeightTally } from './stats.js';
