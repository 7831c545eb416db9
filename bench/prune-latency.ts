// node dist/bench/prune-latency.js DENSE.safetensors PRUNED.safetensors [...]
// Inference latency of compacted models against their dense model, batch 1 and 64, medians of
// 5 interleaved rounds (compareLatency), e.g. on the models `frugal reproduce pruning` keeps.
import { compareLatency } from '../src/index.js';
import { loadModel } from '../src/node.js';

const [densePath, ...paths] = process.argv.slice(2);
if (!densePath || paths.length === 0) {
  process.stderr.write('usage: node dist/bench/prune-latency.js DENSE.safetensors PRUNED.safetensors [...]\n');
  process.exit(2);
}
const dense = loadModel(densePath);
const rows = paths.map((p) => {
  const m = loadModel(p).model;
  const [d1, s1] = compareLatency([dense.model, m], dense.spec.input, 1);
  const [d64, s64] = compareLatency([dense.model, m], dense.spec.input, 64);
  const row = {
    model: p,
    denseMs1: d1,
    ms1: s1,
    change1: s1 / d1 - 1,
    denseMs64: d64,
    ms64: s64,
    change64: s64 / d64 - 1,
  };
  process.stderr.write(
    `${p}: batch 1 ${(100 * row.change1).toFixed(1)}%, batch 64 ${(100 * row.change64).toFixed(1)}%\n`,
  );
  return row;
});
process.stdout.write(`${JSON.stringify({ bench: 'prune-latency', dense: densePath, rows })}\n`);
