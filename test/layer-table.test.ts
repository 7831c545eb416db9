// Issue 26, point 3: docs/cli.md's table of layer fields and defaults is the registry's (scripts/layer-table.mjs
// writes it); unknown keys are refused with the valid keys and a did-you-mean; "in": "auto" is inferred.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { layerTableMarkdown, validateSpec } from '../src/node.js';
import { frugal, oneJson } from './cli-helpers.js';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const spec = (layers: unknown[]) => ({ format: 'frugal-model', version: 1, input: [1, 28, 28], layers });

test('the layer table of docs/cli.md equals the one generated from the registry', () => {
  const readme = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
  const table = layerTableMarkdown();
  assert.match(table, /\| `conv2d` \| `in` required \(or "auto"\); .*`padding` 0/);
  assert.ok(
    readme.includes(`<!-- layer-table -->\n${table}\n<!-- /layer-table -->`),
    'docs/cli.md layer table differs from the registry: run npx tsc -p tsconfig.json && node scripts/layer-table.mjs',
  );
});

test('unknown keys name the layer, the key, the valid keys and the nearest; "auto" widths are inferred', () => {
  assert.throws(
    () => validateSpec(spec([{ type: 'conv2d', in: 1, out: 4, kernel: 3, paddding: 1 }])),
    new RegExp(
      "model spec layer 0 \\(conv2d\\): unknown key 'paddding'; conv2d takes in, out, kernel, stride, padding, " +
        "dilation, bias \\(did you mean 'padding'\\?\\)",
    ),
  );
  assert.throws(
    () => validateSpec(spec([{ type: 'flatten' }, { type: 'dropout', rate: 0.2 }])),
    /layer 1 \(dropout\): unknown key 'rate'; dropout takes p \(did you mean 'p'\?\)/,
  );
  assert.throws(() => validateSpec(spec([{ type: 'flatten', x: 1 }])), /unknown key 'x'; flatten takes no fields$/);
  const s = validateSpec(
    spec([
      { type: 'conv2d', in: 'auto', out: 4, kernel: 3 },
      { type: 'flatten' },
      { type: 'sequential', layers: [{ type: 'linear', in: 'auto', out: 10 }] },
    ]),
  );
  assert.equal(s.layers[0].in, 1);
  assert.equal((s.layers[2].layers as { in: number }[])[0].in, 4 * 26 * 26);
});

test('frugal info SPEC.json prints per-layer parameters, MACs and output shapes without weights', () => {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-info-spec-'));
  const path = join(dir, 'net.json');
  writeFileSync(
    path,
    JSON.stringify(spec([{ type: 'flatten' }, { type: 'linear', in: 'auto', out: 10 }, { type: 'relu' }])),
  );
  const r = frugal('info', path, '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = oneJson(r.stdout) as { layers: { params: number; macs: number; outputShape: number[] }[] };
  assert.deepEqual(j.layers[1], { ...j.layers[1], params: 7850, macs: 7840, outputShape: [10] });
  assert.match(frugal('info', path).stdout, /a model spec: fresh weights, nothing trained/);
});
