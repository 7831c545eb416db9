// The equivalent network map of a Fit-DNN (spec 04, from the authors' solve_network.cpp), in the
// vectorised lower-triangular Toeplitz form [D, ours], as a function of its weight tensors so that the
// layer, the float64 gradient checks and the reproduction's exactness criteria run the same code.
import { persistentCopy } from '../../core/arena.js';
import type { DType } from '../../core/dtype.js';
import { Tensor } from '../../core/tensor.js';
import * as F from '../../ops/index.js';
import { diagonalsToDense, sin } from './ops.js';

/**
 * A Fit-DNN's weights: W^in [N, M], b^in [N], the modulations v [L−1, N, D] and b^ℓ [L−1, N],
 * W^out [P, N], b^out [P].
 */
export interface FitDnnWeights {
  inputWeight: Tensor;
  inputBias: Tensor;
  /** v[ℓ−2, n, d] = w^ℓ_{n, n−n'_d}: loop d's modulation during node n of layer ℓ ≥ 2 (null when L = 1). */
  hiddenWeight: Tensor | null;
  hiddenBias: Tensor | null;
  outputWeight: Tensor;
  outputBias: Tensor;
}

/** What the map needs besides the weights: θ, the offsets n'_d, and whether to take the θ → ∞ limit. */
export interface MapOptions {
  theta: number;
  offsets: readonly number[];
  decoupled?: boolean;
}

/** g(s) = (π/2)·tanh(s): the input layer's pre-nonlinearity, so layer 1 applies sin(g(·)). */
export function inputDrive(s: Tensor): Tensor {
  return sin(F.mul(F.tanh(s), Math.PI / 2));
}

interface Toeplitz {
  /** (1 − e^{−θ})·E with E[n, k] = e^{−θ(n−k)} for k ≤ n, else 0: [N, N]. */
  E: Tensor;
  /** e^{−θ·n}, n = 1..N: how the last node of layer ℓ−1 decays through layer ℓ (the cross-layer carry). */
  carry: Tensor;
}

const CACHE = new Map<string, Toeplitz>();

/** The constant Toeplitz factors for N nodes at separation θ (kept: a few sizes per process). */
export function toeplitz(N: number, theta: number, dtype: DType): Toeplitz {
  const key = `${N}:${theta}:${dtype}`;
  let t = CACHE.get(key);
  if (!t) {
    const E = Tensor.zeros([N, N], dtype),
      carry = Tensor.zeros([N], dtype),
      c = -Math.expm1(-theta);
    for (let n = 0; n < N; n++) {
      for (let k = 0; k <= n; k++) E.data[n * N + k] = c * Math.exp(-theta * (n - k));
      carry.data[n] = Math.exp(-theta * (n + 1));
    }
    E.data = persistentCopy(E.data);
    carry.data = persistentCopy(carry.data);
    if (CACHE.size >= 16) CACHE.delete(CACHE.keys().next().value as string);
    CACHE.set(key, (t = { E, carry }));
  }
  return t;
}

/**
 * Node states of every layer, x^ℓ [B, N] for ℓ = 1..L, from inputs u [B, M] (spec 04, equivalent network):
 *
 *   x^ℓ_n = e^{−θ} x^ℓ_{n−1} + (1 − e^{−θ}) f(a^ℓ_n),  x^ℓ_0 = x^{ℓ−1}_N,  x^1_0 = 0,  f = sin,
 *   a^1 = g(W^in u + b^in),  a^ℓ_n = b^ℓ_n + Σ_d w^ℓ_{n, n−n'_d} x^{ℓ−1}_{n−n'_d}.
 *
 * Unrolled, x^ℓ = f(a^ℓ)·((1 − e^{−θ})E)ᵀ + x^{ℓ−1}_N · e^{−θ(1..N)}: one GEMM with the
 * lower-triangular Toeplitz E per layer instead of N sequential steps. Decoupled (θ → ∞): x^ℓ = f(a^ℓ).
 */
export function fitDnnStates(u: Tensor, w: FitDnnWeights, o: MapOptions): Tensor[] {
  const N = w.inputWeight.shape[0],
    B = u.shape[0];
  const { E, carry } = o.decoupled ? { E: null, carry: null } : toeplitz(N, o.theta, u.dtype);
  const couple = (f: Tensor, prev: Tensor | null): Tensor => {
    if (!E || !carry) return f;
    const x = F.matmul(f, E, { transB: true });
    return prev ? F.add(x, F.mul(F.slice(prev, [0, N - 1], [B, N]), carry)) : x;
  };
  let x = couple(inputDrive(F.add(F.matmul(u, w.inputWeight, { transB: true }), w.inputBias)), null);
  const states = [x];
  if (w.hiddenWeight && w.hiddenBias) {
    const K = w.hiddenWeight.shape[0];
    const dense = diagonalsToDense(w.hiddenWeight, o.offsets); // [L − 1, N, N]
    for (let k = 0; k < K; k++) {
      const W = K === 1 ? F.reshape(dense, [N, N]) : F.reshape(F.slice(dense, [k, 0, 0], [k + 1, N, N]), [N, N]);
      const b = K === 1 ? F.reshape(w.hiddenBias, [N]) : F.reshape(F.slice(w.hiddenBias, [k, 0], [k + 1, N]), [N]);
      x = couple(sin(F.add(F.matmul(x, W, { transB: true }), b)), x);
      states.push(x);
    }
  }
  return states;
}

/** The readout W^out x^L + b^out of the last layer's node states (logits; softmax is in the loss). */
export function readout(xL: Tensor, w: FitDnnWeights): Tensor {
  return F.add(F.matmul(xL, w.outputWeight, { transB: true }), w.outputBias);
}

/** Logits [B, P] of the equivalent network map (fitDnnStates, then the readout). */
export function fitDnnMap(u: Tensor, w: FitDnnWeights, o: MapOptions): Tensor {
  const s = fitDnnStates(u, w, o);
  return readout(s[s.length - 1], w);
}

/**
 * The same map as a direct node-by-node loop in float64 (the authors' recurrence as written, with the
 * loops' modulations read off v by offset): the oracle the Toeplitz form is tested against.
 */
export function fitDnnNodeLoop(u: ArrayLike<number>, w: FitDnnWeights, o: MapOptions): Float64Array[] {
  const [N, M] = w.inputWeight.shape,
    D = o.offsets.length,
    L = 1 + (w.hiddenWeight?.shape[0] ?? 0);
  const decay = o.decoupled ? 0 : Math.exp(-o.theta),
    gain = 1 - decay;
  const out: Float64Array[] = [];
  let prev = 0;
  for (let l = 0; l < L; l++) {
    const x = new Float64Array(N),
      last = out[l - 1];
    for (let n = 0; n < N; n++) {
      let a: number;
      if (l === 0) {
        let s = w.inputBias.data[n];
        for (let m = 0; m < M; m++) s += w.inputWeight.data[n * M + m] * u[m];
        a = (Math.PI / 2) * Math.tanh(s);
      } else {
        a = w.hiddenBias!.data[(l - 1) * N + n];
        for (let d = 0; d < D; d++) {
          const j = n - o.offsets[d];
          if (j >= 0 && j < N) a += w.hiddenWeight!.data[((l - 1) * N + n) * D + d] * last[j];
        }
      }
      x[n] = decay * (n === 0 ? prev : x[n - 1]) + gain * Math.sin(a);
    }
    prev = x[N - 1];
    out.push(x);
  }
  return out;
}
