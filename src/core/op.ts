/**
 * The core primitive ops. Every op here has exactly one backward rule in ops/autograd.ts, whose
 * table is typed `{ [K in Op]: Rule }`: adding an op without a gradient does not compile.
 * Composite functions (conv1d via conv2d, flatten via reshape, mse via sub/mul/mean)
 * are not listed: they differentiate through their parts. A technique's own primitives
 * (STE quantizers, FFT bins, …) are not listed either: the technique registers them with
 * defineOp (ops/registry.ts), forward and backward together, in its own folder.
 */
export const OPS = [
  // elementwise binary with broadcasting
  'add',
  'sub',
  'mul',
  'div',
  // elementwise unary
  'neg',
  'exp',
  'log',
  'sqrt',
  'pow',
  'relu',
  'leakyRelu',
  'sigmoid',
  'tanh',
  'hardtanh',
  'abs',
  // reductions
  'sum',
  'max',
  // shape
  'reshape',
  'transpose',
  'concat',
  'slice',
  // linear algebra
  'matmul',
  // neural-network primitives (fused for speed and stability)
  'logSoftmax',
  'crossEntropy',
  'conv2d',
  'pool2d',
  'dropout',
  'batchNorm',
] as const;

export type Op = (typeof OPS)[number];

/** The name on a tape node: a core op, or one a technique registered with defineOp. */
export type OpName = Op | (string & {});
