// Shockable-rhythm detection (Krasteva et al. 2020, spec 09): the synthetic rhythm generator, the block
// architecture and the shock-advisory metrics.
export { ecgsyn, scaledWaves, rescale, PQRST, type Wave, type BeatOptions } from './ecgsyn.js';
export {
  RHYTHMS,
  ECG_HZ,
  UV_PER_LSB,
  SHOCKABLE,
  NON_SHOCKABLE,
  addNoise,
  quantise,
  vf,
  type RhythmKind,
} from './rhythms.js';
export { ecgDataset, cropEcg, padEcg, boundaryRows, PAPER_COUNTS, type EcgSet, type EcgSetOptions } from './dataset.js';
export {
  ecgModelSpec,
  ecgParamCount,
  ecgLengths,
  ecgMinSamples,
  ECG_PAPER_BEST,
  GlobalMaxPool1d,
  SigmoidLogits,
  ECG_INPUT_SCALE,
  type EcgParams,
} from './model.js';
export { shockMetrics, type ShockMetrics } from './metrics.js';
export { ecgSpace, ECG_SPACE, ecgParamsOf, ecgFlatParams, ecgDrawCheck, type EcgBox } from './space.js';
