// packBinary with α ≠ 1 (XNOR-Net scale 'channel') and b ≠ 0 (binary and jet layers with a bias): the folded
// thresholds are found on the integer z, so the packed model must compare z itself with them, not α·z + b.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  BatchNorm,
  BinaryConv2d,
  BinaryLinear,
  NeuralJetConv2d,
  Rng,
  Sequential,
  SignThreshold,
  Tensor,
  buildModel,
  noGrad,
  packBinary,
  type ModelSpec,
} from '../src/index.js';

const argmax = (d: ArrayLike<number>, row: number, n: number) => {
  let best = 0;
  for (let j = 1; j < n; j++) if (d[row * n + j] > d[row * n + best]) best = j;
  return best;
};

/**
 * Non-trivial eval-mode model: nonzero biases; every batch norm's statistics set from its own input on `x`
 * (mean shifted by up to half a standard deviation, some negative γ), so its thresholds fall where the data are.
 */
function prepared(spec: ModelSpec, x: Tensor, seed: number): Sequential {
  const m = buildModel(spec, seed) as Sequential;
  const rng = new Rng(seed + 7);
  m.eval();
  noGrad(() => {
    let h = x;
    for (const l of m.layers) {
      if ((l instanceof BinaryConv2d || l instanceof BinaryLinear || l instanceof NeuralJetConv2d) && l.bias)
        for (let c = 0; c < l.bias.size; c++) l.bias.data[c] = rng.uniform(-4, 4);
      if (l instanceof BatchNorm) {
        const C = l.numFeatures,
          per = h.size / h.shape[0] / C;
        for (let c = 0; c < C; c++) {
          let s = 0,
            s2 = 0,
            n = 0;
          for (let b = 0; b < h.shape[0]; b++)
            for (let i = 0; i < per; i++) {
              const v = h.data[(b * C + c) * per + i];
              s += v;
              s2 += v * v;
              n++;
            }
          const mean = s / n,
            sd = Math.sqrt(Math.max(s2 / n - mean * mean, 1e-6));
          l.runningMean.data[c] = mean + rng.uniform(-0.5, 0.5) * sd;
          l.runningVar.data[c] = sd * sd * rng.uniform(0.5, 2);
          l.weight.data[c] = (rng.random() < 0.3 ? -1 : 1) * rng.uniform(0.2, 1.5);
          l.bias.data[c] = rng.uniform(-0.3, 0.3);
        }
      }
      h = l.forward(h);
    }
  });
  return m;
}

interface Compared {
  /** max |float − packed| over the logits. */
  maxDiff: number;
  /** Signs compared at the folded thresholds, and how many differ (each must be a tie). */
  signs: number;
  differ: number;
}

/**
 * Packs `m` and compares, layer by layer on the float model's own activations, sign(bn(layer(h))) with the
 * packed layer + threshold; then the logits. Exact ties: the float simulation sums K terms ±α in float32 where
 * the threshold was found on fround(α·z) + b, so the two can round differently; a sign may differ only where
 * the simulation's batch-norm output is within 1e-4 of 0.
 */
function compare(m: Sequential, x: Tensor): Compared {
  const want = noGrad(() => m.forward(x));
  const { model: p, report } = packBinary(m);
  assert.equal(p.layers.length, m.layers.length, 'one packed layer per layer (thresholds in place of batch norms)');
  assert.ok(report.folded.length >= 2, `folded ${report.folded}`);
  let signs = 0,
    differ = 0;
  noGrad(() => {
    let h = x;
    for (let i = 0; i < m.layers.length; i++) {
      if (report.folded.includes(i + 1)) {
        assert.ok(p.layers[i + 1] instanceof SignThreshold);
        const y = m.layers[i + 1].forward(m.layers[i].forward(h)).data,
          got = p.layers[i + 1].forward(p.layers[i].forward(h)).data;
        for (let k = 0; k < y.length; k++) {
          signs++;
          if ((y[k] >= 0 ? 1 : -1) !== got[k]) {
            differ++;
            assert.ok(Math.abs(y[k]) < 1e-4, `layer ${i}: sign differs at ${k} where bn = ${y[k]} (not a tie)`);
          }
        }
      }
      h = m.layers[i].forward(h);
    }
  });
  const got = noGrad(() => p.forward(x));
  let maxDiff = 0;
  for (let k = 0; k < got.size; k++) maxDiff = Math.max(maxDiff, Math.abs(got.data[k] - want.data[k]));
  const n = got.shape[1];
  for (let r = 0; r < got.shape[0]; r++)
    assert.equal(argmax(got.data, r, n), argmax(want.data, r, n), `sample ${r}: packed and float argmax`);
  assert.ok(maxDiff < 1e-3, `max |float − packed| = ${maxDiff}`);
  return { maxDiff, signs, differ };
}

const model = (layers: ModelSpec['layers']): ModelSpec => ({
  format: 'frugal-model',
  version: 1,
  input: [2, 8, 8],
  layers,
});

test("packBinary with scale 'channel' (α ≠ 1): packed signs and logits equal the float model's", (t) => {
  const spec = model([
    { type: 'conv2d', in: 2, out: 6, kernel: 3, padding: 1 },
    { type: 'batchnorm2d', features: 6 },
    { type: 'binary-conv2d', in: 6, out: 9, kernel: 3, padding: 1, padValue: -1, scale: 'channel' },
    { type: 'batchnorm2d', features: 9 },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'binary-conv2d', in: 9, out: 8, kernel: 3, padding: 1, stride: 2, scale: 'channel' },
    { type: 'batchnorm2d', features: 8 },
    { type: 'flatten' },
    { type: 'binary-linear', in: 32, out: 12, scale: 'channel' },
    { type: 'batchnorm1d', features: 12 },
    { type: 'binary-linear', in: 12, out: 5, scale: 'channel' },
    { type: 'batchnorm1d', features: 5 },
  ]);
  const x = Tensor.randn([48, 2, 8, 8], new Rng(21));
  const r = compare(prepared(spec, x, 4), x);
  t.diagnostic(`scale channel: max |float - packed| = ${r.maxDiff}; signs differing ${r.differ} of ${r.signs}`);
});

test('packBinary with a bias (b ≠ 0) on binary and jet layers: packed signs and logits equal the float', (t) => {
  const spec = model([
    { type: 'conv2d', in: 2, out: 5, kernel: 3, padding: 1 },
    { type: 'batchnorm2d', features: 5 },
    { type: 'jet-conv2d', in: 5, out: 6, padValue: -1, bias: true },
    { type: 'batchnorm2d', features: 6 },
    { type: 'binary-conv2d', in: 6, out: 7, kernel: 3, padding: 1, bias: true, scale: 'channel' },
    { type: 'batchnorm2d', features: 7 },
    { type: 'maxpool2d', kernel: 2 },
    { type: 'flatten' },
    { type: 'binary-linear', in: 112, out: 10, bias: true },
    { type: 'batchnorm1d', features: 10 },
    { type: 'linear', in: 10, out: 4 },
  ]);
  const x = Tensor.randn([48, 2, 8, 8], new Rng(22));
  const r = compare(prepared(spec, x, 5), x);
  t.diagnostic(`bias: max |float - packed| = ${r.maxDiff}; signs differing ${r.differ} of ${r.signs}`);
});
