// Gradient checks of the Fit-DNN technique: its ops (sin, diagonalsToDense) and the whole equivalent
// network map in float64 (local connections and the cross-layer carry included).
import * as F from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf } = inputs(47);

gradcheckCase('sin', (x) => F.sin(x), [leaf([3, 5], -4, 4)]);
gradcheckCase('diagonalsToDense (offsets −3, 0, 2 on N = 5, two layers)', (v) => F.diagonalsToDense(v, [-3, 0, 2]), [
  leaf([2, 5, 3]),
]);
for (const [theta, L] of [
  [0.3, 3],
  [2, 2],
]) {
  const N = 6,
    M = 4,
    P = 3,
    offsets = [-4, -1, 2, 5];
  gradcheckCase(
    `Fit-DNN equivalent network map (θ = ${theta}, L = ${L})`,
    (u, wi, bi, v, bh, wo, bo) =>
      F.fitDnnMap(
        u,
        { inputWeight: wi, inputBias: bi, hiddenWeight: v, hiddenBias: bh, outputWeight: wo, outputBias: bo },
        { theta, offsets },
      ),
    [
      leaf([2, M]),
      leaf([N, M]),
      leaf([N]),
      leaf([L - 1, N, offsets.length]),
      leaf([L - 1, N]),
      leaf([P, N]),
      leaf([P]),
    ],
  );
}
