// Inference-only fused kernels: a layer and the activation after it in one pass over the output, so the
// activation costs no extra read and write of the tensor (ONNX Runtime's Conv+Relu and FusedGemm). They are
// never recorded on the tape: gradients go through the separate primitives, which give the same numbers.
import { scopedEmpty } from '../core/arena.js';
import { fmt } from '../core/shape.js';
import { isGradEnabled, type Tensor } from '../core/tensor.js';
import { backendFor, type ConvEpilogue } from '../backend/index.js';
import { geometry, type Conv2dOptions } from './conv.js';
import { matmul } from './matmul.js';

function inferenceOnly(op: string, inputs: (Tensor | null)[]): void {
  if (isGradEnabled() && inputs.some((t) => t?.requiresGrad))
    throw new Error(`${op} is an inference kernel without a gradient; run it under noGrad, or use the separate ops`);
}

/**
 * y = epi(conv2d(x, w, b)): the convolution with its epilogue (relu = max(·, 0), then pool = 2×2 max
 * pooling, stride 2) applied as the output is stored. Equal bit for bit to relu(conv2d(x, w, b)) and
 * maxPool2d(relu(conv2d(x, w, b)), 2). Inference only (throws when a gradient would be needed).
 */
export function conv2dFused(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions, epi: ConvEpilogue): Tensor {
  inferenceOnly('conv2dFused', [x, w, b]);
  if (x.rank !== 4 || w.rank !== 4)
    throw new Error(`conv2dFused expects input [N, C, H, W] and 4-D weights, got ${fmt(x.shape)}, ${fmt(w.shape)}`);
  const g = geometry('conv2dFused', x.shape, w.shape, opts);
  if (b && b.size !== g.Co) throw new Error(`conv2dFused: bias has ${b.size} entries, expected ${g.Co}`);
  if (epi.pool && !(epi.relu && g.OH >= 2 && g.OW >= 2))
    throw new Error(`conv2dFused: pooling needs relu and an output of at least 2×2, got ${g.OH}×${g.OW}`);
  const shape = epi.pool ? [g.B, g.Co, g.OH >> 1, g.OW >> 1] : [g.B, g.Co, g.OH, g.OW];
  const out = scopedEmpty(shape, x.dtype);
  backendFor(x.dtype).conv2dForward(x.data, w.data, b ? b.data : null, g, out.data, epi);
  return out;
}

/**
 * y = max(x·Wᵀ + b, 0) (Linear + ReLU) with the bias and the relu in one pass after the product.
 * Equal bit for bit to relu(add(matmul(x, W, {transB}), b)). Inference only.
 */
export function linearRelu(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  inferenceOnly('linearRelu', [x, w, b]);
  const y = matmul(x, w, { transB: true });
  const be = backendFor(x.dtype);
  if (b) {
    if (b.size !== y.shape[y.rank - 1])
      throw new Error(`linearRelu: bias has ${b.size} entries, expected ${y.shape[y.rank - 1]}`);
    be.tileAdd(y.data, b.data, y.data, true);
  } else be.relu(y.data, y.data);
  return y;
}
