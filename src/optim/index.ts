export { Optimizer, type ParamState } from './optimizer.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { stepSchedule, cosineSchedule, warmup, constantSchedule, type Schedule } from './schedule.js';
