// npm run bench:sparse [-- --quick]
// The CSR kernel against the dense GEMM on the same shapes, same process, interleaved rounds:
// the density below which compact() stores layers sparse (SPARSE_MAX_DENSITY) comes from here,
// and the pruning issue's gate (sparse ≥ 3× dense at 90% sparsity on the VGG head) is checked.
import {
  persistentArray,
  Linear,
  Rng,
  SparseLinear,
  Tensor,
  noGrad,
  toCsr,
  wasmBackend,
  sparseKernels,
  withScope,
  backendName,
  threadUse,
  SPARSE_MAX_DENSITY,
} from '../src/index.js';
import { race } from './race.js';
import { MIN_POOLED } from '../src/core/arena.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 7;
const log = (s: string) => process.stderr.write(`${s}\n`);
const be = wasmBackend(),
  sw = sparseKernels.wasm();
if (!be || !sw) {
  log('the WebAssembly backend is unavailable; nothing to compare');
  process.exit(1);
}

const timed = (fns: (() => void)[], budget = quick ? 20 : 60): number[] => race(fns, rounds, budget);

/** Arrays in the kernels' memory (as model weights and pooled activations are), so no call copies its operands. */
const keep: Float32Array[] = [];
// At least MIN_POOLED floats: smaller persistent arrays stay on the JavaScript heap.
function resident(a: Float32Array): Float32Array {
  const p = persistentArray(Math.max(a.length, MIN_POOLED));
  keep.push(p);
  const v = p.subarray(0, a.length);
  v.set(a);
  return v;
}
function residentInts(a: Int32Array): Int32Array {
  const p = persistentArray(Math.max(a.length, MIN_POOLED));
  keep.push(p);
  const v = new Int32Array(p.buffer, p.byteOffset, a.length);
  v.set(a);
  return v;
}

function sparseMatrix(rows: number, cols: number, density: number, seed: number): Float32Array {
  const rng = new Rng(seed),
    w = new Float32Array(rows * cols);
  for (let i = 0; i < w.length; i++) if (rng.random() < density) w[i] = rng.normal();
  return w;
}

interface KernelRow {
  shape: string;
  rows: number;
  cols: number;
  n: number;
  density: number;
  denseMs: number;
  sparseMs: number;
  speedup: number;
}
const kernels: KernelRow[] = [];
// The VGG head, a VGG conv layer's im2col product (one 7×7 image and a batch of 8) and an MLP layer.
// Linear shapes are timed as Linear runs them (X[n×cols]·Wᵀ, the GEMM packs the transpose);
// conv shapes as conv2d does (W·col). The CSR kernel gets its operand already laid out [cols × n].
const shapes: [string, number, number, number, boolean][] = [
  ['head 10×1152, batch 1', 10, 1152, 1, true],
  ['head 10×1152, batch 64', 10, 1152, 64, true],
  ['conv6 128×1152 · 49', 128, 1152, 49, false],
  ['conv6 128×1152 · 392', 128, 1152, 392, false],
  ['mlp 256×784, batch 64', 256, 784, 64, true],
];
const densities = quick ? [0.5, 0.3, 0.1] : [0.7, 0.5, 0.3, 0.2, 0.1, 0.05];
for (const [shape, rows, cols, n, linear] of shapes) {
  const X = resident(new Float32Array(cols * n).map((_, i) => Math.sin(i))),
    Y = resident(new Float32Array(rows * n));
  for (const density of densities) {
    const w = resident(sparseMatrix(rows, cols, density, rows + n));
    const c0 = toCsr(w, rows, cols);
    const csr = {
      ...c0,
      rowPtr: residentInts(c0.rowPtr),
      colIdx: residentInts(c0.colIdx),
      vals: resident(c0.vals as Float32Array),
    };
    const dense = linear
      ? () => be.gemm(false, true, n, rows, cols, X, w, Y, false)
      : () => be.gemm(false, false, rows, n, cols, w, X, Y, false);
    const [denseMs, sparseMs] = timed([dense, () => sw.spmm(csr, X, n, Y)]);
    const row = { shape, rows, cols, n, density, denseMs, sparseMs, speedup: denseMs / sparseMs };
    kernels.push(row);
    log(
      `${shape.padEnd(26)} density ${density.toFixed(2)}  dense ${denseMs.toFixed(4)} ms  csr ` +
        `${sparseMs.toFixed(4)} ms  ×${row.speedup.toFixed(2)}`,
    );
  }
}
// Crossover: per shape, the highest density at which CSR is still faster.
const crossover = shapes.map(([shape]) => {
  const rs = kernels.filter((k) => k.shape === shape && k.speedup > 1);
  return { shape, fasterBelowDensity: rs.length ? Math.max(...rs.map((k) => k.density)) : 0 };
});
for (const c of crossover) log(`crossover ${c.shape}: CSR faster up to density ${c.fasterBelowDensity}`);

// Layer level, as a model runs it: Linear (dense GEMM) vs SparseLinear at 90% sparsity on the head.
const layers: { batch: number; denseMs: number; sparseMs: number; speedup: number }[] = [];
for (const batch of [1, 64]) {
  const dense = new Linear(1152, 10, { rng: new Rng(1) });
  dense.weight.data.set(sparseMatrix(10, 1152, 0.1, 3));
  const sparse = SparseLinear.fromDense(dense);
  const x = Tensor.rand([batch, 1152], new Rng(2));
  const [d, s] = noGrad(() =>
    timed([
      () =>
        withScope(() => {
          dense.forward(x);
        }),
      () =>
        withScope(() => {
          sparse.forward(x);
        }),
    ]),
  );
  layers.push({ batch, denseMs: d, sparseMs: s, speedup: d / s });
  log(
    `head layer 1152→10, 90% sparse, batch ${batch}: Linear ${d.toFixed(4)} ms, SparseLinear ${s.toFixed(4)} ms, ` +
      `×${(d / s).toFixed(2)}`,
  );
}
const head90 = kernels.filter((k) => k.shape.startsWith('head') && k.density === 0.1);
process.stdout.write(
  `${JSON.stringify({
    bench: 'sparse',
    backend: backendName(),
    ...threadUse(),
    rounds,
    sparseMaxDensity: SPARSE_MAX_DENSITY,
    kernels,
    crossover,
    layers,
    gate: {
      name: 'CSR at 90% sparsity ≥ 3× the dense GEMM on the head shapes',
      values: head90.map((k) => ({ shape: k.shape, speedup: k.speedup })),
      pass: head90.every((k) => k.speedup >= 3),
    },
  })}\n`,
);
