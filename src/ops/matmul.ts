import { scopedEmpty, scopedEmptyLike } from '../core/arena.js';
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
  const transA = !!opts.transA,
    transB = !!opts.transB;
  if (a.dtype !== b.dtype) throw new Error(`matmul: dtypes differ (${a.dtype} vs ${b.dtype})`);
  if (a.rank < 2 || b.rank < 2)
    throw new Error(`matmul needs tensors of rank ≥ 2, got ${fmt(a.shape)} and ${fmt(b.shape)}`);
  let batch = 1,
    M: number,
    K: number,
    N: number,
    outShape: number[];
  const bK = transB ? b.shape[b.rank - 1] : b.shape[b.rank - 2];
  N = transB ? b.shape[b.rank - 2] : b.shape[b.rank - 1];
  if (b.rank === 2) {
    if (transA && a.rank !== 2) throw new Error('matmul: transA needs a 2-D a when b is 2-D');
    K = transA ? a.shape[0] : a.shape[a.rank - 1];
    M = transA ? a.shape[1] : a.size / K;
    outShape = transA ? [M, N] : [...a.shape.slice(0, -1), N];
  } else {
    if (a.rank !== 3 || b.rank !== 3 || a.shape[0] !== b.shape[0]) {
      throw new Error(
        `matmul: batched product needs [B,M,K]×[B,K,N] with equal B, got ${fmt(a.shape)} and ${fmt(b.shape)}`,
      );
    }
    batch = a.shape[0];
    K = transA ? a.shape[1] : a.shape[2];
    M = transA ? a.shape[2] : a.shape[1];
    outShape = [batch, M, N];
  }
  if (K !== bK)
    throw new Error(
      `matmul: inner dimensions differ (${fmt(a.shape)}${transA ? 'ᵀ' : ''} × ` +
        `${fmt(b.shape)}${transB ? 'ᵀ' : ''}: ${K} vs ${bK})`,
    );
  const out = scopedEmpty(outShape, a.dtype); // gemm with acc=false writes every element
  const be = backendFor(a.dtype);
  if (batch === 1) be.gemm(transA, transB, M, N, K, a.data, b.data, out.data, false);
  else be.gemmBatch(transA, transB, batch, M, N, K, a.data, b.data, out.data, b.rank === 2);
  return record(out, 'matmul', [a, b], { M, N, K, batch, transA, transB });
}

export const matmulRules: { matmul: Rule } = {
  matmul: (n, _o, gy) => {
    const { M, N, K, batch, transA, transB } = n.saved as {
      M: number;
      N: number;
      K: number;
      batch: number;
      transA: boolean;
      transB: boolean;
    };
    const [a, b] = n.inputs;
    const be = backendFor(a.dtype);
    const ga = needs(n, 0) ? scopedEmptyLike(gy, a.size) : null;
    const gb = needs(n, 1) ? scopedEmptyLike(gy, b.size) : null;
    // Batched operands are both 3-D (a 2-D b folds a's leading axes into rows, batch 1), so
    // every product's gradients are independent: one gemmBatch per operand.
    const G = gy,
      A = a.data,
      B = b.data;
    // C = A·B: dA = G·Bᵀ, dB = Aᵀ·G; with transposed operands the roles swap accordingly.
    if (ga) {
      if (transA)
        be.gemmBatch(transB, true, batch, K, M, N, B, G, ga, false); // dAᵀ = B·Gᵀ
      else be.gemmBatch(false, !transB, batch, M, K, N, G, B, ga, false);
    }
    if (gb) {
      if (transB)
        be.gemmBatch(true, transA, batch, N, K, M, G, A, gb, false); // dBᵀ = Gᵀ·A
      else be.gemmBatch(!transA, false, batch, K, N, M, A, G, gb, false);
    }
    return [ga, gb];
  },
};
