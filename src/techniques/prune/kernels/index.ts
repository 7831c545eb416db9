// The sparse kernel family (pruned weights at inference): CSR products and the CSR
// convolution. Reference and WebAssembly implementations side by side (reference.ts, wasm.ts).
import type { FArray } from '../../../core/dtype.js';
import type { ConvGeom } from '../../../backend/types.js';
import { kernelFamily } from '../../../backend/family.js';
import { sparseReference } from './reference.js';
import { sparseWasm } from './wasm.js';

/**
 * A sparse matrix in compressed-sparse-row form: row r holds vals[rowPtr[r] … rowPtr[r+1]) at columns colIdx[…].
 */
export interface Csr {
  rows: number;
  cols: number;
  rowPtr: Int32Array;
  colIdx: Int32Array;
  vals: FArray;
}

/** Products with a CSR matrix. */
export interface SparseKernels {
  /** Y[rows × n] = S·X for a CSR matrix S and dense X [cols × n]. */
  spmm(s: Csr, X: FArray, n: number, Y: FArray): void;
  /** conv2d forward whose weights [Co, C·kh·kw] are a CSR matrix (pruned weights at inference). */
  conv2dSparse(x: FArray, w: Csr, bias: FArray | null, g: ConvGeom, out: FArray): void;
}

/** The sparse kernels for arrays of a dtype: `sparseKernels.for(x.dtype).spmm(…)`. */
export const sparseKernels = kernelFamily<SparseKernels>('sparse', { reference: sparseReference, wasm: sparseWasm });
