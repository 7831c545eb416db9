import { backendName, LIMITS, loadModel, noGrad, Rng, Tensor, withScope } from '../../node.js';
import { defaultsText, emit, num, parse, type Options } from '../args.js';

export const usage = `frugal bench MODEL [--batch-size B] [--seconds S] [--json]
  Inference throughput (samples/s) and latency per batch (median ms) of a saved model on random input.
${defaultsText(['--batch-size 1', '--seconds 2'])}`;

const options: Options = { 'batch-size': { type: 'string' }, seconds: { type: 'string' } };

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const batchSize = num(values, 'batch-size', 1, {
    int: true,
    min: 1,
    limit: [LIMITS.maxBatchSize, 'maxBatchSize in core/limits.ts'],
  });
  const budget = num(values, 'seconds', 2, { min: 0.05, limit: [3600, 'of an hour per benchmark'] });
  const { model, spec } = loadModel(positionals[0]);
  model.eval();
  const x = Tensor.rand([batchSize, ...spec.input], new Rng(0));
  const times: number[] = [];
  noGrad(() => {
    const run = () =>
      withScope(() => {
        model.forward(x);
      });
    for (let i = 0; i < 3; i++) run(); // warm-up: JIT and buffer growth
    const t0 = performance.now();
    while (performance.now() - t0 < budget * 1000 || times.length < 5) {
      const t = performance.now();
      run();
      times.push(performance.now() - t);
    }
  });
  times.sort((a, b) => a - b);
  const median = times[Math.floor(times.length / 2)];
  const total = times.reduce((a, b) => a + b, 0);
  const sps = (times.length * batchSize) / (total / 1000);
  emit(
    !!values.json,
    {
      command: 'bench',
      model: positionals[0],
      backend: backendName(),
      batchSize,
      iterations: times.length,
      samplesPerSecond: sps,
      latencyMs: median,
      p90LatencyMs: times[Math.floor(times.length * 0.9)],
    },
    `batch ${batchSize}: ${Math.round(sps)} samples/s, median latency ${median.toFixed(3)} ms over ` +
      `${times.length} runs (${backendName()})`,
  );
  return 0;
}
