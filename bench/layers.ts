// npm run bench:layers [-- --net cnn|vgg|mlp] [-- --batch 64] [-- --threads 2] [-- --quick]
// Issue 27 point 2: where a network's inference time goes, layer by layer, against the layer's ceiling. Each
// Frugal layer is timed on its real input (calibrated repetitions, medians of interleaved rounds) and its GFLOP/s
// set beside the WebAssembly SIMD peak measured in the same run; each onnxruntime-node node's time comes from
// ONNX Runtime's own profiler on the same exported weights (its fused nodes, e.g. Conv+Relu, are its choice).
// Frugal's fused inference groups (conv2d + relu (+ maxpool2d), linear + relu; src/nn/fuse.ts) are timed as groups
// beside their layers, and the whole network with fusion off (FRUGAL_FUSE=0's path) in the same interleaved race.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
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
  setInferenceFusion,
  setThreads,
  specOf,
  Tensor,
  toOnnx,
  vggSpec,
} from '../src/index.js';
import { fusedForward } from '../src/nn/fuse.js';
import { median, race } from './race.js';
import { wasmPeak } from './peak.js';

const argv = process.argv.slice(2);
const flag = (name: string) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = argv.includes('--quick');
const net = flag('net') ?? 'cnn';
const batch = Number(flag('batch') ?? 64);
const threads = Number(flag('threads') ?? 2);
const rounds = quick ? 2 : 7;
const budget = quick ? 5 : 100;
const specs = { cnn: referenceCnn, vgg: vggSpec(), mlp: referenceMlp } as const;
if (!(net in specs)) throw new Error(`--net must be one of ${Object.keys(specs).join(', ')}, got '${net}'`);
if (!Number.isInteger(batch) || batch < 1) throw new Error(`--batch must be a positive integer, got ${batch}`);
const log = (s: string) => process.stderr.write(`${s}\n`);

await setThreads(threads);
const spec = specs[net as keyof typeof specs];
const model = buildModel(spec, 1).eval();
const prof = profileModel(model, spec.input);
const shape = [batch, ...spec.input];
const x0 = Tensor.randn(shape, new Rng(1));
const resident = new Tensor(persistentArray(x0.size), shape);
resident.data.set(x0.data);
// Each layer's real input: the previous layer's output, computed once and kept.
const inputs: Tensor[] = [resident];
noGrad(() => model.layers.forEach((l, i) => inputs.push(l.forward(inputs[i]))));

const peak = await wasmPeak(getThreads(), quick ? 1 : 5);
// race() runs each call in its own arena scope, so outputs are released as the network's would be.
const layerFns = model.layers.map((l, i) => () => void noGrad(() => l.forward(inputs[i])));
const whole = () => void noGrad(() => model.forward(resident));
const wholeUnfused = () => {
  const prev = setInferenceFusion(false);
  try {
    whole();
  } finally {
    setInferenceFusion(prev);
  }
};
// The spans fusedForward runs as one kernel: (normalize,) conv2d, relu (, maxpool2d 2/2/0) and linear, relu.
const types = model.layers.map((l) => l.toSpec());
const groups: { from: number; to: number }[] = [];
for (let i = 0; i + 1 < types.length; i++) {
  const t = types[i].type;
  if ((t !== 'conv2d' && t !== 'linear') || types[i + 1].type !== 'relu') continue;
  const p = types[i + 2];
  const pool = t === 'conv2d' && p?.type === 'maxpool2d' && p.kernel === 2 && p.stride === 2 && !p.padding;
  // A Normalize before an unpadded conv2d is folded into its weights.
  const fold = t === 'conv2d' && !types[i].padding && types[i - 1]?.type === 'normalize';
  groups.push({ from: fold ? i - 1 : i, to: i + (pool ? 3 : 2) });
}
const groupFns = groups.map(
  ({ from, to }) =>
    () =>
      void noGrad(() => fusedForward(model.layers.slice(from, to), inputs[from])),
);
const [wholeMs, wholeUnfusedMs, ...rest] = race([whole, wholeUnfused, ...layerFns, ...groupFns], rounds, budget);
const layerMs = rest.slice(0, layerFns.length),
  groupMs = rest.slice(layerFns.length);

// ONNX Runtime's profiler: per-node kernel times over `rounds × 20` runs, averaged.
const dir = mkdtempSync(join(tmpdir(), 'frugal-ort-prof-'));
const session = await ort.InferenceSession.create(toOnnx({ model, spec: specOf(model, spec.input) }), {
  intraOpNumThreads: threads,
  interOpNumThreads: 1,
  graphOptimizationLevel: 'all',
  enableProfiling: true,
  profileFilePrefix: join(dir, 'ort'),
});
const feed = { input: new ort.Tensor('float32', Float32Array.from(x0.data), shape) };
for (let k = 0; k < 10; k++) await session.run(feed); // warm-up, dropped below by run count
const runs = rounds * 20;
const tRun = performance.now();
for (let k = 0; k < runs; k++) await session.run(feed);
const ortWholeMs = (performance.now() - tRun) / runs;
session.endProfiling();
await session.release();
const file = readdirSync(dir).find((f) => f.endsWith('.json'));
const events = file ? (JSON.parse(readFileSync(join(dir, file), 'utf8')) as Record<string, unknown>[]) : [];
rmSync(dir, { recursive: true, force: true });
const nodeTimes = new Map<string, { op: string; us: number[] }>();
for (const e of events) {
  const name = String(e.name ?? '');
  if (e.cat !== 'Node' || !name.endsWith('_kernel_time')) continue;
  const node = name.slice(0, -'_kernel_time'.length);
  const op = String((e.args as Record<string, unknown> | undefined)?.op_name ?? '?');
  if (!nodeTimes.has(node)) nodeTimes.set(node, { op, us: [] });
  nodeTimes.get(node)!.us.push(Number(e.dur));
}
const ortNodes = [...nodeTimes].map(([node, { op, us }]) => ({
  node,
  op,
  ms: median(us.slice(-runs)) / 1000,
}));

const rows = model.layers.map((l, i) => {
  const macs = prof.layers[i].macs * batch;
  const gflops = macs ? (2 * macs) / (layerMs[i] * 1e6) : 0;
  return {
    layer: i,
    type: l.toSpec().type,
    outputShape: inputs[i + 1].shape,
    ms: layerMs[i],
    macs,
    gflops,
    shareOfPeak: gflops / peak.gflops,
    /** ms at the measured peak: the compute ceiling (0 for layers without multiply-accumulates). */
    ceilingMs: (2 * macs) / (peak.gflops * 1e6),
  };
});
const sumMs = rows.reduce((a, r) => a + r.ms, 0);
log(`${net} batch ${batch}, Frugal ${backendName()} ${getThreads()} thread(s); peak ${peak.gflops.toFixed(1)} GFLOP/s`);
log(`| layer | type | output | ms | share of time | GFLOP/s | % of peak | ceiling ms |`);
log(`|---|---|---|---|---|---|---|---|`);
for (const r of rows)
  log(
    `| ${r.layer} | ${r.type} | ${r.outputShape.slice(1).join('×')} | ${r.ms.toFixed(3)} | ` +
      `${((100 * r.ms) / sumMs).toFixed(0)}% | ${r.gflops.toFixed(1)} | ${(100 * r.shareOfPeak).toFixed(0)}% | ` +
      `${r.ceilingMs.toFixed(3)} |`,
  );
const fusedGroups = groups.map(({ from, to }, k) => ({
  layers: types.slice(from, to).map((t) => t.type),
  from,
  ms: groupMs[k],
  separateMs: layerMs.slice(from, to).reduce((a, b) => a + b, 0),
}));
for (const g of fusedGroups)
  log(
    `fused ${g.layers.join('+')} (from layer ${g.from}): ${g.ms.toFixed(3)} ms, ` +
      `separately ${g.separateMs.toFixed(3)} ms`,
  );
log(
  `whole network ${wholeMs.toFixed(3)} ms, unfused ${wholeUnfusedMs.toFixed(3)} ms ` +
    `(layers summed ${sumMs.toFixed(3)} ms)`,
);
log(`onnxruntime-node: ${ortWholeMs.toFixed(3)} ms a run; nodes (its profiler, median per run):`);
for (const n of ortNodes) log(`  ${n.node} (${n.op}): ${n.ms.toFixed(3)} ms`);
console.log(
  JSON.stringify({
    bench: 'layers',
    net,
    batch,
    threads,
    backend: backendName(),
    peak,
    wholeMs,
    wholeUnfusedMs,
    rows,
    fusedGroups,
    ortWholeMs,
    ortNodes,
  }),
);
process.exit(0);
