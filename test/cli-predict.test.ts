// Issue 26, point 6: `frugal predict MODEL INPUT...` on PNG, JPEG, .npy and IDX/CSV on stdin, with class names.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import {
  buildModel,
  encodeIdxU8,
  encodeNpyF32,
  FASHION_MNIST_CLASSES,
  loadFashionMnist,
  NpyError,
  parseNpy,
  predict,
  referenceMlp,
  resizeArea,
  SUBSET_DIR,
  Tensor,
} from '../src/node.js';
import { DATA, MAIN, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-predict-'));
const model = join(dir, 'mlp.safetensors');
const test0 = loadFashionMnist(SUBSET_DIR).test;
const pixels = (i: number) => test0.images.subarray(i * 784, (i + 1) * 784) as Uint8Array;

/** A gray image of test sample i enlarged k times by pixel repetition, as RGBA. */
function rgba(i: number, k: number, alpha = 255): { width: number; height: number; data: Buffer } {
  const w = 28 * k,
    data = Buffer.alloc(w * w * 4);
  for (let y = 0; y < w; y++)
    for (let x = 0; x < w; x++) {
      const v = pixels(i)[Math.floor(y / k) * 28 + Math.floor(x / k)];
      data.set([v, v, v, alpha], (y * w + x) * 4);
    }
  return { width: w, height: w, data };
}
function png(path: string, img: ReturnType<typeof rgba>): string {
  const p = new pngjs.PNG({ width: img.width, height: img.height });
  img.data.copy(p.data);
  writeFileSync(path, pngjs.PNG.sync.write(p));
  return path;
}
const run = (args: string[], input?: Uint8Array | string) => {
  const r = spawnSync(process.execPath, [MAIN, 'predict', ...args], { input, encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
};
type Pred = { input: string; class: number; name: string; top: { class: number; name: string; probability: number }[] };
const preds = (stdout: string) => oneJson(stdout).predictions as Pred[];

test('frugal train stores the class names; predict names the top K of PNG, JPEG, .npy and stdin inputs', () => {
  const t = frugal('train', '--model', 'mlp', ...DATA, '--epochs', '1', '--limit', '600', '--out', model);
  assert.equal(t.code, 0, t.stderr);
  const info = oneJson(frugal('info', model, '--json').stdout);
  assert.deepEqual((info.training as { classNames: string[] }).classNames, FASHION_MNIST_CLASSES);

  // Enlarged 2× and 3× by repetition, area averaging gives back the 28 × 28 pixels exactly: the same
  // probabilities as the pixels given as a float .npy (x / 255) and as IDX bytes on stdin.
  const a = png(join(dir, 'a.png'), rgba(0, 2));
  const j = rgba(1, 3);
  writeFileSync(join(dir, 'b.jpg'), jpeg.encode(j, 100).data);
  const x = Float32Array.from([...pixels(0), ...pixels(1)], (v) => v / 255);
  writeFileSync(join(dir, 'c.npy'), encodeNpyF32([2, 1, 28, 28], x));
  const r = run([model, a, join(dir, 'b.jpg'), join(dir, 'c.npy'), '--top', '4', '--json']);
  assert.equal(r.code, 0, r.stderr);
  const p = preds(r.stdout);
  assert.deepEqual(
    p.map((q) => q.input),
    [a, join(dir, 'b.jpg'), `${join(dir, 'c.npy')}[0]`, `${join(dir, 'c.npy')}[1]`],
  );
  for (const q of p) {
    assert.equal(q.top.length, 4);
    assert.equal(q.name, FASHION_MNIST_CLASSES[q.class]);
    for (let k = 1; k < 4; k++) assert.ok(q.top[k].probability <= q.top[k - 1].probability);
    assert.equal(q.top[0].name, FASHION_MNIST_CLASSES[q.top[0].class]);
  }
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(p[0].top[k].probability - p[2].top[k].probability) < 1e-6);
  // JPEG is lossy: the same top class, probabilities close.
  assert.equal(p[1].class, p[3].class);
  assert.ok(Math.abs(p[1].top[0].probability - p[3].top[0].probability) < 0.05);

  const idx = encodeIdxU8([2, 28, 28], Uint8Array.from([...pixels(0), ...pixels(1)]));
  const s = run([model, '-', '--json', '--top', '4'], idx);
  assert.equal(s.code, 0, s.stderr);
  const q = preds(s.stdout);
  assert.deepEqual(
    q.map((v) => v.input),
    ['stdin[0]', 'stdin[1]'],
  );
  for (let k = 0; k < 4; k++) assert.ok(Math.abs(q[0].top[k].probability - p[2].top[k].probability) < 1e-6);
  // CSV on stdin: a header, and a label column before the 784 pixels, both dropped.
  const csv = `label,${Array.from({ length: 784 }, (_, i) => `p${i}`)}\n9,${[...pixels(0)].join(',')}\n`;
  const c = run([model, '-'], csv);
  assert.equal(c.code, 0, c.stderr);
  assert.match(c.stdout, new RegExp(`^stdin: ${p[0].name.replace('/', '\\/')} \\d+\\.\\d%, `));
});

test('predict: a transparent image is black; wrong inputs get a message naming the input', () => {
  const clear = png(join(dir, 'clear.png'), rgba(0, 1, 0));
  writeFileSync(join(dir, 'zeros.npy'), encodeNpyF32([784], new Float32Array(784)));
  const r = run([model, clear, join(dir, 'zeros.npy'), '--json']);
  assert.equal(r.code, 0, r.stderr);
  const [a, b] = preds(r.stdout);
  assert.deepEqual(a.top, b.top);
  const bad = run([model, join(dir, 'zeros.npy'), '--invert']);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /--invert applies to PNG and JPEG inputs/);
  writeFileSync(join(dir, 'short.npy'), encodeNpyF32([700], new Float32Array(700)));
  const short = run([model, join(dir, 'short.npy')]);
  assert.equal(short.code, 1);
  assert.match(short.stderr, /short\.npy holds 700 values, not a whole number of samples of \[784\]/);
  const one = frugal('predict', model);
  assert.equal(one.code, 2);
  assert.match(one.stderr, /expected at least 2 positional arguments/);
  const missing = run([model, join(dir, 'nope.png')]);
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /cannot read input .*nope\.png: no such file/);
});

test('predict(), area resizing and .npy parsing (library)', () => {
  const m = buildModel(referenceMlp, 3);
  const [p] = predict(
    m,
    new Tensor(
      Float32Array.from(pixels(2), (v) => v / 255),
      [1, 784],
    ),
    { top: 2 },
  );
  assert.ok(Math.abs(p.probabilities.reduce((s, v) => s + v, 0) - 1) < 1e-5);
  assert.equal(p.top.length, 2);
  assert.equal(p.top[0].probability, Math.max(...p.probabilities));
  // Area averaging: 4 × 4 → 2 × 2 is the mean of each 2 × 2 block; 3 → 2 weighs the middle pixel half to each.
  const src = Float32Array.from({ length: 16 }, (_, i) => i);
  assert.deepEqual([...resizeArea(src, 4, 4, 2, 2)], [2.5, 4.5, 10.5, 12.5]);
  const row = resizeArea(Float32Array.from([0, 3, 6]), 3, 1, 2, 1);
  assert.deepEqual([...row], [1, 5]);
  const npy = parseNpy(encodeNpyF32([2, 3], Float32Array.from([1, 2, 3, 4, 5, 6])));
  assert.deepEqual(npy.shape, [2, 3]);
  assert.deepEqual([...npy.data], [1, 2, 3, 4, 5, 6]);
  const fortran = new TextDecoder()
    .decode(encodeNpyF32([2, 3], new Float32Array(6)))
    .replace("'fortran_order': False", "'fortran_order': True ");
  assert.throws(() => parseNpy(new Uint8Array(Buffer.from(fortran, 'latin1'))), NpyError);
  assert.throws(() => parseNpy(readFileSync(model)), /not a \.npy file/);
});
