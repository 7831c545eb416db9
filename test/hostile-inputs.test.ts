// Hostile sizes from every outside source — model specs, model files, flags, the environment — fed to the
// CLI as a user would run it. Each must be refused with a message naming the field and the limit, with
// the right exit code, quickly and without a large allocation (peak RSS from /usr/bin/time -v).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  avgPool2d,
  encodeSafetensors,
  LIMITS,
  matmul,
  maxPool2d,
  Tensor,
  wasmBackend,
  type LayerSpec,
} from '../src/node.js';
import { DATA, MAIN } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-hostile-'));
const TIME = '/usr/bin/time';
/** Well under what a 10⁹-element allocation would take (4 GB), and above Node's own ~60–120 MB. */
const MAX_RSS_MB = 300;

/** Run the CLI under /usr/bin/time -v when present: exit code, stderr, wall time and peak RSS. */
function run(args: string[], env: Record<string, string> = {}) {
  const timed = existsSync(TIME);
  const t0 = performance.now();
  const r = spawnSync(
    timed ? TIME : process.execPath,
    timed ? ['-v', process.execPath, MAIN, ...args] : [MAIN, ...args],
    {
      encoding: 'utf8',
      env: { ...process.env, ...env },
    },
  );
  const ms = performance.now() - t0;
  const rss = /Maximum resident set size \(kbytes\): (\d+)/.exec(r.stderr);
  return {
    code: r.status ?? -1,
    stderr: r.stderr.split('\n\tCommand being timed')[0],
    ms,
    rssMb: rss ? Number(rss[1]) / 1024 : null,
  };
}

function spec(layers: LayerSpec[], input: number[] = [4]): string {
  const p = join(dir, `spec-${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(p, JSON.stringify({ format: 'frugal-model', version: 1, input, layers }));
  return p;
}

/** A model file: the given spec in its metadata and the given (few) tensors. */
function modelFile(layers: LayerSpec[], input: number[], tensors: Record<string, Tensor> = {}): string {
  const p = join(dir, `model-${Math.random().toString(36).slice(2)}.safetensors`);
  const specText = JSON.stringify({ format: 'frugal-model', version: 1, input, layers });
  writeFileSync(p, encodeSafetensors(tensors, { 'frugal.spec': specText }));
  return p;
}

/** A safetensors file whose header declares `shape` F32 at [0, end) but holds only 16 data bytes. */
function lyingHeader(shape: number[], end: number): string {
  const header = JSON.stringify({
    __metadata__: { 'frugal.spec': JSON.stringify({ format: 'frugal-model', version: 1, input: [4], layers: [] }) },
    w: { dtype: 'F32', shape, data_offsets: [0, end] },
  });
  const hb = new TextEncoder().encode(header);
  const out = new Uint8Array(8 + hb.length + 16);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  const p = join(dir, 'lying.safetensors');
  writeFileSync(p, out);
  return p;
}

const train = (model: string, ...more: string[]) => [
  'train',
  '--model',
  model,
  '--out',
  join(dir, 'o'),
  ...DATA,
  ...more,
];
const cnn = (conv: Record<string, unknown>) =>
  spec([{ type: 'conv2d', in: 1, out: 2, kernel: 3, ...conv }, { type: 'flatten' }], [1, 8, 8]);

interface Case {
  name: string;
  args: () => string[];
  env?: Record<string, string>;
  code: number;
  message: RegExp;
}

const cases: Case[] = [
  {
    name: 'a spec with a 10⁹-wide linear layer',
    args: () => train(spec([{ type: 'linear', in: 4, out: 1e9 }])),
    code: 1,
    message: /layer 0 \(linear\).*field 'out'.*\[1, 16777216\].*maxActivationElements.*got 1000000000/,
  },
  {
    name: 'a spec whose widths are each allowed but whose weight is 2³² parameters',
    args: () => train(spec([{ type: 'linear', in: 65536, out: 65536 }], [65536])),
    code: 1,
    message: /layer 0 \(linear\): its parameters and buffers is 4,295,032,832 elements.*67,108,864 \(maxModelParams/,
  },
  {
    name: 'a spec whose one-sample input is 10¹² elements',
    args: () => train(spec([{ type: 'flatten' }], [1e4, 1e4, 1e4])),
    code: 1,
    message: /"input" \[10000, 10000, 10000\] is 1,000,000,000,000 elements.*maxActivationElements/,
  },
  {
    name: 'a spec whose convolution output per sample is beyond the activation limit',
    args: () => train(spec([{ type: 'conv2d', in: 1, out: 4096, kernel: 1 }], [1, 4096, 4096])),
    code: 1,
    message: /layer 0 \(conv2d\): its output per sample \[4096, 4096, 4096\].*maxActivationElements/,
  },
  {
    name: 'a NaN kernel (JSON gives a string)',
    args: () => train(cnn({ kernel: 'NaN' })),
    code: 1,
    message: /layer 0.*needs a numeric 'kernel'/,
  },
  {
    name: 'a negative kernel',
    args: () => train(cnn({ kernel: -3 })),
    code: 1,
    message: /layer 0 \(conv2d\).*field 'kernel' must be an integer in \[1, 16777216\].*got -3/,
  },
  {
    name: 'a fractional stride',
    args: () => train(cnn({ stride: 1.5 })),
    code: 1,
    message: /field 'stride' must be an integer in \[1, 16777216\].*got 1\.5/,
  },
  {
    name: 'a negative padding',
    args: () => train(cnn({ padding: -1 })),
    code: 1,
    message: /field 'padding' must be an integer in \[0, 16777216\].*got -1/,
  },
  {
    name: 'a fractional pooling padding',
    args: () => train(spec([{ type: 'maxpool2d', kernel: 2, padding: 0.5 }], [1, 4, 4])),
    code: 1,
    message: /layer 0 \(maxpool2d\).*field 'padding' must be an integer in \[0, 16777216\].*got 0\.5/,
  },
  {
    name: 'a model file whose header claims a 10⁹-float tensor but holds 16 bytes',
    args: () => ['info', lyingHeader([1e9], 4e9)],
    code: 1,
    message: /entry w data \[0, 4000000000\) lies outside the 16 data bytes/,
  },
  {
    name: 'a model file whose stored spec is a 10⁹-wide layer with no weights',
    args: () => ['info', modelFile([{ type: 'linear', in: 4, out: 1e9 }], [4])],
    code: 1,
    message: /stored model spec is invalid.*layer 0 \(linear\).*field 'out'.*maxActivationElements/,
  },
  {
    name: 'a sparse model whose nnz exceeds rows × columns',
    args: () => [
      'info',
      modelFile([{ type: 'sparse-linear', in: 4, out: 3, nnz: 1e6 }], [4], { bias: Tensor.zeros([3]) }),
    ],
    code: 1,
    message: /layer 0 \(sparse-linear\).*field 'nnz' is 1000000, more non-zeros than the 3 × 4 = 12 entries/,
  },
  {
    name: 'a circulant block size larger than the channels',
    args: () => train(spec([{ type: 'circlinear', in: 8, out: 8, block: 1 << 20, pad: true }], [8])),
    code: 1,
    message: /layer 0 \(circlinear\).*field 'block' is 1048576, above the layer's channels \(in 8, out 8\): at most 8/,
  },
  {
    name: '--threads 100000',
    args: () => ['info', 'x.safetensors', '--threads', '100000'],
    code: 2,
    message:
      /--threads must be a positive integer ≤ \d+ \(threadsPerCore 4 × \d+ cores, core\/limits\.ts\), got "100000"/,
  },
  {
    name: 'FRUGAL_THREADS=1e9',
    args: () => ['info', 'x.safetensors'],
    env: { FRUGAL_THREADS: '1e9' },
    code: 1,
    message: /FRUGAL_THREADS must be a positive integer ≤ \d+ \(threadsPerCore 4 × \d+ cores.*got "1e9"/,
  },
  {
    name: '--lr NaN',
    args: () => train('mlp', '--lr', 'NaN'),
    code: 2,
    message: /--lr must be a number > 0, got "NaN"/,
  },
  {
    name: 'a model file whose spec declares 2²⁶ parameters but which stores no weights',
    args: () => ['info', modelFile([{ type: 'linear', in: 8192, out: 8191, bias: false }], [8192])],
    code: 1,
    message: /declares 67,100,672 parameters and buffers, but the file holds 0 bytes of tensors.*weights are missing/,
  },
  {
    name: '--lr Infinity',
    args: () => train('mlp', '--lr', 'Infinity'),
    code: 2,
    message: /--lr must be a number > 0, got "Infinity"/,
  },
  {
    name: '--epochs 1e12',
    args: () => train('mlp', '--epochs', '1e12'),
    code: 2,
    message: new RegExp(
      '--epochs must be an integer ≥ 1, got "1e12" ' +
        String.raw`\(at most 100000, the limit maxEpochs in core\/limits\.ts\)`,
    ),
  },
  {
    name: '--batch-size 1e9',
    args: () => train('mlp', '--batch-size', '1e9'),
    code: 2,
    message: /--batch-size must be an integer ≥ 1, got "1e9" \(at most 65536, the limit maxBatchSize/,
  },
];

for (const c of cases) {
  test(`hostile input refused: ${c.name}`, () => {
    const r = run(c.args(), c.env);
    const rss = r.rssMb === null ? 'n/a' : `${r.rssMb.toFixed(0)} MB`;
    process.stdout.write(`${c.name}: exit ${r.code}, ${r.ms.toFixed(0)} ms, peak RSS ${rss}\n`);
    assert.equal(r.code, c.code, r.stderr);
    assert.match(r.stderr, c.message);
    // Refusals take well under a second; 10 s only so that a loaded machine does not flake.
    assert.ok(r.ms < 10_000, `took ${r.ms} ms`);
    if (r.rssMb !== null) assert.ok(r.rssMb < MAX_RSS_MB, `peak RSS ${r.rssMb} MB`);
  });
}

test('a spec at the limits is still accepted (the limits refuse only what is beyond them)', () => {
  // The plan of a real model is far inside the limits: the reference specs build (other tests) and one
  // layer exactly at maxActivationElements outputs per sample passes the planner.
  const r = run(train(spec([{ type: 'linear', in: 1, out: LIMITS.maxActivationElements }], [1]), '--epochs', 'x'));
  assert.equal(r.code, 2, r.stderr); // reached flag parsing: the spec was not refused
  assert.match(r.stderr, /--epochs must be an integer/);
});

test('pooling ops refuse a fractional or negative padding before running', () => {
  const x = Tensor.ones([1, 1, 4, 4]);
  assert.throws(() => avgPool2d(x, 2, { padding: 0.5 }), /padding must be an integer ≥ 0, got 0.5/);
  assert.throws(() => maxPool2d(x, 2, { padding: [0, -1] }), /padding must be an integer ≥ 0, got -1/);
});

test('a refused memory growth leaves the WebAssembly backend usable', () => {
  const w = wasmBackend();
  if (!w) return; // reference backend only: nothing to grow
  const rt = w.runtime,
    before = w.memoryBytes;
  // 2³⁰ floats are 4 GiB, beyond the 4 GiB wasm32 maximum once anything else is in memory.
  rt.begin();
  assert.throws(() => rt.alloc(2 ** 30), /memory cannot grow to \d+ bytes for scratch of 1073741824 floats/);
  if (rt.memory.buffer instanceof SharedArrayBuffer)
    assert.throws(() => rt.carve(2 ** 30), /memory cannot grow to \d+ bytes for a pooled array/);
  assert.equal(w.memoryBytes, before, 'nothing was grown');
  // A normal op afterwards still runs in the same memory and gives the right product.
  const a = Tensor.from([1, 2, 3, 4, 5, 6], [2, 3]),
    b = Tensor.from([1, 0, 0, 1, 1, 1], [3, 2]);
  assert.deepEqual(matmul(a, b).toArray(), [4, 5, 10, 11]);
  const big = matmul(Tensor.ones([64, 64]), Tensor.ones([64, 64]));
  assert.ok(big.toArray().every((v) => v === 64));
});

test('scratch above 2 GiB of kernel memory round-trips: its pointers are unsigned', () => {
  const w = wasmBackend();
  // The shared build grows in place (pages are committed as touched); the fallback pass skips it.
  if (!w || !(w.runtime.memory.buffer instanceof SharedArrayBuffer)) return;
  const rt = w.runtime;
  rt.begin();
  const at = rt.alloc(1);
  rt.alloc(Math.max(0, (2 ** 31 - at) / 4) + 16);
  // A signed shift made such a pointer negative: "offset is out of bounds" (HSIC's ResConv at batch 512).
  const a = Float32Array.from([1.5, -2, 3.25, 7]),
    p = rt.inPtr(a);
  assert.ok(p >= 2 ** 31, `scratch at ${p}`);
  assert.deepEqual(Array.from(rt.f32v.subarray(p / 4, p / 4 + 4)), [1.5, -2, 3.25, 7]);
  const out = new Float32Array(4),
    q = rt.outPtr(out);
  rt.f32v.set(a, q / 4);
  rt.done(out, q);
  assert.deepEqual(Array.from(out), [1.5, -2, 3.25, 7]);
  const ints = Int32Array.from([5, -6, 7]),
    s = rt.intPtr(ints);
  assert.ok(s >= 2 ** 31);
  assert.deepEqual(Array.from(rt.i32v.subarray(s / 4, s / 4 + 3)), [5, -6, 7]);
  const r = rt.intOutPtr(ints);
  rt.i32v.set([8, 9, 10], r / 4);
  rt.intDone(ints, r);
  assert.deepEqual(Array.from(ints), [8, 9, 10]);
  // Not above 2 GiB (begin() moves scratch back down): the backend still runs after it.
  assert.deepEqual(matmul(Tensor.ones([8, 8]), Tensor.ones([8, 8])).toArray()[0], 8);
});
