// Fit-DNN: a deep network folded in time into one neuron with delayed feedback loops (Stelzer et al.,
// Nature Communications 2021): spec shared/papers/04-fit-dnn.md.
export { FitDnn, simulateFitDnn, type FitDnnSimulation } from './layer.js';
export { checkOffsets, drawOffsets, type FitDnnConfig } from './config.js';
export { fitDnnMap, fitDnnStates, fitDnnNodeLoop, type FitDnnWeights, type MapOptions } from './map.js';
export { solveDde, defaultSubsteps, MAX_SUBSTEPS, type DdeResult } from './dde.js';
export { sin, diagonalsToDense } from './ops.js';
import './profile.js';
