// Gradient checks of the circulant technique's ops (rfft, irfft, rfftBins, irfftBins, binProduct, binConv2d).
import * as F from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf } = inputs(43);

for (const n of [1, 2, 4, 8, 16]) {
  gradcheckCase(`rfft (N = ${n})`, (x) => F.rfft(x), [leaf([3, n])]);
  gradcheckCase(`irfft (N = ${n})`, (x) => F.irfft(x), [leaf([2, 3, (n >> 1) + 1])]);
}
for (const [B, R, N, P] of [
  [2, 3, 2, 1],
  [1, 2, 8, 3],
  [2, 1, 16, 1],
]) {
  gradcheckCase(`rfftBins (B ${B}, R ${R}, N ${N}, P ${P})`, (x) => F.rfftBins(x, B, R, N, P), [leaf([B, R * N * P])]);
  gradcheckCase(`irfftBins (B ${B}, S ${R}, N ${N}, P ${P})`, (y) => F.irfftBins(y), [leaf([N >> 1, B, 2, R, P])]);
}
gradcheckCase('binProduct (complex per-bin products)', (a, w) => F.binProduct(a, w), [
  leaf([2, 3, 4, 5]),
  leaf([2, 2, 4, 5]),
]);
gradcheckCase('binConv2d (one convolution per bin)', (x, w) => F.binConv2d(x, w, { padding: 1 }), [
  leaf([3, 2, 2, 4, 5]),
  leaf([3, 3, 2, 3, 3]),
]);
gradcheckCase('binConv2d stride 2, no padding', (x, w) => F.binConv2d(x, w, { stride: 2 }), [
  leaf([2, 2, 3, 5, 4]),
  leaf([2, 2, 3, 2, 2]),
]);
