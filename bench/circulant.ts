// npm run bench:circulant [-- --quick]
// Block-circulant layers against the dense layers of the same size, same process, interleaved
// rounds, inference (no gradients). Prints the analytic multiplication ratio (FFTs included),
// the measured speed-up, and the crossover block size below which the dense form is faster.
import {
  CircConv2d,
  CircLinear,
  Conv2d,
  Linear,
  Rng,
  Tensor,
  backendName,
  circMults,
  threadUse,
  noGrad,
  FFT_MIN_BLOCK,
  MAX_EXPANDED_BLOCK,
} from '../src/index.js';
import { race } from './race.js';

const quick = process.argv.includes('--quick');
const rounds = quick ? 3 : 7;
const log = (s: string) => process.stderr.write(`${s}\n`);

const timed = (fns: (() => void)[], budget = quick ? 30 : 80): number[] => race(fns, rounds, budget);

interface Row {
  layer: string;
  size: string;
  block: number;
  batch: number;
  denseMs: number;
  fftMs: number;
  expandedMs: number;
  speedup: number;
  analyticRatio: number;
  pass?: boolean;
}
const rows: Row[] = [];
const sizes = quick ? [256, 1024] : [256, 1024, 4096];
for (const n of sizes) {
  for (const batch of [1, 64]) {
    const dense = new Linear(n, n, { rng: new Rng(1) }).eval();
    const x = Tensor.randn([batch, n], new Rng(2));
    for (let N = 8; N <= n; N *= quick ? 8 : 4) {
      const c = new CircLinear(n, n, N, { rng: new Rng(3) }).eval();
      const e = new CircLinear(n, n, N, { rng: new Rng(3) }).eval();
      c.path = 'fft';
      e.path = 'dense';
      // The expanded form is built up to MAX_EXPANDED_BLOCK (its basis is N³ floats).
      const [d, f, x2] = noGrad(() =>
        timed([() => dense.forward(x), () => c.forward(x), ...(N <= MAX_EXPANDED_BLOCK ? [() => e.forward(x)] : [])]),
      );
      const ratio = (n * n) / circMults(N, n / N, n / N, 1);
      const row: Row = {
        layer: 'CircLinear',
        size: `${n}×${n}`,
        block: N,
        batch,
        denseMs: d,
        fftMs: f,
        expandedMs: x2 ?? NaN,
        speedup: d / f,
        analyticRatio: ratio,
      };
      if (ratio > 4) row.pass = row.speedup >= ratio / 2;
      rows.push(row);
      log(
        `CircLinear ${n}×${n} N=${String(N).padEnd(5)} batch ${String(batch).padEnd(3)} dense ${d.toFixed(4)} ms ` +
          ` fft ${f.toFixed(4)} ms  expanded ${x2 === undefined ? '—' : `${x2.toFixed(4)} ms`}  ` +
          `×${(d / f).toFixed(2)} (analytic ` +
          `×${ratio.toFixed(1)})${row.pass === undefined ? '' : row.pass ? '' : '  BELOW HALF'}`,
      );
    }
  }
}
// The circulant reproduction network's convolutions (spec 02), batch 1 and 16.
const convs: [number, number, number][] = quick
  ? [[64, 128, 14]]
  : [
      [32, 64, 28],
      [64, 128, 14],
      [128, 128, 14],
    ];
for (const [cin, cout, hw] of convs) {
  for (const batch of quick ? [1] : [1, 16]) {
    const dense = new Conv2d(cin, cout, 3, { padding: 1, rng: new Rng(4) }).eval();
    const x = Tensor.randn([batch, cin, hw, hw], new Rng(5));
    for (const N of [2, 4, 8, 16]) {
      const c = new CircConv2d(cin, cout, 3, N, { padding: 1, rng: new Rng(6) }).eval();
      c.path = 'fft';
      const [d, f] = noGrad(() => timed([() => dense.forward(x), () => c.forward(x)]));
      const ratio = (cout * cin * 9) / circMults(N, cin / N, cout / N, 9);
      const row: Row = {
        layer: 'CircConv2d',
        size: `${cin}→${cout} @${hw}×${hw}`,
        block: N,
        batch,
        denseMs: d,
        fftMs: f,
        expandedMs: d,
        speedup: d / f,
        analyticRatio: ratio,
      };
      if (ratio > 4) row.pass = row.speedup >= ratio / 2;
      rows.push(row);
      log(
        `CircConv2d ${cin}→${cout} @${hw} N=${N} batch ${batch}: dense ${d.toFixed(3)} ms  fft ${f.toFixed(3)} ` +
          `ms  ×${(d / f).toFixed(2)} (analytic ×${ratio.toFixed(2)})`,
      );
    }
  }
}
// Crossover: per layer, size and batch, the smallest block size from which the FFT form beats the dense form.
const groups = new Map<string, Row[]>();
for (const r of rows) {
  const k = `${r.layer} ${r.size} batch ${r.batch}`;
  groups.set(k, [...(groups.get(k) ?? []), r]);
}
const crossover = [...groups].map(([k, rs]) => {
  const faster = rs.filter((r) => r.speedup > 1).map((r) => r.block);
  const from =
    faster.length && rs.filter((r) => r.block >= Math.min(...faster)).every((r) => r.speedup > 1)
      ? Math.min(...faster)
      : null;
  log(`crossover ${k}: FFT form faster from block size ${from ?? '— (never)'}`);
  return { case: k, fftFasterFromBlock: from };
});
const gated = rows.filter((r) => r.pass !== undefined);
process.stdout.write(
  `${JSON.stringify({
    bench: 'circulant',
    backend: backendName(),
    ...threadUse(),
    rounds,
    fftMinBlock: FFT_MIN_BLOCK,
    rows,
    crossover,
    gate: {
      name: 'where the analytic ratio exceeds 4, measured speed-up ≥ half of it',
      cases: gated.length,
      failed: gated.filter((r) => !r.pass).map((r) => `${r.layer} ${r.size} N=${r.block} b${r.batch}`),
      pass: gated.every((r) => r.pass),
    },
  })}\n`,
);
