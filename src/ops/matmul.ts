import { scopedLike, scopedEmpty, scopedEmptyLike } from '../core/arena.js';
import { fmt } from '../core/shape.js';
import { Tensor } from '../core/tensor.js';
import { backendFor } from '../backend/index.js';
import { needs, record, type Rule } from './tape.js';

export interface MatmulOptions {
  /** Use aᵀ (a's last two axes swapped) without copying. */
  transA?: boolean;
  /** Use bᵀ without copying (Linear's x·Wᵀ). */
  transB?: boolean;
}

/**
 * Matrix product. a: [..., M, K] (leading axes are folded into rows when b is 2-D),
 * b: [K, N]; or a and b both [batch, ·, ·] with equal batch.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const transA = !!opts.transA, transB = !!opts.transB;
  if (a.dtype !== b.dtype) throw new Error(`matmul: dtypes differ (${a.dtype} vs ${b.dtype})`);
  if (a.rank < 2 || b.rank < 2) throw new Error(`matmul needs tensors of rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  let batch = 1, M: number, K: number, N: number, outShape: number[];
  const bK = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  N = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (b.rank === 2) {
    if (transA && a.rank !== 2) throw new Error('matmul: transA needs a 2-D a when b is 2-D');
    K = transA ? a.shape[0] : a.shape[a.rank - 1];
    M = transA ? a.shape[1] : a.size / K;
    outShape = transA ? [M, N] : [...a.shape.slice(0, -1), N];
  } else {
    if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0]) {
      throw new Error(`matmul: batched product needs [B,M,K]×[B,K,N] with equal B, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
    }
    batch = a.shape[0];
    K = transA ? a.shape[1] : a.shape[2];
    M = transA ? a.shape[2] : a.shape[1];
    outShape = [batch, M, N];
  }
  if (K !== bK) throw new Error(`matmul: inner dimensions differ (${fmt(a.shape)}${transA ? 'ᵀ' : ''} × ${fmt(b.shape)}${transB ? 'ᵀ' : ''}: ${K} vs ${bK})`);
  const out = scopedEmpty(outShape, a.dtype); // gemm with acc=false writes every element
  const be = backendFor(a.dtype);
  const sa = M * K, sb = b.rank === 2 ? 0 : K * N;
  for (let i = 0; i < batch; i++) {
    be.gemm(transA, transB, M, N, K, a.data.subarray(i * sa, (i + 1) * sa), b.data.subarray(i * sb, i * sb + K * N),
      out.data.subarray(i * M * N, (i + 1) * M * N), false);
  }
  return record(out, 'matmul', [a, b], { M, N, K, batch, transA, transB });
}

export const matmulRules: { matmul: Rule } = {
  matmul: (n, _o, gy) => {
    const { M, N, K, batch, transA, transB } = n.saved as { M: number; N: number; K: number; batch: number; transA: boolean; transB: boolean };
    const [a, b] = n.inputs;
    const be = backendFor(a.dtype);
    // gemm overwrites (acc=false) except when a 2-D b accumulates over batches: zero that one
    const ga = needs(n, 0) ? scopedEmptyLike(gy, a.size) : null;
    const gb = needs(n, 1) ? (batch > 1 && b.rank === 2 ? scopedLike(gy, b.size) : scopedEmptyLike(gy, b.size)) : null;
    const sb = b.rank === 2 ? 0 : K * N;
    for (let i = 0; i < batch; i++) {
      const G = gy.subarray(i * M * N, (i + 1) * M * N);
      const A = a.data.subarray(i * M * K, (i + 1) * M * K), B = b.data.subarray(i * sb, i * sb + K * N);
      // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G; with transposed operands the roles swap accordingly.
      if (ga) {
        const g = ga.subarray(i * M * K, (i + 1) * M * K);
        if (transA) be.gemm(transB, true, K, M, N, B, G, g, false); // dAᵀ = B·Gᵀ
        else be.gemm(false, !transB, M, K, N, G, B, g, false);
      }
      if (gb) {
        const g = gb.subarray(i * sb, i * sb + K * N);
        const acc = b.rank === 2 && i > 0;
        if (transB) be.gemm(true, transA, N, K, M, G, A, g, acc); // dBᵀ = Gᵀ·A
        else be.gemm(!transA, false, K, N, M, A, G, g, acc);
      }
    }
    return [ga, gb];
  },
};
