/**
 * The primitive ops. Every op here has exactly one backward rule in ops/autograd.ts, whose
 * table is typed `{ [K in Op]: Rule }`: adding an op without a gradient does not compile.
 * Composite functions (conv1d via conv2d, flatten via reshape, mse via sub/mul/mean)
 * are not listed: they differentiate through their parts.
 */
export const OPS = [
  // elementwise binary with broadcasting
  'add', 'sub', 'mul', 'div',
  // elementwise unary
  'neg', 'exp', 'log', 'sqrt', 'pow', 'relu', 'leakyRelu', 'sigmoid', 'tanh', 'hardtanh', 'abs',
  // reductions
  'sum', 'max',
  // shape
  'reshape', 'transpose', 'concat', 'slice',
  // linear algebra
  'matmul',
  // real FFT along the last axis and its inverse (circulant layers)
  'rfft', 'irfft', 'binProduct', 'rfftBins', 'irfftBins',
  // quantizers with straight-through gradients (binarized networks)
  'steSign', 'oneHotSte',
  // neural-network primitives (fused for speed and stability)
  'logSoftmax', 'crossEntropy', 'conv2d', 'binConv2d', 'pool2d', 'dropout', 'batchNorm',
] as const;

export type Op = (typeof OPS)[number];
