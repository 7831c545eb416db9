/** Element types. float64 runs on the reference backend only (gradient checks, precision-sensitive methods). */
export type DType = 'float32' | 'float64';
export type FArray = Float32Array | Float64Array;

import { checkCount } from './limits.js';

/** A zeroed array of n elements; n above LIMITS.maxTensorElements is refused before allocating. */
export function allocArray(dtype: DType, n: number): FArray {
  checkCount('a tensor', n, 'maxTensorElements');
  return dtype === 'float64' ? new Float64Array(n) : new Float32Array(n);
}

export function dtypeOf(a: FArray): DType {
  return a instanceof Float64Array ? 'float64' : 'float32';
}

/** An array of the same element type as `like`, of length n. */
export function allocLike(like: FArray, n: number): FArray {
  checkCount('a tensor', n, 'maxTensorElements');
  return like instanceof Float64Array ? new Float64Array(n) : new Float32Array(n);
}
