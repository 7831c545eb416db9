// npm run bench:binary [-- --quick]
// XNOR-popcount kernels against Frugal's float kernels on the same logical shapes, same process,
// same thread count, interleaved rounds: a 1024³ product and 3×3 convolutions 128→128 at 28×28.
// The binary side includes packing its input (signs to bits, patches) but not the weights,
// which a packed model stores packed.
import {
  Conv2d,
  Rng,
  Tensor,
  backendName,
  buildModel,
  persistentArray,
  threadUse,
  matmul,
  noGrad,
  packBinary,
  binaryKernels,
  type ConvGeom,
  type Sequential,
} from '../src/index.js';
import { binaryJetSpec } from '../src/reproduce/binary.js';
import { race } from './race.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 7;
const log = (s: string) => process.stderr.write(`${s}\n`);
const be = binaryKernels.for('float32');

const timed = (fns: (() => void)[], budget = quick ? 40 : 120): number[] => race(fns, rounds, budget);

const words = (K: number) => 2 * Math.ceil(K / 64);
/** Integer arrays in the kernels' memory (as a packed model's are), so no call copies them. */
const ints = (n: number) => {
  const p = persistentArray(n);
  return new Int32Array(p.buffer, p.byteOffset, n);
};
const resident = (t: Tensor) => {
  const p = persistentArray(t.size);
  p.set(t.data);
  return new Tensor(p, t.shape);
};
const rows: Record<string, unknown>[] = [];
const gemmSizes = quick ? [256, 1024] : [256, 1024, 2048];
for (const n of gemmSizes) {
  // Both operands in kernel memory (as a network's pooled activations and weights are), so
  // neither side pays for copying them in.
  const a = resident(Tensor.randn([n, n], new Rng(1))),
    b = resident(Tensor.randn([n, n], new Rng(2)));
  const A = ints(n * words(n)),
    B = ints(n * words(n)),
    C = ints(n * n);
  be.packSigns(b.data, n, n, B);
  const [f, x] = noGrad(() =>
    timed([
      () => matmul(a, b, { transB: true }),
      () => {
        be.packSigns(a.data, n, n, A);
        be.bgemm(A, B, n, n, n, C);
      },
    ]),
  );
  const row = {
    kernel: 'gemm',
    shape: `${n}³`,
    floatMs: f,
    binaryMs: x,
    speedup: f / x,
    binaryGops: (2 * n * n * n) / x / 1e6,
    floatGflops: (2 * n * n * n) / f / 1e6,
  };
  rows.push(row);
  log(
    `gemm ${n}³: float ${f.toFixed(3)} ms (${row.floatGflops.toFixed(1)} GFLOP/s)  binary ${x.toFixed(3)} ms ` +
      `(${row.binaryGops.toFixed(0)} G binary ops/s)  ×${row.speedup.toFixed(2)}`,
  );
}
for (const batch of quick ? [1] : [1, 16]) {
  const [Cin, Cout, H] = [128, 128, 28];
  const conv = new Conv2d(Cin, Cout, 3, { padding: 1, bias: false, rng: new Rng(3) }).eval();
  const x = resident(Tensor.randn([batch, Cin, H, H], new Rng(4)));
  const g: ConvGeom = {
    B: batch,
    C: Cin,
    H,
    W: H,
    Co: Cout,
    kh: 3,
    kw: 3,
    sh: 1,
    sw: 1,
    ph: 1,
    pw: 1,
    dh: 1,
    dw: 1,
    OH: H,
    OW: H,
  };
  const per = 9 * words(Cin),
    P = ints(batch * H * H * per),
    Wp = ints(Cout * per),
    out = ints(batch * H * H * Cout);
  be.packSigns(Tensor.randn([Cout * 9, Cin], new Rng(5)).data, Cout * 9, Cin, Wp);
  const [f, b] = noGrad(() =>
    timed([
      () => conv.forward(x),
      () => {
        be.packPatches(x.data, g, 1, P);
        be.bgemm(P, Wp, batch * H * H, Cout, 9 * Cin, out, per / 2);
      },
    ]),
  );
  const macs = batch * H * H * Cout * Cin * 9;
  const row = {
    kernel: 'conv3x3',
    shape: `${Cin}→${Cout} @${H}×${H} batch ${batch}`,
    floatMs: f,
    binaryMs: b,
    speedup: f / b,
    binaryGops: (2 * macs) / b / 1e6,
    floatGflops: (2 * macs) / f / 1e6,
  };
  rows.push(row);
  log(
    `conv 3×3 ${Cin}→${Cout} @${H} batch ${batch}: float ${f.toFixed(3)} ms  binary ${b.toFixed(3)} ms  ` +
      `×${row.speedup.toFixed(2)}`,
  );
}
// Whole networks (spec 06's shape, widths 32-64): the packed binary network against the float
// network of the same shape, inference at batch 1 and 64 (weights random: timing only).
const nets: Record<string, unknown>[] = [];
for (const kind of ['binary', 'jet', 'jet-constrained'] as const) {
  for (const batch of quick ? [1] : [1, 64]) {
    const x = Tensor.randn([batch, 1, 28, 28], new Rng(6));
    const float = buildModel(binaryJetSpec('float'), 1) as Sequential,
      sim = buildModel(binaryJetSpec(kind), 1) as Sequential;
    float.eval();
    sim.eval();
    const packed = packBinary(sim).model;
    const [f, s, p] = noGrad(() => timed([() => float.forward(x), () => sim.forward(x), () => packed.forward(x)]));
    nets.push({
      network: `conv 1→32 float, 32→64 and 64→64 ${kind} blocks, linear`,
      kind,
      batch,
      floatMs: f,
      simulatedMs: s,
      packedMs: p,
      speedup: f / p,
    });
    log(
      `network (${kind} blocks) batch ${batch}: float ${f.toFixed(3)} ms  simulated ${s.toFixed(3)} ms  packed ` +
        `${p.toFixed(3)} ms  ×${(f / p).toFixed(2)} vs float`,
    );
  }
}
process.stdout.write(
  `${JSON.stringify({
    bench: 'binary',
    networks: nets,
    backend: backendName(),
    ...threadUse(),
    rounds,
    rows,
    // The issue's shapes (1024³ and larger, the 128→128 convolutions); 256³ is printed but not
    // gated: at 0.3 ms the call, packing and thread wake-up weigh as much as the product.
    gate: {
      name: 'binary GEMM (1024³, 2048³) and conv 128→128 at least 6× the float kernels at the same thread count',
      pass: rows.filter((r) => r.kernel !== 'gemm' || r.shape !== '256³').every((r) => (r.speedup as number) >= 6),
    },
  })}\n`,
);
