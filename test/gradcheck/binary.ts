// Gradient checks of the binary technique's straight-through quantizers (steSign, oneHotSte). Their
// backward rules are surrogates by design, so the central differences are those of the function
// whose derivative the surrogate is: clip·hardtanh(x/clip) for steSign, softmax for oneHotSte.
import * as F from '../../src/index.js';
import type { Tensor } from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf } = inputs(44);

/** Values in (−2, 2) kept away from the clip points ±clip, where the surrogate has a kink. */
function awayFromClip(n: number, clip: number): Tensor {
  const t = leaf([n], -2, 2);
  for (let i = 0; i < t.size; i++) if (Math.abs(Math.abs(t.data[i]) - clip) < 0.05) t.data[i] = clip / 2;
  return t;
}

for (const clip of [1, 0.5]) {
  gradcheckCase(
    `steSign (clip ${clip}: the STE is the derivative of clip·hardtanh(x/clip))`,
    (x) => F.steSign(x, clip),
    [awayFromClip(12, clip)],
    { surrogate: (x) => F.mul(F.hardtanh(F.mul(x, 1 / clip)), clip) },
  );
}
gradcheckCase("steSign (no clipping: the identity's gradient)", (x) => F.steSign(x, Infinity), [leaf([7])], {
  surrogate: (x) => F.mul(x, 1),
});
gradcheckCase('oneHotSte (straight through the softmax)', (x) => F.oneHotSte(x), [leaf([3, 5], -2, 2)], {
  surrogate: (x) => F.softmax(x),
});
