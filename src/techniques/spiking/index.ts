// Spiking networks on modelled synapses (Lee et al., spec shared/papers/07-snn-schottky-l1.md): IF neurons,
// rate coding, ANN→SNN conversion (Diehl et al.), one-shot pruning of L1-trained nets and a device model.
export { IFNeuron, ifStep, checkIFOptions, type IFOptions, type ResetMode } from './neuron.js';
export { spikingKernels, type SpikingKernels } from './kernels/index.js';
export {
  SpikingNetwork,
  checkTimesteps,
  SPIKING_INNER,
  type Coding,
  type Readout,
  type SpikingCost,
  type SynapticCost,
  type SpikingOptions,
} from './network.js';
export { accuracyByTimesteps } from './curve.js';
export { simulateReference, type ReferenceRun } from './reference.js';
export { toSpiking, foldForSpiking, type ToSpikingOptions, type Conversion, type Normalization } from './convert.js';
export {
  ConductancePair,
  programDevices,
  checkDeviceOptions,
  type SynapseDevice,
  type ConductancePairOptions,
} from './device.js';
export { pruneByThreshold, autoPrune, type PruneResult, type PrunePoint } from './prune-once.js';
import './register.js';
import './profile.js';
