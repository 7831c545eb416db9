import assert from 'node:assert/strict';
import type { CheckpointStore, ConvGeom, FArray } from '../src/index.js';

/** Assert two arrays are equal within atol + rtol·|expected|, naming the first bad element. */
export function assertClose(
  actual: ArrayLike<number>,
  expected: ArrayLike<number>,
  atol = 1e-5,
  rtol = 1e-4,
  what = 'array',
): void {
  assert.equal(actual.length, expected.length, `${what}: length ${actual.length} vs ${expected.length}`);
  for (let i = 0; i < expected.length; i++) {
    const a = actual[i],
      e = expected[i];
    if (!(Math.abs(a - e) <= atol + rtol * Math.abs(e))) {
      assert.fail(`${what}[${i}]: got ${a}, expected ${e} (atol ${atol}, rtol ${rtol})`);
    }
  }
}

export function randomArray(
  n: number,
  seed: number,
  ctor: typeof Float32Array | typeof Float64Array = Float32Array,
): FArray {
  const a = new ctor(n);
  let s = seed >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    a[i] = (s / 4294967296) * 2 - 1;
  }
  return a;
}

/** A convolution geometry (square stride, padding, dilation) with the output size computed from the input. */
export function geom(
  B: number,
  C: number,
  H: number,
  W: number,
  Co: number,
  kh: number,
  kw: number,
  s: number,
  p: number,
  d: number,
): ConvGeom {
  const OH = Math.floor((H + 2 * p - d * (kh - 1) - 1) / s) + 1,
    OW = Math.floor((W + 2 * p - d * (kw - 1) - 1) / s) + 1;
  return { B, C, H, W, Co, kh, kw, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, OH, OW };
}

/** A checkpoint store in memory (a copy of the last bytes saved), for resume tests. */
export function memoryStore(): CheckpointStore & { bytes: Uint8Array | null } {
  const s = {
    bytes: null as Uint8Array | null,
    save: (b: Uint8Array) => void (s.bytes = b.slice()),
    load: () => s.bytes,
  };
  return s;
}
