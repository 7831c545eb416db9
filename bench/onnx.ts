// npm run bench:onnx [-- --quick] [-- --threads N] [-- --batches 1,16,64]
// Inference of the same weights in Frugal, onnxruntime-node (native CPU) and onnxruntime-web (its WebAssembly
// SIMD backend, run under Node), for the reference CNN, the pruning reproduction's VGG-like network and the
// reference MLP; the ONNX files come from Frugal's own export. Each row: medians of interleaved rounds (every
// contender in turn, each round), the ratios, and the GFLOP/s each achieves (2 FLOPs per MAC, MACs from
// profileModel). --quick only checks that everything runs (tiny budget): its numbers mean nothing.
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
  type ModelSpec,
} from '../src/index.js';
import { median } from './race.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const threads = Number(flag('threads') ?? 2);
const batches = (flag('batches') ?? (quick ? '1,2' : '1,16,64')).split(',').map(Number);
const rounds = quick ? 2 : 9;
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

const nets: { name: string; spec: ModelSpec }[] = [
  { name: 'reference CNN', spec: referenceCnn },
  { name: 'VGG-like (pruning reproduction, 32-32-64-64-128-128)', spec: vggSpec() },
  { name: 'reference MLP', spec: referenceMlp },
];
const opts = { intraOpNumThreads: threads, interOpNumThreads: 1, graphOptimizationLevel: 'all' as const };
const rows: Record<string, unknown>[] = [];
log(`frugal ${backendName()} ${getThreads()} thread(s); onnxruntime-node and -web with ${threads} thread(s)`);
for (const { name, spec } of nets) {
  const model = buildModel(spec, 1).eval();
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
      frugalMs: frugal,
      onnxNodeMs: onnxNode,
      onnxWebMs: onnxWeb,
      vsOnnxWeb: onnxWeb / frugal,
      vsOnnxNode: onnxNode / frugal,
      frugalGflops: gflops(frugal),
      onnxNodeGflops: gflops(onnxNode),
      onnxWebGflops: gflops(onnxWeb),
    };
    rows.push(row);
    log(
      `${name} batch ${batch}: Frugal ${frugal.toFixed(3)} ms (${row.frugalGflops.toFixed(1)} GFLOP/s), ` +
        `onnxruntime-web ${onnxWeb.toFixed(3)} ms (${row.onnxWebGflops.toFixed(1)}), onnxruntime-node ` +
        `${onnxNode.toFixed(3)} ms (${row.onnxNodeGflops.toFixed(1)}); Frugal ×${row.vsOnnxWeb.toFixed(2)} vs web, ` +
        `×${row.vsOnnxNode.toFixed(2)} vs node`,
    );
  }
  await nodeS.release();
  await webS.release();
}
process.stdout.write(
  `${JSON.stringify({
    bench: 'onnx',
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
