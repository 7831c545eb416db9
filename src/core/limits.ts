/**
 * Limits on every size that comes from outside the program: model specs, model files, flags and
 * environment variables. Each is checked against these *before* anything is allocated or looped
 * over, so a hostile or mistyped value is refused in milliseconds with a message naming the field
 * and the limit, instead of exhausting the machine. The values are far above anything Frugal's
 * models, reproductions or data need (the largest reference model has under a million parameters)
 * and well inside what the 4 GiB wasm32 memory can hold.
 */
export const LIMITS = {
  /**
   * Elements of one tensor: 2^28 float32 values are 1 GiB, a quarter of the kernels' 4 GiB
   * WebAssembly memory, which must also hold the tensor's gradient and the ops' scratch.
   */
  maxTensorElements: 2 ** 28,
  /**
   * Parameters (and buffers) of one model spec: 2^26 float32 values are 256 MiB; training with
   * Adam holds four copies (weights, gradients, two moments), 1 GiB.
   */
  maxModelParams: 2 ** 26,
  /**
   * Elements of one sample's activation at any layer: 2^24 float32 values are 64 MiB, so a batch
   * of 16 is already 1 GiB (Fashion-MNIST's CNN peaks at 12,544 per sample).
   */
  maxActivationElements: 2 ** 24,
  /** Kernel threads per core: more only adds context switches (the pool spins, then sleeps). */
  threadsPerCore: 4,
  /** Training epochs from a flag: 10^5 full passes is years of CPU time on the full data set. */
  maxEpochs: 100_000,
  /** Samples in one batch from a flag: 2^16 (Fashion-MNIST's 60,000 images fit in one). */
  maxBatchSize: 2 ** 16,
} as const;

/** Raised for a value beyond a limit or not a valid number; the message names the field and the limit. */
export class LimitError extends Error {}

/** Most kernel threads for this many cores (LIMITS.threadsPerCore of them per core). */
export function maxThreads(cores: number): number {
  return LIMITS.threadsPerCore * Math.max(1, Math.floor(cores));
}

/**
 * `v` as an integer in [min, max], else a LimitError naming `field` and the range. Checked before
 * any arithmetic on it, so NaN, ±∞, fractions and non-numbers never reach a loop bound.
 */
export function boundedInt(field: string, v: unknown, min: number, max: number, why = ''): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new LimitError(
      `${field} must be an integer in [${min}, ${max}]${why ? ` (${why})` : ''}, got ${JSON.stringify(v) ?? String(v)}`,
    );
  return v;
}

/** `v` as a finite number, else a LimitError naming `field` (JSON turns NaN and ∞ into null). */
export function finite(field: string, v: unknown): number {
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new LimitError(`${field} must be a finite number, got ${JSON.stringify(v) ?? String(v)}`);
  return v;
}

/** Refuse a count of elements above `limit`, naming what it counts and the limit's name in LIMITS. */
export function checkCount(what: string, n: number, limit: keyof typeof LIMITS): void {
  const max = LIMITS[limit];
  if (!(n <= max))
    throw new LimitError(
      `${what} is ${Number.isFinite(n) ? n.toLocaleString('en-US') : n} elements, above the limit of ` +
        `${max.toLocaleString('en-US')} (${limit}, core/limits.ts)`,
    );
}
