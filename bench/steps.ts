// Engine step timings for before/after comparisons across commits:
//   node dist/bench/steps.js [--rounds R]
// Prints one JSON object: ms per training step of the reference CNN (batch 64) and MLP
// (batch 128), and CNN inference latency at batch 1, medians of R interleaved rounds.
import * as F from '../src/index.js';

const rounds = Number(process.argv[process.argv.indexOf('--rounds') + 1]) || 5;
const scope: <T>(f: () => T) => T = (F as { withScope?: <T>(f: () => T) => T }).withScope ?? ((f) => f());
const median = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];

function trainStep(kind: 'cnn' | 'mlp'): () => number {
  const model = F.buildModel(kind === 'cnn' ? F.referenceCnn : F.referenceMlp, 1);
  const opt = new F.Adam(model.parameters());
  const B = kind === 'cnn' ? 64 : 128;
  const x = F.Tensor.rand(kind === 'cnn' ? [B, 1, 28, 28] : [B, 784], new F.Rng(1));
  const y = Array.from({ length: B }, (_, i) => i % 10);
  const step = () =>
    scope(() => {
      const l = F.crossEntropy(model.forward(x), y);
      opt.zeroGrad();
      l.backward();
      opt.step();
      opt.zeroGrad();
    });
  for (let i = 0; i < 5; i++) step();
  return () => {
    const n = kind === 'cnn' ? 20 : 60;
    const t = performance.now();
    for (let i = 0; i < n; i++) step();
    return (performance.now() - t) / n;
  };
}

function infer1(): () => number {
  const model = F.buildModel(F.referenceCnn, 1).eval();
  const x = F.Tensor.rand([1, 1, 28, 28], new F.Rng(2));
  const run = () =>
    scope(() =>
      F.noGrad(() => {
        model.forward(x);
      }),
    );
  for (let i = 0; i < 20; i++) run();
  return () => {
    const t = performance.now();
    for (let i = 0; i < 300; i++) run();
    return (performance.now() - t) / 300;
  };
}

const probes = { cnnTrainMsPerStep: trainStep('cnn'), mlpTrainMsPerStep: trainStep('mlp'), cnnInferBatch1Ms: infer1() };
const res: Record<string, number[]> = { cnnTrainMsPerStep: [], mlpTrainMsPerStep: [], cnnInferBatch1Ms: [] };
for (let r = 0; r < rounds; r++) for (const [k, f] of Object.entries(probes)) res[k].push(f());
const out: Record<string, number | string> = { backend: F.backendName() };
for (const [k, v] of Object.entries(res)) out[k] = Number(median(v).toFixed(3));
console.log(JSON.stringify(out));
