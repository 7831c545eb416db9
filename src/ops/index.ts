// Differentiable operations. Importing this module installs the autograd rules.
import './autograd.js';
export { add, sub, mul, div, neg, exp, log, sqrt, abs, pow, relu, leakyRelu, sigmoid, tanh, hardtanh, type TensorLike } from './elementwise.js';
export { sum, mean, max, globalAvgPool2d, globalMaxPool2d } from './reduce.js';
export { reshape, flatten, transpose, concat, slice } from './shape.js';
export { matmul, type MatmulOptions } from './matmul.js';
export { logSoftmax, softmax, crossEntropy, mse, dropout, batchNorm, type CrossEntropyOptions, type BatchNormOptions } from './nn.js';
export { conv2d, conv1d, maxPool2d, avgPool2d, maxPool1d, type Conv2dOptions, type Pool2dOptions, type Pair } from './conv.js';
export { gradcheck, type GradcheckResult } from './gradcheck.js';
export { backwardRules } from './autograd.js';
