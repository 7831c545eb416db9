// Gradient checks of the core ops (OPS): central differences against the backward rules.
import * as F from '../../src/index.js';
import { Rng, Tensor } from '../../src/index.js';
import { gradcheckCase, inputs } from './cases.js';

const { leaf, awayFromKinks } = inputs(42);

gradcheckCase('add (broadcast)', (a, b) => F.add(a, b), [leaf([3, 4]), leaf([4])]);
gradcheckCase('sub (broadcast both ways)', (a, b) => F.sub(a, b), [leaf([3, 1]), leaf([1, 5])]);
gradcheckCase('mul (broadcast)', (a, b) => F.mul(a, b), [leaf([2, 3, 4]), leaf([3, 1])]);
gradcheckCase('div', (a, b) => F.div(a, b), [leaf([3, 4]), leaf([3, 4], 0.5, 2)]);
gradcheckCase('mul and div by a per-channel [1, C, 1, 1] and [C, 1, 1]', (a, b, c) => F.div(F.mul(a, b), c), [
  leaf([2, 3, 2, 2]),
  leaf([1, 3, 1, 1]),
  leaf([3, 1, 1], 0.5, 2),
]);
gradcheckCase('add and sub of a per-sample [B, 1, 1]', (a, b) => F.sub(F.add(a, b), F.mul(b, b)), [
  leaf([2, 3, 4]),
  leaf([2, 1, 1]),
]);
gradcheckCase('sub, mul and div by a one-element tensor', (a, b) => F.mul(F.div(F.sub(a, b), b), b), [
  leaf([2, 3, 4]),
  leaf([1], 0.5, 2),
]);
gradcheckCase('neg', (a) => F.neg(a), [leaf([5])]);
gradcheckCase('exp', (a) => F.exp(a), [leaf([2, 3])]);
gradcheckCase('log', (a) => F.log(a), [leaf([2, 3], 0.2, 3)]);
gradcheckCase('sqrt', (a) => F.sqrt(a), [leaf([2, 3], 0.2, 3)]);
gradcheckCase('pow', (a) => F.pow(a, 3), [leaf([7])]);
gradcheckCase('abs', (a) => F.abs(a), [awayFromKinks([6])]);
gradcheckCase('relu', (a) => F.relu(a), [awayFromKinks([4, 5])]);
gradcheckCase('leakyRelu', (a) => F.leakyRelu(a, 0.1), [awayFromKinks([4, 5])]);
gradcheckCase('sigmoid', (a) => F.sigmoid(a), [leaf([3, 3], -4, 4)]);
gradcheckCase('tanh', (a) => F.tanh(a), [leaf([3, 3], -2, 2)]);
gradcheckCase('hardtanh', (a) => F.hardtanh(a), [
  (() => {
    const t = leaf([12], -2, 2);
    for (let i = 0; i < t.size; i++) if (Math.abs(Math.abs(t.data[i]) - 1) < 0.05) t.data[i] = 0.5;
    return t;
  })(),
]);
gradcheckCase('sum over an axis', (a) => F.sum(a, 1), [leaf([3, 4, 2])]);
gradcheckCase('sum over all axes', (a) => F.sum(a), [leaf([3, 4])]);
gradcheckCase('mean over axes, keepDims', (a) => F.mean(a, [0, 2], true), [leaf([3, 4, 2])]);
gradcheckCase('max over an axis', (a) => F.max(a, -1), [awayFromKinks([3, 5])]);
// max along every axis of a rank-3 input, over two axes, and over all of them (one winner per output).
for (const axis of [0, 1, 2])
  gradcheckCase(`max along axis ${axis}`, (a) => F.max(a, axis), [awayFromKinks([3, 4, 2])]);
gradcheckCase('max along axes [0, 2], keepDims', (a) => F.max(a, [0, 2], true), [awayFromKinks([3, 4, 2])]);
gradcheckCase('max over all axes', (a) => F.max(a), [awayFromKinks([3, 4, 2])]);
gradcheckCase('sum over all axes, keepDims', (a) => F.sum(a, undefined, true), [leaf([2, 3, 2])]);
gradcheckCase('reshape', (a) => F.reshape(a, [6, -1]), [leaf([2, 3, 4])]);
gradcheckCase('flatten', (a) => F.flatten(a), [leaf([2, 3, 2, 2])]);
gradcheckCase('transpose (permutation)', (a) => F.transpose(a, [2, 0, 1]), [leaf([2, 3, 4])]);
gradcheckCase('concat', (a, b) => F.concat([a, b], 1), [leaf([2, 3]), leaf([2, 2])]);
gradcheckCase('slice', (a) => F.slice(a, [1, 0, 1], [3, 2, 4]), [leaf([3, 4, 5])]);
gradcheckCase('slice (one contiguous run)', (a) => F.slice(a, [1, 2], [2, 4]), [leaf([3, 4, 2])]);
gradcheckCase('matmul', (a, b) => F.matmul(a, b), [leaf([3, 4]), leaf([4, 5])]);
gradcheckCase('matmul transA', (a, b) => F.matmul(a, b, { transA: true }), [leaf([4, 3]), leaf([4, 5])]);
gradcheckCase('matmul transB', (a, b) => F.matmul(a, b, { transB: true }), [leaf([3, 4]), leaf([5, 4])]);
gradcheckCase('matmul transA transB', (a, b) => F.matmul(a, b, { transA: true, transB: true }), [
  leaf([4, 3]),
  leaf([5, 4]),
]);
gradcheckCase('matmul batched', (a, b) => F.matmul(a, b), [leaf([2, 3, 4]), leaf([2, 4, 2])]);
gradcheckCase('matmul batched, transA', (a, b) => F.matmul(a, b, { transA: true }), [leaf([2, 4, 3]), leaf([2, 4, 2])]);
gradcheckCase('matmul batched, transB', (a, b) => F.matmul(a, b, { transB: true }), [leaf([2, 3, 4]), leaf([2, 2, 4])]);
gradcheckCase('matmul batched, transA transB', (a, b) => F.matmul(a, b, { transA: true, transB: true }), [
  leaf([3, 4, 3]),
  leaf([3, 2, 4]),
]);
gradcheckCase('matmul with folded leading axes', (a, b) => F.matmul(a, b), [leaf([2, 3, 4]), leaf([4, 2])]);
gradcheckCase('softmax', (a) => F.softmax(a), [leaf([3, 5])]);
gradcheckCase('softmax over axis 0', (a) => F.softmax(a, 0), [leaf([3, 4])]);
gradcheckCase('logSoftmax', (a) => F.logSoftmax(a), [leaf([3, 5], -3, 3)]);
gradcheckCase('crossEntropy (mean)', (a) => F.crossEntropy(a, [1, 0, 4]), [leaf([3, 5], -3, 3)]);
gradcheckCase(
  'crossEntropy (weighted sum)',
  (a) => F.crossEntropy(a, [2, 2, 0], { weights: [0.5, 2, 1.5], reduction: 'sum' }),
  [leaf([3, 4], -3, 3)],
);
gradcheckCase('mse', (a, b) => F.mse(a, b), [leaf([4, 3]), leaf([4, 3])]);
gradcheckCase('dropout (fixed mask)', (a) => F.dropout(a, 0.4, new Rng(3)), [leaf([20])]);
gradcheckCase('conv2d', (x, w, b) => F.conv2d(x, w, b), [leaf([2, 3, 5, 6]), leaf([4, 3, 3, 3]), leaf([4])]);
gradcheckCase('conv2d stride 2 padding 1', (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }), [
  leaf([1, 2, 7, 6]),
  leaf([3, 2, 3, 2]),
]);
gradcheckCase('conv2d dilation 2', (x, w, b) => F.conv2d(x, w, b, { dilation: 2, padding: 2 }), [
  leaf([2, 2, 6, 6]),
  leaf([2, 2, 3, 3]),
  leaf([2]),
]);
gradcheckCase('conv1d', (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1 }), [
  leaf([2, 3, 9]),
  leaf([4, 3, 3]),
  leaf([4]),
]);
gradcheckCase('maxPool2d', (x) => F.maxPool2d(x, 2), [awayFromKinks([2, 2, 5, 4])]);
gradcheckCase('maxPool2d stride 1 padding 1', (x) => F.maxPool2d(x, 3, { stride: 1, padding: 1 }), [
  awayFromKinks([1, 2, 4, 4]),
]);
gradcheckCase('avgPool2d', (x) => F.avgPool2d(x, 2, { stride: 1 }), [leaf([2, 2, 4, 5])]);
// With padding: padded positions count in the divisor (count_include_pad), so an edge window's
// in-bounds inputs get 1/(kh·kw) each, not 1/(their number); the forward's value test is in gradcheck.test.ts.
gradcheckCase('avgPool2d 3×3 stride 1 padding 1', (x) => F.avgPool2d(x, 3, { stride: 1, padding: 1 }), [
  leaf([2, 2, 4, 5]),
]);
gradcheckCase('avgPool2d 2×2 stride 2 padding 1 (odd size)', (x) => F.avgPool2d(x, 2, { padding: 1 }), [
  leaf([1, 3, 5, 3]),
]);
gradcheckCase(
  'avgPool2d 3×2 stride [2, 1] padding [1, 0]',
  (x) => F.avgPool2d(x, [3, 2], { stride: [2, 1], padding: [1, 0] }),
  [leaf([2, 1, 5, 4])],
);
gradcheckCase(
  'maxPool2d 2×3 stride [1, 2] padding [1, 1]',
  (x) => F.maxPool2d(x, [2, 3], { stride: [1, 2], padding: [1, 1] }),
  [awayFromKinks([1, 2, 4, 5])],
);
gradcheckCase('maxPool1d padding 1', (x) => F.maxPool1d(x, 3, { stride: 2, padding: 1 }), [awayFromKinks([2, 2, 7])]);
gradcheckCase(
  'conv2d rectangular kernel, stride [2, 1], padding [0, 2], dilation [1, 2]',
  (x, w, b) => F.conv2d(x, w, b, { stride: [2, 1], padding: [0, 2], dilation: [1, 2] }),
  [leaf([2, 2, 6, 5]), leaf([3, 2, 2, 3]), leaf([3])],
);
gradcheckCase('conv1d dilation 2, no padding', (x, w) => F.conv1d(x, w, null, { dilation: 2 }), [
  leaf([2, 2, 8]),
  leaf([3, 2, 3]),
]);
gradcheckCase('maxPool1d', (x) => F.maxPool1d(x, 3), [awayFromKinks([2, 2, 9])]);
gradcheckCase('globalAvgPool2d', (x) => F.globalAvgPool2d(x), [leaf([2, 3, 3, 4])]);
gradcheckCase('globalMaxPool2d', (x) => F.globalMaxPool2d(x), [awayFromKinks([2, 3, 3, 4])]);
{
  const C = 3;
  const rm = () => Tensor.zeros([C], 'float64'),
    rv = () => Tensor.ones([C], 'float64');
  gradcheckCase(
    'batchNorm 2d (train)',
    (x, g, b) => F.batchNorm(x, g, b, rm(), rv(), { training: true }),
    [leaf([4, C, 3, 2]), leaf([C], 0.5, 1.5), leaf([C])],
    { atol: 1e-4 },
  );
  gradcheckCase(
    'batchNorm 1d (train)',
    (x, g, b) => F.batchNorm(x, g, b, rm(), rv(), { training: true }),
    [leaf([6, C]), leaf([C], 0.5, 1.5), leaf([C])],
    { atol: 1e-4 },
  );
  const m = Tensor.from([0.1, -0.2, 0.3], [C], 'float64'),
    v = Tensor.from([0.5, 1.5, 2], [C], 'float64');
  gradcheckCase('batchNorm (eval)', (x, g, b) => F.batchNorm(x, g, b, m, v, { training: false }), [
    leaf([4, C, 2, 2]),
    leaf([C]),
    leaf([C]),
  ]);
}
gradcheckCase(
  'a composite: two-layer network with shared input',
  (x, w1, w2) => {
    const h = F.tanh(F.matmul(x, w1));
    return F.add(F.matmul(h, w2), F.sum(F.mul(h, h), 1, true));
  },
  [leaf([3, 4]), leaf([4, 5]), leaf([5, 2])],
);
