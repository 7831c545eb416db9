// Fused inference epilogues (issue 27 point 4): each fused kernel against the unfused ops it replaces, bit for bit,
// on the backend in use (the suite runs once threaded and once with FRUGAL_THREADS=1 FRUGAL_SHARED=0) and on the
// reference; and the Sequential planner fuses only in eval mode under noGrad.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  buildModel,
  Conv2d,
  linearRelu,
  Linear,
  noGrad,
  profiler,
  reference,
  referenceCnn,
  referenceMlp,
  ReLU,
  Rng,
  Sequential,
  setBackend,
  setInferenceFusion,
  setThreads,
  Tensor,
  wasmBackend,
  MaxPool2d,
  Normalize,
  Flatten,
  type Backend,
  type FArray,
  type PoolGeom,
} from '../src/index.js';
import { assertClose, geom, randomArray } from './helpers.js';

const wasm = wasmBackend();
const backends: Backend[] = wasm ? [wasm, reference] : [reference];
const threadCounts = wasm?.features.shared ? [1, 2] : [1];

function sameBits(got: FArray, want: FArray, what: string): void {
  assert.equal(got.length, want.length, `${what}: length`);
  const a = new Uint32Array(Float32Array.from(got).buffer),
    b = new Uint32Array(Float32Array.from(want).buffer);
  for (let i = 0; i < a.length; i++)
    if (a[i] !== b[i]) assert.fail(`${what}[${i}]: fused ${got[i]}, unfused ${want[i]}`);
}

for (const threads of threadCounts)
  test(`conv2dForward + relu epilogue equals conv2dForward, relu: same bits (${threads} thread(s))`, async () => {
    await setThreads(threads);
    const cases = [
      geom(3, 1, 28, 28, 16, 3, 3, 1, 0, 1), // the reference CNN's first conv: channel-vectorized, 9 taps
      geom(4, 16, 13, 13, 32, 3, 3, 1, 0, 1), // its second: the channel-vectorized kernel, 121 pixels (not 4k)
      geom(20, 16, 13, 13, 32, 3, 3, 1, 0, 1), // its second at batch 20: split over threads
      geom(2, 3, 9, 19, 13, 3, 3, 1, 1, 1), // channel-vectorized, a group of five channels
      geom(20, 16, 26, 26, 32, 3, 3, 2, 0, 1), // strided: the packed GEMM, the epilogue's transposes split over threads
      geom(2, 3, 9, 19, 7, 3, 3, 1, 1, 1), // direct (fewer than 8 channels), channel remainder
      geom(1, 2, 6, 3, 5, 3, 3, 1, 1, 1), // narrow rows (OW < 4)
      geom(2, 4, 9, 9, 6, 3, 3, 2, 1, 1), // strided: the packed GEMM
      geom(2, 130, 5, 20, 9, 3, 3, 1, 1, 1), // many taps (1,170): the packed GEMM with OW ≥ 16
      geom(4, 8, 28, 28, 16, 3, 3, 1, 1, 1), // large enough to split over threads
    ];
    for (const be of backends)
      cases.forEach((g, ci) => {
        const x = randomArray(g.B * g.C * g.H * g.W, 10 + ci),
          w = randomArray(g.Co * g.C * g.kh * g.kw, 20 + ci),
          b = ci % 3 === 2 ? null : randomArray(g.Co, 30 + ci);
        const n = g.B * g.Co * g.OH * g.OW;
        const want = new Float32Array(n);
        be.conv2dForward(x, w, b, g, want);
        be.relu(want, want);
        assert.ok(want.some((v) => v > 0) && want.some((v) => v === 0), 'the case has both signs');
        const got = new Float32Array(n).fill(NaN);
        be.conv2dForward(x, w, b, g, got, { relu: true });
        sameBits(got, want, `${be.name} case ${ci}`);
        const plain = new Float32Array(n).fill(NaN);
        be.conv2dForward(x, w, b, g, plain, {});
        assert.ok(
          plain.some((v) => v < 0),
          `${be.name} case ${ci}: no epilogue, no relu`,
        );
        // relu, then 2×2 max pooling (stride 2; odd sizes drop the last row and column, as MaxPool2d(2) does)
        const pg: PoolGeom = {
          P: g.B * g.Co,
          H: g.OH,
          W: g.OW,
          kh: 2,
          kw: 2,
          sh: 2,
          sw: 2,
          ph: 0,
          pw: 0,
          OH: 0,
          OW: 0,
        };
        pg.OH = g.OH >> 1;
        pg.OW = g.OW >> 1;
        const pooledWant = new Float32Array(pg.P * pg.OH * pg.OW);
        be.pool2dForward(want, pg, 'max', pooledWant);
        const pooled = new Float32Array(pooledWant.length).fill(NaN);
        be.conv2dForward(x, w, b, g, pooled, { relu: true, pool: true });
        sameBits(pooled, pooledWant, `${be.name} case ${ci} pooled`);
      });
    if (wasm)
      assert.throws(
        () =>
          wasm.conv2dForward(
            randomArray(36, 1),
            randomArray(9, 2),
            null,
            geom(1, 1, 6, 6, 1, 3, 3, 1, 0, 1),
            new Float32Array(4),
            { pool: true },
          ),
        /needs relu/,
      );
  });

test('tileAdd with relu equals tileAdd then relu, bit for bit', () => {
  for (const be of backends)
    for (const [rows, n] of [
      [64, 128],
      [3, 13],
      [1, 2],
    ]) {
      const a = randomArray(rows * n, 5 + n),
        b = randomArray(n, 6 + n);
      const want = new Float32Array(rows * n),
        got = new Float32Array(rows * n).fill(NaN);
      be.tileAdd(a, b, want);
      be.relu(want, want);
      be.tileAdd(a, b, got, true);
      sameBits(got, want, `${be.name} ${rows}×${n}`);
    }
});

/** Ops a forward ran, by the profiler's names. */
function opsOf(fn: () => void): Set<string> {
  profiler.reset();
  profiler.enabled = true;
  try {
    fn();
  } finally {
    profiler.enabled = false;
  }
  const ops = new Set(profiler.forward.keys());
  profiler.reset();
  return ops;
}

for (const be of backends)
  test(`eval + noGrad networks fuse conv/linear + relu with the same bits as layer by layer (${be.name})`, () => {
    setBackend(be);
    try {
      // The CNN without its Normalize (folding that one rounds differently: tested below), on normalized input.
      const cnn = { ...referenceCnn, layers: referenceCnn.layers.slice(1) };
      for (const spec of [cnn, referenceMlp]) {
        const model = buildModel(spec, 3).eval();
        const x = Tensor.randn([5, ...spec.input], new Rng(4));
        setInferenceFusion(false);
        const want = noGrad(() => model.forward(x)).data.slice();
        setInferenceFusion(true);
        let got: FArray = new Float32Array(0);
        const ops = opsOf(() => void (got = noGrad(() => model.forward(x)).data.slice()));
        assert.ok(ops.has('linearRelu') && !ops.has('relu'), `every relu fused, ran ${[...ops]}`);
        if (spec === cnn)
          assert.ok(ops.has('conv2dFused') && !ops.has('conv2d') && !ops.has('maxPool2d'), `ran ${[...ops]}`);
        sameBits(got, want, `${spec === cnn ? 'cnn' : 'mlp'} logits`);
      }
    } finally {
      setBackend(null);
      setInferenceFusion(true);
    }
  });

test('training mode, recorded gradients and hooked layers run unfused', () => {
  const model = new Sequential(new Conv2d(1, 4, 3), ReLU(), new Linear(26, 5), ReLU());
  const x = Tensor.randn([2, 1, 28, 28], new Rng(1));
  let ops = opsOf(() => void noGrad(() => model.forward(x))); // training mode
  assert.ok(ops.has('relu') && !ops.has('conv2dFused'), `training: ${[...ops]}`);
  model.eval();
  ops = opsOf(() => void model.forward(x)); // gradients on: the parameters need them
  assert.ok(ops.has('relu') && !ops.has('linearRelu'), `grad on: ${[...ops]}`);
  let seen = 0;
  const h = model.layers[2].registerForwardHook(() => void seen++);
  ops = opsOf(() => void noGrad(() => model.forward(x)));
  assert.equal(seen, 1, 'the hook ran');
  assert.ok(ops.has('conv2dFused') && !ops.has('linearRelu'), `hooked linear unfused: ${[...ops]}`);
  h.remove();
  // Only MaxPool2d(2) with stride 2 and no padding is pooled in the kernel; others run as themselves, same bits.
  const conv = new Conv2d(1, 4, 3, { rng: new Rng(2) });
  for (const [pool, fused] of [
    [new MaxPool2d(2), true],
    [new MaxPool2d(2, 1), false],
    [new MaxPool2d(3), false],
  ] as const) {
    const net = new Sequential(conv, ReLU(), pool).eval();
    setInferenceFusion(false);
    const want = noGrad(() => net.forward(x)).data.slice();
    setInferenceFusion(true);
    let got: FArray = new Float32Array(0);
    ops = opsOf(() => void (got = noGrad(() => net.forward(x)).data.slice()));
    assert.equal(ops.has('maxPool2d'), !fused, `pool ${pool.kernelSize}/${pool.stride}: ${[...ops]}`);
    sameBits(got, want, `pool ${pool.kernelSize}/${pool.stride}`);
  }
  const y = model.forward(x);
  assert.ok(y.requiresGrad, 'eval with gradients on still records the tape');
  const w = (model.layers[2] as Linear).weight;
  assert.throws(() => linearRelu(x, w, null), /inference kernel without a gradient/);
});

test('a Normalize folded into the unpadded Conv2d after it equals the two layers within 1e-6 + 1e-5·|y|', () => {
  const stats: [number[], number[]][] = [
    [[0.286], [0.353]],
    [
      [0.5, 0.4, 0.3],
      [0.2, 0.25, 0.3],
    ],
  ];
  for (const be of backends) {
    setBackend(be);
    try {
      for (const [mean, std] of stats)
        for (const padding of [0, 1]) {
          const C = mean.length,
            rng = new Rng(3 + C + padding);
          const net = new Sequential(
            new Normalize(mean, std),
            new Conv2d(C, 8, 3, { padding, rng }),
            ReLU(),
            new MaxPool2d(2),
            new Flatten(),
            new Linear(8 * (padding ? 7 : 6) ** 2, 5, { rng }),
          ).eval();
          const x = Tensor.rand([3, C, 14, 14], new Rng(9));
          setInferenceFusion(false);
          const want = noGrad(() => net.forward(x)).data.slice();
          setInferenceFusion(true);
          let got: FArray = new Float32Array(0);
          const ops = opsOf(() => void (got = noGrad(() => net.forward(x)).data.slice()));
          // folded: Normalize's mul and add never run; padded: they do (the zero pad is not foldable)
          assert.equal(ops.has('mul'), padding > 0, `${be.name} C ${C} padding ${padding}: ${[...ops]}`);
          assertClose(got, want, 1e-6, 1e-5, `${be.name} C ${C} padding ${padding}`);
          if (padding) sameBits(got, want, `${be.name} C ${C} unfolded`);
        }
      // The reference CNN whole, on images in [0, 1]: its Normalize folds into conv1.
      const model = buildModel(referenceCnn, 3).eval();
      const x = Tensor.rand([8, 1, 28, 28], new Rng(5));
      setInferenceFusion(false);
      const want = noGrad(() => model.forward(x)).data.slice();
      setInferenceFusion(true);
      let got: FArray = new Float32Array(0);
      const ops = opsOf(() => void (got = noGrad(() => model.forward(x)).data.slice()));
      assert.ok(!ops.has('mul') && !ops.has('relu') && !ops.has('maxPool2d'), `cnn ran ${[...ops]}`);
      assertClose(got, want, 1e-6, 1e-5, `${be.name} reference CNN`);
    } finally {
      setBackend(null);
      setInferenceFusion(true);
    }
  }
});
