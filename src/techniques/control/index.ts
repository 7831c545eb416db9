// Optimal control with GDHP (spec 08): plants, oracles (Riccati, iLQR), the trainer and rollouts.
export { type Mat as NestedMatrix, frob, symEigenvalues, checkMatrix, checkDefinite } from './linalg.js';
export * from './dare.js';
export * from './plant.js';
export * from './systems.js';
export * from './rollout.js';
export * from './ilqr.js';
export * from './networks.js';
export * from './gdhp.js';
export * from './analysis.js';
export { cos } from './ops.js';
export * from './controller.js';
export * from './recipes.js';
export * from './select.js';
