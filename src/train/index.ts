export { fit, NonFiniteLossError, type FitOptions, type FitResult, type EpochLog, type Callback, type CheckpointStore } from './fit.js';
export { evaluate, argmax, accuracy, balancedAccuracy, confusionMatrix, type EvalResult } from './metrics.js';
export { Progress, type ProgressSink, type ProgressState } from './progress.js';
export { recalibrateBatchNorm } from './recalibrate.js';
export { distillLoss, type DistillOptions } from './distill.js';
