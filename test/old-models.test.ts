import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadModel, noGrad, Rng, Tensor } from '../src/node.js';

// Model files written by an earlier build (see logits.json's madeBy), with the logits that build computed:
// a model with dense, batch-norm, binary, jet and circulant layers; its packed XNOR-popcount form; a
// compacted CSR model. Files from before a refactor must load and compute the same outputs.
const dir = fileURLToPath(new URL('../../test/fixtures/models/', import.meta.url));
const expected = JSON.parse(readFileSync(`${dir}logits.json`, 'utf8')) as { logits: Record<string, number[]> };

for (const name of ['mixed', 'packed', 'sparse']) {
  test(`a ${name} model file written by an earlier build loads and gives the logits that build computed`, () => {
    const { model } = loadModel(`${dir}${name}.safetensors`);
    model.eval();
    const y = noGrad(() => model.forward(Tensor.randn([2, 1, 28, 28], new Rng(5)))).toArray();
    const want = expected.logits[name];
    assert.equal(y.length, want.length);
    for (let i = 0; i < y.length; i++) {
      assert.ok(
        Math.abs(y[i] - want[i]) <= 1e-5 + 1e-5 * Math.abs(want[i]),
        `${name}[${i}]: ${y[i]} against ${want[i]}`,
      );
    }
  });
}
