export { Optimizer, type ParamState, type ParamGroup } from './optimizer.js';
export { paramGroups, type GroupHint, type HasGroupHints } from './groups.js';
export { SGD, type SgdOptions } from './sgd.js';
export { Adam, AdamW, type AdamOptions } from './adam.js';
export { stepSchedule, cosineSchedule, scheduleByName, warmup, constantSchedule, type Schedule } from './schedule.js';
