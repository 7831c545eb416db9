// Gradient checks of the HSIC bottleneck's ops (gaussianKernel, centreKernel, hsicProjector) and of the
// local loss nHSIC(Z, X) − β·nHSIC(Z, Y) they compose.
import * as F from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf, rng } = inputs(47);

gradcheckCase('gaussianKernel (σ 0.8, d 3)', (z) => F.gaussianKernel(z, 0.8), [leaf([5, 3])]);
gradcheckCase('gaussianKernel on [m, C, H, W] rows', (z) => F.gaussianKernel(z, 1.5), [leaf([4, 2, 2, 1])]);
gradcheckCase('centreKernel (H K H)', (k) => F.centreKernel(k), [leaf([5, 5])]);
// λ = 4 keeps sym(K) + λI positive definite for entries in [−1, 1).
gradcheckCase('hsicProjector (K̃(K̃ + λI)⁻¹)', (k) => F.hsicProjector(k, 4), [leaf([5, 5])]);
gradcheckCase('hsicProjector, small λ on a kernel matrix', (z) => F.hsicProjector(F.gaussianKernel(z, 1), 0.05), [
  leaf([4, 3]),
]);
// The local loss of one layer: nHSIC(Z, X) − β·nHSIC(Z, Y) with X and Y fixed.
const x = F.Tensor.rand([6, 5], rng, 0, 1, 'float64');
const y = F.oneHot([0, 1, 2, 0, 1, 2], 3, 'float64');
const px = F.hsicFactor(x, 1),
  py = F.hsicFactor(y, 1);
gradcheckCase(
  'HSIC local loss nHSIC(Z, X) − 2·nHSIC(Z, Y)',
  (z) => F.sub(F.nhsicOf(F.hsicFactor(z, 1, 1e-2), px), F.mul(F.nhsicOf(F.hsicFactor(z, 1, 1e-2), py), 2)),
  [leaf([6, 4])],
  { atol: 1e-5, rtol: 1e-3 },
);
