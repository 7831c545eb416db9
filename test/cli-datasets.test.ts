// Issue 26, point 7: --dataset idx:DIR, csv:FILE, folder:DIR and digits; class names kept in the model file;
// eval's per-class accuracy and named confusion matrix; eval --data-dir with only the test files.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import pngjs from 'pngjs';
import {
  DIGITS_FILE,
  gatherBatch,
  loadFashionMnist,
  resolveDataset,
  subset,
  SUBSET_DIR,
  type ImageDataset,
} from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-datasets-'));
const spec = (input: number[], out: number) => {
  const path = join(dir, `spec-${input.join('x')}-${out}.json`);
  const n = input.reduce((a, b) => a * b, 1);
  const layers = [
    ...(input.length > 1 ? [{ type: 'flatten' }] : []),
    { type: 'linear', in: n, out: 16 },
    { type: 'relu' },
    { type: 'linear', in: 16, out },
  ];
  writeFileSync(path, JSON.stringify({ format: 'frugal-model', version: 1, input, layers }));
  return path;
};

/** Three separable point clouds with named labels in the middle column, and a header row. */
function pointsCsv(): string {
  const rows = ['x,species,y'];
  for (let i = 0; i < 240; i++) {
    const k = i % 3,
      jitter = ((i * 7919) % 101) / 101 - 0.5;
    rows.push(`${[0, 4, -4][k] + jitter},${['cat', 'dog', 'eel'][k]},${k === 2 ? 3 + jitter : jitter}`);
  }
  return `${rows.join('\n')}\n`;
}

test('csv:FILE trains on float features, keeps class names; eval prints per-class accuracy and named matrix', () => {
  const csv = join(dir, 'points.csv');
  writeFileSync(csv, pointsCsv());
  const out = join(dir, 'points.safetensors');
  const args = ['train', '--model', spec([2], 3), '--dataset', `csv:${csv}`, '--label-column', '1'];
  const t = frugal(...args, '--epochs', '30', '--lr', '0.02', '--out', out, '--json');
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /192 train, 0 validation, 48 test \(20% held out, seed 0\)/);
  // Float features used as given (no / 255): the clouds are far apart, so the model separates them.
  assert.ok((oneJson(t.stdout).testAccuracy as number) > 0.9, t.stdout);
  const e = frugal('eval', out, '--json');
  assert.equal(e.code, 0, e.stderr);
  const j = oneJson(e.stdout);
  assert.equal(j.dataset, `csv:${csv}`);
  assert.deepEqual(j.classNames, ['cat', 'dog', 'eel']);
  const perClass = j.perClass as { name: string; count: number; accuracy: number }[];
  assert.deepEqual(
    perClass.map((p) => p.name),
    ['cat', 'dog', 'eel'],
  );
  const confusion = j.confusion as number[][];
  perClass.forEach((p, k) => {
    assert.equal(
      p.count,
      confusion[k].reduce((a, b) => a + b, 0),
    );
    assert.equal(p.accuracy, confusion[k][k] / p.count);
  });
  const text = frugal('eval', out).stdout;
  assert.match(text, /^class\s+accuracy\s+count\ncat\s+\d+\.\d%\s+\d+\n/);
  assert.match(
    text,
    /confusion matrix \(rows: true, columns: predicted\)\n\s+cat\s+dog\s+eel\ncat\s+\d+\s+\d+\s+\d+\n/,
  );
  // Labels past the model's outputs are refused before training; a non-numeric feature names its line.
  const narrow = frugal(...args, '--model', spec([2], 2), '--out', join(dir, 'n.safetensors'));
  assert.equal(narrow.code, 1);
  assert.match(narrow.stderr, /labels up to 2 \(3 classes\), but the model has 2 outputs; make the last layer's "out"/);
  assert.doesNotMatch(narrow.stderr, /epoch 1/);
  const wrong = frugal('train', '--model', spec([2], 3), '--dataset', `csv:${csv}`, '--out', join(dir, 'w.st'));
  assert.equal(wrong.code, 1);
  assert.match(wrong.stderr, /line 2, column 1: "cat" is not a number/);
  const flag = frugal('train', '--model', 'mlp', '--label-column', '1', '--out', join(dir, 'x.st'));
  assert.equal(flag.code, 2);
  assert.match(flag.stderr, /--csv-header and --label-column go with --dataset csv:FILE/);
});

test('folder:DIR (one sub-folder per class) and idx:DIR; eval --data-dir with only the test files', () => {
  const fm = loadFashionMnist(SUBSET_DIR);
  const names = ['boot', 'trouser'];
  for (const [k, label] of [
    [0, 9],
    [1, 1],
  ]) {
    mkdirSync(join(dir, 'imgs', names[k]), { recursive: true });
    let n = 0;
    for (let i = 0; i < fm.train.count && n < 15; i++) {
      if (fm.train.labels[i] !== label) continue;
      const p = new pngjs.PNG({ width: 28, height: 28 });
      for (let q = 0; q < 784; q++) {
        const v = fm.train.images[i * 784 + q];
        p.data.set([v, v, v, 255], 4 * q);
      }
      writeFileSync(join(dir, 'imgs', names[k], `${n++}.png`), pngjs.PNG.sync.write(p));
    }
  }
  const out = join(dir, 'folder.safetensors');
  const t = frugal('train', '--model', spec([1, 28, 28], 2), '--dataset', `folder:${join(dir, 'imgs')}`, '--out', out);
  assert.equal(t.code, 0, t.stderr);
  assert.match(t.stderr, /24 train, 0 validation, 6 test/);
  const p = frugal('predict', out, join(dir, 'imgs', 'boot', '0.png'), '--json');
  assert.equal(p.code, 0, p.stderr);
  const top = (oneJson(p.stdout).predictions as { top: { name: string }[] }[])[0].top;
  assert.deepEqual(top.map((x) => x.name).sort(), names);
  // A built-in model takes the dataset's class count; a spec file keeps its own (5 outputs for 2 classes).
  const builtIn = join(dir, 'folder-mlp.safetensors');
  const oneEpoch = ['--model', 'mlp', '--dataset', `folder:${join(dir, 'imgs')}`, '--epochs', '1'];
  const b = frugal('train', ...oneEpoch, '--out', builtIn);
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stderr, /--model mlp: 2 outputs for the 2 classes of folder:.* \(built in with 10\)/);
  const outputs = (file: string) =>
    (oneJson(frugal('info', file, '--json').stdout).layers as { outputShape: number[] }[]).at(-1)?.outputShape[0];
  assert.equal(outputs(builtIn), 2);
  // So does the HSIC trainer's built-in MLP (its last block: one unit per class).
  const hsicOut = join(dir, 'folder-hsic.safetensors');
  const hs = frugal('train', '--trainer', 'hsic', ...oneEpoch, '--batch-size', '8', '--out', hsicOut);
  assert.equal(hs.code, 0, hs.stderr);
  assert.match(hs.stderr, /--model mlp: 2 output units for the 2 classes of folder:.* \(built in with 10\)/);
  assert.equal(outputs(hsicOut), 2);
  const five = join(dir, 'folder-5.safetensors');
  const f5 = frugal(
    'train',
    '--model',
    spec([1, 28, 28], 5),
    '--dataset',
    `folder:${join(dir, 'imgs')}`,
    '--out',
    five,
  );
  assert.equal(f5.code, 0, f5.stderr);
  assert.equal(outputs(five), 5);

  // A directory with only the test pair: eval of a Fashion-MNIST model reads it.
  const only = join(dir, 'test-only');
  mkdirSync(only);
  for (const f of ['t10k-images-idx3-ubyte.gz', 't10k-labels-idx1-ubyte.gz'])
    copyFileSync(join(SUBSET_DIR, f), join(only, f));
  const mlp = join(dir, 'mlp.safetensors');
  assert.equal(frugal('train', '--model', 'mlp', ...DATA, '--epochs', '1', '--limit', '300', '--out', mlp).code, 0);
  const e = frugal('eval', mlp, '--data-dir', only, '--json');
  assert.equal(e.code, 0, e.stderr);
  const j = oneJson(e.stdout);
  assert.equal(j.count, fm.test.count);
  assert.equal((j.perClass as { name: string }[])[9].name, 'Ankle boot');
  // idx:DIR with one pair: 20% of it held out as the test set.
  const idx = frugal(
    'train',
    '--model',
    'mlp',
    '--dataset',
    `idx:${only}`,
    '--epochs',
    '1',
    '--out',
    join(dir, 'i.st'),
  );
  assert.equal(idx.code, 0, idx.stderr);
  assert.match(idx.stderr, /800 train, 0 validation, 200 test \(20% held out, seed 0\)/);
});

test('digits: trained when Debian ships scikit-learn, else refused naming python3-sklearn; the loader', () => {
  if (existsSync(DIGITS_FILE)) {
    const r = frugal('train', '--model', spec([1, 8, 8], 10), '--dataset', 'digits', '--out', join(dir, 'd.st'));
    assert.equal(r.code, 0, r.stderr);
  } else {
    const r = frugal('train', '--model', 'mlp', '--dataset', 'digits', '--out', join(dir, 'd.st'));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /digits are not installed .*install Debian's python3-sklearn/);
  }
  // The loader on a file in the same layout: 64 pixels 0..16 then the digit, no header.
  const rows = Array.from({ length: 10 }, (_, d) => [...Array.from({ length: 64 }, (_, i) => (i + d) % 17), d]);
  const fake = join(dir, 'digits.csv.gz');
  writeFileSync(fake, gzipSync(rows.map((r) => r.map((v) => v.toFixed(1)).join(',')).join('\n')));
  const ds = resolveDataset('digits', { digitsFile: fake });
  assert.equal(ds.train!.count + ds.test.count, 10);
  assert.deepEqual(ds.test.sampleShape, [1, 8, 8]);
  assert.deepEqual(
    ds.classNames,
    Array.from({ length: 10 }, (_, i) => String(i)),
  );
  assert.equal(ds.inputScale, 1 / 16);
  const all = [ds.train!, ds.test];
  for (const set of all)
    for (let r = 0; r < set.count; r++) {
      const d = set.labels[r];
      assert.equal(set.images[r * 64 + 5], ((5 + d) % 17) / 16);
    }
});

test('a Float32Array dataset is batched as given (no / 255), and subset keeps it float with its names', () => {
  const ds: ImageDataset = {
    images: Float32Array.from([0.5, -2, 300, 7]),
    labels: Uint8Array.from([0, 1]),
    count: 2,
    sampleShape: [2],
    classes: 2,
    classNames: ['a', 'b'],
  };
  assert.deepEqual([...gatherBatch(ds, [1, 0]).x.data], [300, 7, 0.5, -2]);
  const s = subset(ds, [1]);
  assert.ok(s.images instanceof Float32Array);
  assert.deepEqual(s.classNames, ['a', 'b']);
  const bytes: ImageDataset = { ...ds, images: Uint8Array.from([255, 0, 51, 102]) };
  assert.deepEqual([...gatherBatch(bytes, [0]).x.data], [1, 0]);
});
