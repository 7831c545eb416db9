// FRUGAL_THREADS=1 node dist/bench/fft-rate.js [--quick]
// The circulant layers' transforms against the dense GEMM, as rates: batched real FFTs (row and
// packed bin-major output, forward and inverse) in GFLOP/s counting 2.5·N·log2 N operations per
// transform, beside a dense GEMM (64 × 1024 · 1024 × 1024, 2 operations per multiply-add) in the
// same run, operands in kernel memory, interleaved rounds. The circulant gate (README) needs the
// transforms at about 62% of the GEMM's rate where they dominate; this shows where they stand.
import { Rng, Tensor, persistentArray, wasmBackend, backendName, threadUse, fftKernels } from '../src/index.js';
import { race } from './race.js';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);
const be = wasmBackend(),
  fw = fftKernels.wasm();
if (!be || !fw) {
  log('the WebAssembly backend is unavailable; nothing to measure');
  process.exit(1);
}
const resident = (n: number, seed: number) => {
  const p = persistentArray(n);
  p.set(Tensor.randn([n], new Rng(seed)).data);
  return p;
};
const rounds = quick ? 3 : 7,
  budget = quick ? 20 : 60;

const [M, K, N] = [64, 1024, 1024];
const A = resident(M * K, 1),
  B = resident(K * N, 2),
  C = persistentArray(M * N);
const [gemmMs] = race([() => be.gemm(false, false, M, N, K, A, B, C, false)], rounds, budget);
const gemmRate = (2 * M * N * K) / gemmMs / 1e6;
log(`dense GEMM ${M}×${K}·${K}×${N}: ${gemmMs.toFixed(3)} ms, ${gemmRate.toFixed(1)} GFLOP/s`);

// 131,072 values per call at every N (a 64 × 2048 batch), packed in runs of RP = 32 vectors.
const rows = (quick ? [32, 512] : [32, 128, 512, 2048]).map((n) => {
  const vectors = 131072 / n,
    F = (n >> 1) + 1,
    RP = 32;
  const x = resident(vectors * n, 3),
    re = persistentArray(vectors * F),
    im = persistentArray(vectors * F),
    packed = persistentArray(vectors * n),
    y = persistentArray(vectors * n);
  fw.rfftPacked(x, vectors, n, RP, packed);
  fw.rfft(x, vectors, n, re, im);
  const [fwd, inv, pfwd, pinv] = race(
    [
      () => fw.rfft(x, vectors, n, re, im),
      () => fw.irfft(re, im, vectors, n, y),
      () => fw.rfftPacked(x, vectors, n, RP, packed),
      () => fw.irfftPacked(packed, vectors, n, RP, y),
    ],
    rounds,
    budget,
  );
  const flops = vectors * 2.5 * n * Math.log2(n),
    rate = (ms: number) => flops / ms / 1e6;
  const row = {
    N: n,
    vectors,
    rowsForwardGflops: rate(fwd),
    rowsInverseGflops: rate(inv),
    packedForwardGflops: rate(pfwd),
    packedInverseGflops: rate(pinv),
    packedForwardOfGemm: rate(pfwd) / gemmRate,
  };
  log(
    `N = ${String(n).padEnd(5)} ${vectors} vectors: rows ${rate(fwd).toFixed(1)} / ${rate(inv).toFixed(1)} ` +
      `GFLOP/s (forward / inverse), packed ${rate(pfwd).toFixed(1)} / ${rate(pinv).toFixed(1)}; packed forward ` +
      `at ${(100 * row.packedForwardOfGemm).toFixed(0)}% of the GEMM's rate`,
  );
  return row;
});
process.stdout.write(
  `${JSON.stringify({
    bench: 'fft-rate',
    backend: backendName(),
    ...threadUse(),
    gemm: { M, K, N, ms: gemmMs, gflops: gemmRate },
    rows,
  })}\n`,
);
process.exit(0);
