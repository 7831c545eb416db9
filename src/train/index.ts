export { fit, NonFiniteLossError, type FitOptions, type FitResult, type EpochLog, type Callback } from './fit.js';
export { type CheckpointStore, checkpointInfo } from './checkpoint.js';
export { setDefaultStopSignal, defaultStopSignal, TrainingInterrupted, type StopSignal } from './stop.js';
export {
  backprop,
  crossEntropyLoss,
  perSampleCrossEntropy,
  logitGradNorm,
  type TrainStep,
  type StepContext,
  type StepResult,
  type LossFn,
  type BackpropOptions,
} from './step.js';
export { evaluate, argmax, accuracy, balancedAccuracy, confusionMatrix, type EvalResult } from './metrics.js';
export { Progress, type ProgressSink, type ProgressState } from './progress.js';
export { recalibrateBatchNorm } from './recalibrate.js';
export { distillLoss, distillation, type DistillOptions } from './distill.js';
export { predict, type Prediction } from './predict.js';
