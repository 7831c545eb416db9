import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as F from '../src/index.js';
import { Rng, Tensor, gradcheck, OPS, backwardRules } from '../src/index.js';

const rng = new Rng(42);
/** A float64 leaf that requires a gradient, values in [lo, hi). */
function leaf(shape: number[], lo = -1, hi = 1): Tensor {
  const t = Tensor.rand(shape, rng, lo, hi, 'float64');
  t.requiresGrad = true;
  return t;
}
/** Values kept away from kinks (relu at 0, hardtanh at ±1, max ties). */
function awayFromKinks(shape: number[]): Tensor {
  const t = leaf(shape);
  for (let i = 0; i < t.size; i++) t.data[i] = (t.data[i] >= 0 ? 0.1 : -0.1) + t.data[i] * 0.8 + i * 1e-3;
  return t;
}

function check(name: string, f: (...xs: Tensor[]) => Tensor, inputs: Tensor[], tol = {}): void {
  test(`gradient of ${name} matches central differences`, () => {
    const r = gradcheck(f, inputs, tol);
    assert.ok(r.ok, `${name}: ${r.worst} (max abs error ${r.maxAbsError})`);
  });
}

test('every primitive op has a backward rule', () => {
  for (const op of OPS) assert.equal(typeof backwardRules[op], 'function', op);
});

check('add (broadcast)', (a, b) => F.add(a, b), [leaf([3, 4]), leaf([4])]);
check('sub (broadcast both ways)', (a, b) => F.sub(a, b), [leaf([3, 1]), leaf([1, 5])]);
check('mul (broadcast)', (a, b) => F.mul(a, b), [leaf([2, 3, 4]), leaf([3, 1])]);
check('div', (a, b) => F.div(a, b), [leaf([3, 4]), leaf([3, 4], 0.5, 2)]);
check('mul and div by a per-channel [1, C, 1, 1] and [C, 1, 1]', (a, b, c) => F.div(F.mul(a, b), c), [leaf([2, 3, 2, 2]), leaf([1, 3, 1, 1]), leaf([3, 1, 1], 0.5, 2)]);
check('add and sub of a per-sample [B, 1, 1]', (a, b) => F.sub(F.add(a, b), F.mul(b, b)), [leaf([2, 3, 4]), leaf([2, 1, 1])]);
check('sub, mul and div by a one-element tensor', (a, b) => F.mul(F.div(F.sub(a, b), b), b), [leaf([2, 3, 4]), leaf([1], 0.5, 2)]);
check('neg', (a) => F.neg(a), [leaf([5])]);
check('exp', (a) => F.exp(a), [leaf([2, 3])]);
check('log', (a) => F.log(a), [leaf([2, 3], 0.2, 3)]);
check('sqrt', (a) => F.sqrt(a), [leaf([2, 3], 0.2, 3)]);
check('pow', (a) => F.pow(a, 3), [leaf([7])]);
check('abs', (a) => F.abs(a), [awayFromKinks([6])]);
check('relu', (a) => F.relu(a), [awayFromKinks([4, 5])]);
check('leakyRelu', (a) => F.leakyRelu(a, 0.1), [awayFromKinks([4, 5])]);
check('sigmoid', (a) => F.sigmoid(a), [leaf([3, 3], -4, 4)]);
check('tanh', (a) => F.tanh(a), [leaf([3, 3], -2, 2)]);
check('hardtanh', (a) => F.hardtanh(a), [(() => { const t = leaf([12], -2, 2); for (let i = 0; i < t.size; i++) if (Math.abs(Math.abs(t.data[i]) - 1) < 0.05) t.data[i] = 0.5; return t; })()]);
check('sum over an axis', (a) => F.sum(a, 1), [leaf([3, 4, 2])]);
check('sum over all axes', (a) => F.sum(a), [leaf([3, 4])]);
check('mean over axes, keepDims', (a) => F.mean(a, [0, 2], true), [leaf([3, 4, 2])]);
check('max over an axis', (a) => F.max(a, -1), [awayFromKinks([3, 5])]);
check('reshape', (a) => F.reshape(a, [6, -1]), [leaf([2, 3, 4])]);
check('flatten', (a) => F.flatten(a), [leaf([2, 3, 2, 2])]);
check('transpose (permutation)', (a) => F.transpose(a, [2, 0, 1]), [leaf([2, 3, 4])]);
check('concat', (a, b) => F.concat([a, b], 1), [leaf([2, 3]), leaf([2, 2])]);
check('slice', (a) => F.slice(a, [1, 0, 1], [3, 2, 4]), [leaf([3, 4, 5])]);
for (const n of [1, 2, 4, 8, 16]) {
  check(`rfft (N = ${n})`, (x) => F.rfft(x), [leaf([3, n])]);
  check(`irfft (N = ${n})`, (x) => F.irfft(x), [leaf([2, 3, (n >> 1) + 1])]);
}
for (const [B, R, N, P] of [[2, 3, 2, 1], [1, 2, 8, 3], [2, 1, 16, 1]]) {
  check(`rfftBins (B ${B}, R ${R}, N ${N}, P ${P})`, (x) => F.rfftBins(x, B, R, N, P), [leaf([B, R * N * P])]);
  check(`irfftBins (B ${B}, S ${R}, N ${N}, P ${P})`, (y) => F.irfftBins(y), [leaf([N >> 1, B, 2, R, P])]);
}
check('slice (one contiguous run)', (a) => F.slice(a, [1, 2], [2, 4]), [leaf([3, 4, 2])]);
check('binProduct (complex per-bin products)', (a, w) => F.binProduct(a, w), [leaf([2, 3, 4, 5]), leaf([2, 2, 4, 5])]);
check('matmul', (a, b) => F.matmul(a, b), [leaf([3, 4]), leaf([4, 5])]);
check('matmul transA', (a, b) => F.matmul(a, b, { transA: true }), [leaf([4, 3]), leaf([4, 5])]);
check('matmul transB', (a, b) => F.matmul(a, b, { transB: true }), [leaf([3, 4]), leaf([5, 4])]);
check('matmul transA transB', (a, b) => F.matmul(a, b, { transA: true, transB: true }), [leaf([4, 3]), leaf([5, 4])]);
check('matmul batched', (a, b) => F.matmul(a, b), [leaf([2, 3, 4]), leaf([2, 4, 2])]);
check('matmul batched, transA', (a, b) => F.matmul(a, b, { transA: true }), [leaf([2, 4, 3]), leaf([2, 4, 2])]);
check('matmul batched, transB', (a, b) => F.matmul(a, b, { transB: true }), [leaf([2, 3, 4]), leaf([2, 2, 4])]);
check('matmul batched, transA transB', (a, b) => F.matmul(a, b, { transA: true, transB: true }), [leaf([3, 4, 3]), leaf([3, 2, 4])]);
test('batched matmul in float32 (the WebAssembly backend, gemmBatch) gives the float64 value and gradients', () => {
  // 16 products of 64³ run one per task on two threads; [3, 5, 7]·[3, 7, 4] one after another.
  for (const [B, M, K, N] of [[16, 64, 64, 64], [3, 5, 7, 4]]) {
    for (const transA of [false, true]) for (const transB of [false, true]) {
      const a64 = leaf(transA ? [B, K, M] : [B, M, K]), b64 = leaf(transB ? [B, N, K] : [B, K, N]), g = Tensor.rand([B, M, N], rng, -1, 1, 'float64');
      const a32 = a64.to('float32'), b32 = b64.to('float32');
      a32.requiresGrad = true; b32.requiresGrad = true;
      const y64 = F.matmul(a64, b64, { transA, transB }), y32 = F.matmul(a32, b32, { transA, transB });
      F.sum(F.mul(y64, g)).backward(); F.sum(F.mul(y32, g.to('float32'))).backward();
      const close = (x: Tensor, y: Tensor, what: string) => {
        for (let i = 0; i < x.size; i++) assert.ok(Math.abs(x.data[i] - y.data[i]) <= 1e-4 * (1 + Math.abs(y.data[i])), `${what} [${B}, ${M}, ${K}, ${N}] transA=${transA} transB=${transB} at ${i}: ${x.data[i]} vs ${y.data[i]}`);
      };
      close(y32, y64, 'value'); close(a32.grad!, a64.grad!, 'grad a'); close(b32.grad!, b64.grad!, 'grad b');
    }
  }
});
check('matmul with folded leading axes', (a, b) => F.matmul(a, b), [leaf([2, 3, 4]), leaf([4, 2])]);
check('softmax', (a) => F.softmax(a), [leaf([3, 5])]);
check('softmax over axis 0', (a) => F.softmax(a, 0), [leaf([3, 4])]);
check('logSoftmax', (a) => F.logSoftmax(a), [leaf([3, 5], -3, 3)]);
check('crossEntropy (mean)', (a) => F.crossEntropy(a, [1, 0, 4]), [leaf([3, 5], -3, 3)]);
check('crossEntropy (weighted sum)', (a) => F.crossEntropy(a, [2, 2, 0], { weights: [0.5, 2, 1.5], reduction: 'sum' }), [leaf([3, 4], -3, 3)]);
check('mse', (a, b) => F.mse(a, b), [leaf([4, 3]), leaf([4, 3])]);
check('dropout (fixed mask)', (a) => F.dropout(a, 0.4, new Rng(3)), [leaf([20])]);
check('conv2d', (x, w, b) => F.conv2d(x, w, b), [leaf([2, 3, 5, 6]), leaf([4, 3, 3, 3]), leaf([4])]);
check('conv2d stride 2 padding 1', (x, w) => F.conv2d(x, w, null, { stride: 2, padding: 1 }), [leaf([1, 2, 7, 6]), leaf([3, 2, 3, 2])]);
check('binConv2d (one convolution per bin)', (x, w) => F.binConv2d(x, w, { padding: 1 }), [leaf([3, 2, 2, 4, 5]), leaf([3, 3, 2, 3, 3])]);
check('conv2d dilation 2', (x, w, b) => F.conv2d(x, w, b, { dilation: 2, padding: 2 }), [leaf([2, 2, 6, 6]), leaf([2, 2, 3, 3]), leaf([2])]);
check('conv1d', (x, w, b) => F.conv1d(x, w, b, { stride: 2, padding: 1 }), [leaf([2, 3, 9]), leaf([4, 3, 3]), leaf([4])]);
check('maxPool2d', (x) => F.maxPool2d(x, 2), [awayFromKinks([2, 2, 5, 4])]);
check('maxPool2d stride 1 padding 1', (x) => F.maxPool2d(x, 3, { stride: 1, padding: 1 }), [awayFromKinks([1, 2, 4, 4])]);
check('avgPool2d', (x) => F.avgPool2d(x, 2, { stride: 1 }), [leaf([2, 2, 4, 5])]);
check('maxPool1d', (x) => F.maxPool1d(x, 3), [awayFromKinks([2, 2, 9])]);
check('globalAvgPool2d', (x) => F.globalAvgPool2d(x), [leaf([2, 3, 3, 4])]);
check('globalMaxPool2d', (x) => F.globalMaxPool2d(x), [awayFromKinks([2, 3, 3, 4])]);
{
  const C = 3;
  const rm = () => Tensor.zeros([C], 'float64'), rv = () => Tensor.ones([C], 'float64');
  check('batchNorm 2d (train)', (x, g, b) => F.batchNorm(x, g, b, rm(), rv(), { training: true }), [leaf([4, C, 3, 2]), leaf([C], 0.5, 1.5), leaf([C])], { atol: 1e-4 });
  check('batchNorm 1d (train)', (x, g, b) => F.batchNorm(x, g, b, rm(), rv(), { training: true }), [leaf([6, C]), leaf([C], 0.5, 1.5), leaf([C])], { atol: 1e-4 });
  const m = Tensor.from([0.1, -0.2, 0.3], [C], 'float64'), v = Tensor.from([0.5, 1.5, 2], [C], 'float64');
  check('batchNorm (eval)', (x, g, b) => F.batchNorm(x, g, b, m, v, { training: false }), [leaf([4, C, 2, 2]), leaf([C]), leaf([C])]);
}
check('a composite: two-layer network with shared input', (x, w1, w2) => {
  const h = F.tanh(F.matmul(x, w1));
  return F.add(F.matmul(h, w2), F.sum(F.mul(h, h), 1, true));
}, [leaf([3, 4]), leaf([4, 5]), leaf([5, 2])]);

test('gradients accumulate across backward calls and noGrad records nothing', () => {
  const a = leaf([3]);
  F.sum(F.mul(a, 2)).backward();
  F.sum(F.mul(a, 3)).backward();
  assert.deepEqual(a.grad!.toArray(), [5, 5, 5]);
  const y = F.noGrad(() => F.mul(a, 2));
  assert.equal(y.requiresGrad, false);
  assert.equal(y.node, null);
});

test('gradcheck detects a wrong gradient (it can fail)', () => {
  // A function whose tape is cut (detach) has a zero analytic gradient but a non-zero numeric one.
  const r = gradcheck((a) => F.add(F.mul(a.detach(), 2), F.mul(a, 0)), [leaf([3])]);
  assert.equal(r.ok, false);
});
