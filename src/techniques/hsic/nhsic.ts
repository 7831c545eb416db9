// Normalised HSIC of spec 03 (`hsic_normalized_cca` of the authors' code), composed from the three ops.
import { Tensor, noGrad } from '../../core/tensor.js';
import { mul, sum } from '../../ops/index.js';
import { centreKernel, gaussianKernel, hsicProjector } from './ops.js';

/** ε of the regulariser εm·I in (K̄ + εmI)⁻¹ (the authors' 1e-5). */
export const HSIC_EPS = 1e-5;

/**
 * P = K̃(K̃ + εmI)⁻¹ with K̃ = H K H and K the Gaussian kernel matrix of the rows of z (width σ√d):
 * the factor of nHSIC(Z, ·) that depends on Z. z: [m, ...]; differentiable with respect to z.
 */
export function hsicFactor(z: Tensor, sigma: number, eps = HSIC_EPS): Tensor {
  const m = z.shape[0];
  return hsicProjector(centreKernel(gaussianKernel(z, sigma)), eps * m);
}

/**
 * Normalised HSIC from two factors: nHSIC(A, B) = tr(P_A P_B) = Σ_ab (P_A ∘ P_B)_ab (both symmetric), equal
 * to the authors' Σ_ab (R_A ∘ R_Bᵀ)_ab with R = K̄(K̄ + εmI)⁻¹, K̄ = K H. Bounded by the rank: ≤ m, and
 * ≤ C − 1 for one-hot labels of C classes.
 */
export function nhsicOf(pa: Tensor, pb: Tensor): Tensor {
  return sum(mul(pa, pb));
}

/** nHSIC(X, Y) of two batches of rows (the same m), without gradient: a number. */
export function nhsic(x: Tensor, y: Tensor, sigma: number, eps = HSIC_EPS): number {
  if (x.shape[0] !== y.shape[0]) throw new Error(`nhsic: row counts differ (${x.shape[0]} vs ${y.shape[0]})`);
  return noGrad(() => nhsicOf(hsicFactor(x, sigma, eps), hsicFactor(y, sigma, eps)).item());
}

/** One-hot rows [m, classes] of integer labels, as floats (the Y of the HSIC bottleneck). */
export function oneHot(labels: ArrayLike<number>, classes: number, dtype: 'float32' | 'float64' = 'float32'): Tensor {
  const t = Tensor.zeros([labels.length, classes], dtype);
  for (let i = 0; i < labels.length; i++) {
    const c = labels[i];
    if (!Number.isInteger(c) || c < 0 || c >= classes)
      throw new Error(`oneHot: label ${c} at row ${i} is outside 0..${classes - 1}`);
    t.data[i * classes + c] = 1;
  }
  return t;
}
