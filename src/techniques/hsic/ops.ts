// The three differentiable primitives of the normalised HSIC (spec 03), each with its backward rule:
// the Gaussian kernel matrix, double centring, and the regularised projector K̃(K̃ + λI)⁻¹. The m×m·d and
// m×m×m products run through the backend's gemm (WebAssembly for float32); only O(m²) elementwise work is
// plain TypeScript.
import { scopedArray, scopedEmpty, scopedEmptyLike } from '../../core/arena.js';
import { fmt } from '../../core/shape.js';
import type { Tensor } from '../../core/tensor.js';
import type { FArray } from '../../core/dtype.js';
import { backendFor } from '../../backend/index.js';
import { defineOp } from '../../ops/registry.js';
import { needs } from '../../ops/tape.js';
import { spdInverse } from './linalg.js';

const rows = (z: Tensor): [number, number] => [z.shape[0], z.size / z.shape[0]];

/**
 * Gaussian kernel matrix with the dimension-scaled width of the authors' `kernelmat`:
 * K_ab = exp(−‖z_a − z_b‖² / (2σ²d)), z_a the a-th row of Z flattened, d its length (784 for raw
 * Fashion-MNIST, 10 for one-hot labels, the width for a layer). Z: [m, ...] → K: [m, m].
 * The squared distances come from one gemm: ‖z_a‖² + ‖z_b‖² − 2 z_a·z_b.
 * Gradient: with G = −gK ∘ K / (2σ²d) and W = G + Gᵀ, dZ_a = 2 Σ_b W_ab (z_a − z_b).
 */
export const gaussianKernel = defineOp({
  name: 'gaussianKernel',
  forward(z: Tensor, sigma: number) {
    if (z.rank < 2) throw new Error(`gaussianKernel needs a batch [m, ...], got ${fmt(z.shape)}`);
    if (!(sigma > 0) || !Number.isFinite(sigma)) throw new Error(`gaussianKernel: σ must be positive, got ${sigma}`);
    const [m, d] = rows(z);
    const out = scopedEmpty([m, m], z.dtype),
      k = out.data;
    backendFor(z.dtype).gemm(false, true, m, m, d, z.data, z.data, k, false);
    const sq = new Float64Array(m);
    for (let a = 0; a < m; a++) sq[a] = k[a * m + a];
    const s = 1 / (2 * sigma * sigma * d);
    for (let a = 0; a < m; a++) {
      for (let b = 0; b < m; b++) k[a * m + b] = Math.exp(-Math.max(0, sq[a] + sq[b] - 2 * k[a * m + b]) * s);
      k[a * m + a] = 1;
    }
    return { out, inputs: [z], saved: { m, d, s } };
  },
  backward: (n, out, gy) => {
    const z = n.inputs[0],
      { m, d, s } = n.saved as { m: number; d: number; s: number };
    const k = out.data;
    const w = scopedArray(z.dtype, m * m, false);
    for (let a = 0; a < m; a++)
      for (let b = 0; b < m; b++) w[a * m + b] = -s * (gy[a * m + b] * k[a * m + b] + gy[b * m + a] * k[b * m + a]);
    const dz = scopedEmptyLike(gy, m * d);
    backendFor(z.dtype).gemm(false, false, m, d, m, w, z.data, dz, false);
    for (let a = 0; a < m; a++) {
      let r = 0;
      for (let b = 0; b < m; b++) r += w[a * m + b];
      const za = z.data.subarray(a * d, (a + 1) * d),
        o = a * d;
      for (let j = 0; j < d; j++) dz[o + j] = 2 * (r * za[j] - dz[o + j]);
    }
    return [dz];
  },
});

/** H·X·H for an m×m X, H = I − 11ᵀ/m: subtract row means and column means, add back the grand mean. */
function doubleCentre(x: FArray, m: number, out: FArray): void {
  const r = new Float64Array(m),
    c = new Float64Array(m);
  let t = 0;
  for (let a = 0; a < m; a++)
    for (let b = 0; b < m; b++) {
      const v = x[a * m + b];
      r[a] += v;
      c[b] += v;
      t += v;
    }
  t /= m * m;
  for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) out[a * m + b] = x[a * m + b] - r[a] / m - c[b] / m + t;
}

/**
 * Double centring K̃ = H K H, H = I − 11ᵀ/m. The authors centre on the right only (K̄ = K H); the normalised
 * HSIC below is the same number either way (see `hsicProjector`). Linear and self-adjoint: dK = H gK̃ H.
 */
export const centreKernel = defineOp({
  name: 'centreKernel',
  forward(k: Tensor) {
    if (k.rank !== 2 || k.shape[0] !== k.shape[1]) throw new Error(`centreKernel needs [m, m], got ${fmt(k.shape)}`);
    const m = k.shape[0];
    const out = scopedEmpty([m, m], k.dtype);
    doubleCentre(k.data, m, out.data);
    return { out, inputs: [k], saved: { m } };
  },
  backward: (n, _o, gy) => {
    const m = n.saved.m as number;
    const dk = scopedEmptyLike(gy, m * m);
    doubleCentre(gy, m, dk);
    return [dk];
  },
});

/**
 * The regularised projector P = K̃ (K̃ + λI)⁻¹ = I − λS, S = (K̃ + λI)⁻¹, of a symmetric m×m K̃ (its
 * symmetric part is used). Spec 03's `hsic_normalized_cca` uses R = K̄(K̄ + εmI)⁻¹ with K̄ = K H; since
 * K H (K H + λI)⁻¹ = K H (H K H + λI)⁻¹ H and H commutes with (HKH + λI)⁻¹, tr(R_X R_Y) = tr(P_X P_Y)
 * exactly, with P built from the symmetric positive semi-definite HKH: a Cholesky solve (spdInverse)
 * instead of a general one. Gradient: dP = λ S dK̃ S, so gK̃ = sym(λ S gP S).
 */
export const hsicProjector = defineOp({
  name: 'hsicProjector',
  forward(k: Tensor, lambda: number) {
    if (k.rank !== 2 || k.shape[0] !== k.shape[1]) throw new Error(`hsicProjector needs [m, m], got ${fmt(k.shape)}`);
    if (!(lambda > 0)) throw new Error(`hsicProjector: λ must be positive, got ${lambda}`);
    const m = k.shape[0];
    const s = spdInverse(k.data, m, lambda);
    const out = scopedEmpty([m, m], k.dtype),
      p = out.data;
    for (let i = 0; i < m * m; i++) p[i] = -lambda * s[i];
    for (let a = 0; a < m; a++) p[a * m + a] += 1;
    return { out, inputs: [k], saved: { m, lambda, s } };
  },
  backward: (n, _o, gy) => {
    if (!needs(n, 0)) return [null];
    const { m, lambda, s } = n.saved as { m: number; lambda: number; s: FArray };
    const be = backendFor(n.inputs[0].dtype);
    const t = scopedEmptyLike(gy, m * m),
      g = scopedEmptyLike(gy, m * m);
    be.gemm(false, false, m, m, m, s, gy, t, false);
    be.gemm(false, false, m, m, m, t, s, g, false);
    const dk = scopedEmptyLike(gy, m * m);
    for (let a = 0; a < m; a++)
      for (let b = 0; b < m; b++) dk[a * m + b] = 0.5 * lambda * (g[a * m + b] + g[b * m + a]);
    return [dk];
  },
});
