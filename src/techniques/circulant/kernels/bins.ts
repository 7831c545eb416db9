// The packed bin-major layout of real spectra used by block-circulant layers (fft-ops.ts
// rfftBins): M = B·RP vectors of length N, H = N/2, stored as [H, B, 2, RP]. Bin h < H sits at
// slot (h, c) (c = 0 real, 1 imaginary); the real X[N/2] takes bin 0's imaginary slot; the
// imaginary parts of X[0] and X[N/2] (zero for real input) are not stored. The WebAssembly
// kernels write this layout directly (assembly/fft.ts, slot); this is the reference's version.
import type { FArray } from '../../../core/dtype.js';

/** Index of bin k's part c of vector m. */
export function packedSlot(k: number, c: number, m: number, H: number, B: number, RP: number): number {
  const h = k === H ? 0 : k,
    cc = k === H ? 1 : c,
    b = Math.floor(m / RP);
  return ((h * B + b) * 2 + cc) * RP + (m - b * RP);
}

/** Half spectra re, im [M × (H+1)] → packed [H, M/RP, 2, RP] (or back, when unpack: dropped parts get 0). */
export function packSpectra(
  re: FArray,
  im: FArray,
  M: number,
  N: number,
  RP: number,
  packed: FArray,
  unpack: boolean,
): void {
  const H = N >> 1,
    F = H + 1,
    B = M / RP;
  for (let m = 0; m < M; m++) {
    for (let k = 0; k <= H; k++) {
      const i = packedSlot(k, 0, m, H, B, RP);
      if (unpack) re[m * F + k] = packed[i];
      else packed[i] = re[m * F + k];
    }
    for (let k = 1; k < H; k++) {
      const i = packedSlot(k, 1, m, H, B, RP);
      if (unpack) im[m * F + k] = packed[i];
      else packed[i] = im[m * F + k];
    }
    if (unpack) {
      im[m * F] = 0;
      im[m * F + H] = 0;
    }
  }
}

/** [G × N × P] → rows [G·P × N] (vector g·P + p), or back when back. */
export function stridedRows(x: FArray, G: number, N: number, P: number, back: boolean): Float64Array {
  const out = new Float64Array(G * N * P);
  for (let g = 0; g < G; g++)
    for (let n = 0; n < N; n++)
      for (let p = 0; p < P; p++) {
        const s = (g * N + n) * P + p,
          r = (g * P + p) * N + n;
        if (back) out[s] = x[r];
        else out[r] = x[s];
      }
  return out;
}
