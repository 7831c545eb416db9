// Differentiable operations. Importing this module installs the autograd rules.
// Each public op is wrapped by profiled() so `--profile` can report time per op kind.
// Techniques' ops are registered in their own folders (defineOp, registry.ts) and profiled there.
import './autograd.js';
import * as E from './elementwise.js';
import * as R from './reduce.js';
import * as S from './shape.js';
import * as M from './matmul.js';
import * as N from './nn.js';
import * as C from './conv.js';
import { profiled } from './profile.js';

export const add = profiled('add', E.add);
export const sub = profiled('sub', E.sub);
export const mul = profiled('mul', E.mul);
export const div = profiled('div', E.div);
export const neg = profiled('neg', E.neg);
export const exp = profiled('exp', E.exp);
export const log = profiled('log', E.log);
export const sqrt = profiled('sqrt', E.sqrt);
export const abs = profiled('abs', E.abs);
export const pow = profiled('pow', E.pow);
export const relu = profiled('relu', E.relu);
export const leakyRelu = profiled('leakyRelu', E.leakyRelu);
export const sigmoid = profiled('sigmoid', E.sigmoid);
export const tanh = profiled('tanh', E.tanh);
export const hardtanh = profiled('hardtanh', E.hardtanh);
export const sum = profiled('sum', R.sum);
export const mean = profiled('mean', R.mean);
export const max = profiled('max', R.max);
export const globalAvgPool2d = profiled('globalAvgPool2d', R.globalAvgPool2d);
export const globalMaxPool2d = profiled('globalMaxPool2d', R.globalMaxPool2d);
export const reshape = profiled('reshape', S.reshape);
export const flatten = profiled('flatten', S.flatten);
export const transpose = profiled('transpose', S.transpose);
export const concat = profiled('concat', S.concat);
export const slice = profiled('slice', S.slice);
export const matmul = profiled('matmul', M.matmul);
export const logSoftmax = profiled('logSoftmax', N.logSoftmax);
export const softmax = profiled('softmax', N.softmax);
export const crossEntropy = profiled('crossEntropy', N.crossEntropy);
export const mse = profiled('mse', N.mse);
export const dropout = profiled('dropout', N.dropout);
export const batchNorm = profiled('batchNorm', N.batchNorm);
export const conv2d = profiled('conv2d', C.conv2d);
export const conv1d = profiled('conv1d', C.conv1d);
export const maxPool2d = profiled('maxPool2d', C.maxPool2d);
export const avgPool2d = profiled('avgPool2d', C.avgPool2d);
export const maxPool1d = profiled('maxPool1d', C.maxPool1d);

export type { TensorLike } from './elementwise.js';
export type { MatmulOptions } from './matmul.js';
export type { CrossEntropyOptions, BatchNormOptions } from './nn.js';
export type { Conv2dOptions, Pool2dOptions, Pair } from './conv.js';
export { gradcheck, tapeOps, missingGradchecks, type GradcheckResult, type GradcheckOptions } from './gradcheck.js';
export { backwardRules } from './autograd.js';
export { defineOp, registeredOps, type OpDefinition, type OpRecord } from './registry.js';
export { profiler, profileRows, type OpTime } from './profile.js';
