// npm run bench:onnx [-- --quick] [-- --threads N] [-- --batches 1,16,64] [-- --only NAME]
// Inference of the same weights in Frugal, onnxruntime-node (native CPU) and onnxruntime-web (its WebAssembly
// SIMD backend, run under Node), for the reference CNN (dense, 90% pruned and compacted), spec 06's binarized CNN
// (packed), the pruning reproduction's VGG-like network and the reference MLP; the ONNX files come from Frugal's
// own export. Each row: medians of interleaved rounds (every contender in turn, each round), the ratios, and the
// GFLOP/s each achieves (2 FLOPs per dense-equivalent MAC, MACs from profileModel). --quick only checks that
// everything runs (tiny budget): its numbers mean nothing.
import * as ort from 'onnxruntime-node';
import * as ortw from 'onnxruntime-web';
import {
  backendName,
  buildModel,
  getThreads,
  noGrad,
  persistentArray,
  profileModel,
  referenceCnn,
  referenceMlp,
  Rng,
  setThreads,
  Tensor,
  toOnnx,
  vggSpec,
  withScope,
  compact,
  Conv2d,
  l1Unstructured,
  Linear,
  packBinary,
  removePruning,
  specOf,
  type Sequential,
} from '../src/index.js';
import { binaryJetSpec } from '../src/reproduce/binary.js';
import { median } from './race.js';
import { wasmPeak } from './peak.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const threads = Number(flag('threads') ?? 2);
const batches = (flag('batches') ?? (quick ? '1,2' : '1,16,64')).split(',').map(Number);
const rounds = quick ? 2 : 9;
/** --only TEXT: the networks whose name contains it. */
const only = flag('only');
/** ms of calls per contender per round (after a calibration of the count). */
const budget = quick ? 5 : 150;
const log = (s: string) => process.stderr.write(`${s}\n`);

await setThreads(threads);
ortw.env.wasm.numThreads = threads;
ortw.env.wasm.simd = true;

type Run = () => Promise<void> | void;

/** ms per call of each contender: calibrated repetitions, then `rounds` interleaved rounds; medians. */
async function raceAsync(fns: Run[]): Promise<number[]> {
  const reps: number[] = [];
  for (const f of fns) {
    await f(); // warm-up (sessions allocate on first run)
    const t0 = performance.now();
    let n = 0;
    do {
      await f();
      n++;
    } while (performance.now() - t0 < budget);
    reps.push(Math.max(1, n));
  }
  const out: number[][] = fns.map(() => []);
  for (let r = 0; r < rounds; r++)
    for (let i = 0; i < fns.length; i++) {
      const t0 = performance.now();
      for (let k = 0; k < reps[i]; k++) await fns[i]();
      out[i].push((performance.now() - t0) / reps[i]);
    }
  return out.map(median);
}

/** The reference CNN with 90% of each weight layer's entries pruned by magnitude, then compacted (CSR layers). */
function prunedCnn(): Sequential {
  const m = buildModel(referenceCnn, 1);
  for (const l of m.layers) if (l instanceof Conv2d || l instanceof Linear) l1Unstructured(l, { amount: 0.9 });
  removePruning(m);
  return compact(m, referenceCnn.input, { sparse: 'auto' }).model;
}
/** Spec 06's binarized CNN (float first conv, two binary blocks), packed: XNOR-popcount with folded thresholds. */
const packedBinary = (): Sequential => packBinary(buildModel(binaryJetSpec('binary'), 1)).model;

const nets: { name: string; input: number[]; build: () => Sequential }[] = [
  { name: 'reference CNN', input: referenceCnn.input, build: () => buildModel(referenceCnn, 1) },
  { name: 'reference CNN, 90% pruned + compacted', input: referenceCnn.input, build: prunedCnn },
  { name: 'binarized CNN (spec 06), packed', input: [1, 28, 28], build: packedBinary },
  {
    name: 'VGG-like (pruning reproduction, 32-32-64-64-128-128)',
    input: [1, 28, 28],
    build: () => buildModel(vggSpec(), 1),
  },
  { name: 'reference MLP', input: referenceMlp.input, build: () => buildModel(referenceMlp, 1) },
].filter((n) => !only || n.name.includes(only));
const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
const rows: Record<string, unknown>[] = [];
log(`frugal ${backendName()} ${getThreads()} thread(s); onnxruntime-node and -web with ${threads} thread(s)`);
// The WebAssembly peak on as many threads as Frugal uses, measured before and after the networks; the larger.
const peakBefore = await wasmPeak(getThreads(), quick ? 1 : 5);
log(`WebAssembly SIMD peak: ${peakBefore.gflops.toFixed(1)} GFLOP/s on ${peakBefore.threads} thread(s)`);
for (const { name, input, build } of nets) {
  const model = build().eval();
  const spec = specOf(model, input);
  const bytes = toOnnx({ model, spec });
  const nodeS = await ort.InferenceSession.create(bytes, opts);
  const webS = await ortw.InferenceSession.create(bytes, { executionProviders: ['wasm'] });
  const macs = profileModel(model, spec.input).macs;
  for (const batch of batches) {
    const shape = [batch, ...spec.input];
    const x = Tensor.randn(shape, new Rng(batch));
    const resident = new Tensor(persistentArray(x.size), shape); // in kernel memory, as a network's input is
    resident.data.set(x.data);
    const feedN = { input: new ort.Tensor('float32', Float32Array.from(x.data), shape) };
    const feedW = { input: new ortw.Tensor('float32', Float32Array.from(x.data), shape) };
    const [frugal, onnxNode, onnxWeb] = await raceAsync([
      () => void noGrad(() => withScope(() => model.forward(resident))),
      async () => void (await nodeS.run(feedN)),
      async () => void (await webS.run(feedW)),
    ]);
    const gflops = (ms: number) => (2 * macs * batch) / (ms * 1e6);
    const row = {
      network: name,
      batch,
      /** Dense-equivalent MACs per sample (a pruned layer's zeros and a binary layer's bit products count). */
      macsPerSample: macs,
      frugalMs: frugal,
      onnxNodeMs: onnxNode,
      onnxWebMs: onnxWeb,
      vsOnnxWeb: onnxWeb / frugal,
      vsOnnxNode: onnxNode / frugal,
      frugalGflops: gflops(frugal),
      onnxNodeGflops: gflops(onnxNode),
      onnxWebGflops: gflops(onnxWeb),
      /** Frugal's GFLOP/s over the WebAssembly peak measured before the networks (see `peak` in the output). */
      frugalShareOfPeak: gflops(frugal) / peakBefore.gflops,
    };
    rows.push(row);
    log(
      `${name} batch ${batch}: Frugal ${frugal.toFixed(3)} ms (${row.frugalGflops.toFixed(1)} GFLOP/s), ` +
        `onnxruntime-web ${onnxWeb.toFixed(3)} ms (${row.onnxWebGflops.toFixed(1)}), onnxruntime-node ` +
        `${onnxNode.toFixed(3)} ms (${row.onnxNodeGflops.toFixed(1)}); Frugal ×${row.vsOnnxWeb.toFixed(2)} vs web, ` +
        `×${row.vsOnnxNode.toFixed(2)} vs node; ${(100 * row.frugalShareOfPeak).toFixed(0)}% of peak`,
    );
  }
  await nodeS.release();
  await webS.release();
}
const peakAfter = await wasmPeak(getThreads(), quick ? 1 : 5);
log(`WebAssembly SIMD peak after: ${peakAfter.gflops.toFixed(1)} GFLOP/s`);
process.stdout.write(
  `${JSON.stringify({
    bench: 'onnx',
    peak: { before: peakBefore, after: peakAfter },
    quick,
    threads,
    backend: backendName(),
    rounds,
    rows,
    gate: {
      name: 'Frugal at least as fast as onnxruntime-web (WebAssembly) on every row',
      pass: rows.every((r) => (r.vsOnnxWeb as number) >= 1),
    },
  })}\n`,
);
// onnxruntime-web's worker threads keep the event loop alive.
process.exit(0);
