// The binary technique's kernel family: signs packed as bits, XNOR-popcount products, padded
// sign maps and the neural-jet tree. Reference and WebAssembly implementations sit side by side
// (reference.ts, wasm.ts); kernelFamily picks one per dtype like the core kernels.
import type { FArray } from '../../../core/dtype.js';
import type { ConvGeom } from '../../../backend/types.js';
import { kernelFamily } from '../../../backend/family.js';
import { binaryReference } from './reference.js';
import { binaryWasm } from './wasm.js';

/** The XNOR-popcount and jet kernels of binarized networks. */
export interface BinaryKernels {
  /**
   * Signs as bits (1 for x ≥ 0): x [M × K] → out [M × 2·⌈K/64⌉] (Int32Array holding 64-bit
   * words, low half first), padding bits 0.
   */
  packSigns(x: FArray, M: number, K: number, out: Int32Array): void;
  /**
   * Binary convolution patches: the signs of x [B, C, H, W] under every output position and tap,
   * out [B·OH·OW × kh·kw·2·⌈C/64⌉] (per tap the channel bits, whole 64-bit words); taps in the
   * padding read padValue (±1) on every real channel. Dilation 1. dense (C < 64 only): the taps'
   * C bits back to back, rows of 2·⌈kh·kw·C/64⌉ (no word per tap, less padding to XNOR).
   */
  packPatches(x: FArray, g: ConvGeom, padValue: 1 | -1, out: Int32Array, dense?: boolean): void;
  /**
   * C[i, j] = Σ_k a_ik·b_jk over ±1 values from packed rows A [M × ·] and B [N × ·] holding K
   * real bits (XNOR-popcount: K − 2·popcount(a XOR b)); rows are `rowWords` 64-bit words
   * (default ⌈K/64⌉; more for convolution patches, whose taps each fill whole words), every
   * padding bit 0 on both sides.
   */
  bgemm(A: Int32Array, B: Int32Array, M: number, N: number, K: number, C: Int32Array, rowWords?: number): void;
  /** out [C, H+2p, W+2p] = sign(x) (±1, sign(0) = +1) of x [C, H, W], bordered by p pixels of padValue: a binary
   * layer's padded input. */
  signPad(x: FArray, C: number, H: number, W: number, p: number, padValue: 1 | -1, out: FArray): void;
  /** The nine 3×3 jet maps of every channel (neural jet features): x [C, H, W] → out [C, 9, H−2, W−2], exact on
   * integers. */
  jetTree(x: FArray, C: number, H: number, W: number, out: FArray): void;
}

/** The binary kernels for arrays of a dtype: `binaryKernels.for('float32').bgemm(…)`. */
export const binaryKernels = kernelFamily<BinaryKernels>('binary', { reference: binaryReference, wasm: binaryWasm });
