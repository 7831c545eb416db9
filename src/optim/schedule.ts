/** A learning-rate schedule: the rate at a (0-based) step or epoch. */
export type Schedule = (t: number) => number;

/** η·γ^⌊t/stepSize⌋ (PyTorch StepLR). */
export function stepSchedule(base: number, stepSize: number, gamma = 0.1): Schedule {
  if (!(stepSize >= 1)) throw new Error(`step schedule: step size must be ≥ 1, got ${stepSize}`);
  return (t) => base * Math.pow(gamma, Math.floor(t / stepSize));
}

/** Cosine annealing from base to min over total steps (Loshchilov & Hutter, SGDR without restarts). */
export function cosineSchedule(base: number, total: number, min = 0): Schedule {
  if (!(total >= 1)) throw new Error(`cosine schedule: total must be ≥ 1, got ${total}`);
  return (t) => min + 0.5 * (base - min) * (1 + Math.cos((Math.PI * Math.min(t, total)) / total));
}

/**
 * The schedules `--schedule` names, over `epochs` epochs from `lr`: none (constant), cosine annealing to 0, or step
 * (×0.1 every third of the run).
 */
export function scheduleByName(name: string, lr: number, epochs: number): Schedule | undefined {
  if (name === 'cosine') return cosineSchedule(lr, epochs);
  if (name === 'step') return stepSchedule(lr, Math.max(1, Math.ceil(epochs / 3)), 0.1);
  return undefined;
}

/** Linear warm-up from 0 over `steps`, then the inner schedule (shifted to start at 0). */
export function warmup(inner: Schedule, steps: number): Schedule {
  if (!(steps >= 0)) throw new Error(`warm-up steps must be ≥ 0, got ${steps}`);
  return (t) => (t < steps ? (inner(0) * (t + 1)) / steps : inner(t - steps));
}

/** A constant rate. */
export const constantSchedule =
  (base: number): Schedule =>
  () =>
    base;
