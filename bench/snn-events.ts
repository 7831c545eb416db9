// node dist/bench/snn-events.js [--quick]
// A linear layer on binary spike input (12,800 rows: 200 steps × batch 64), event-driven (the spiking family's
// spikeLinear) against the dense product, at several spike densities, operands in kernel memory, interleaved
// rounds: EVENT_MAX_DENSITY in src/techniques/spiking/network.ts comes from where they cross.
import { Rng, persistentArray, spikingKernels, wasmBackend, backendName, threadUse } from '../src/index.js';
import { race } from './race.js';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);
const be = wasmBackend(),
  events = spikingKernels.wasm();
if (!be || !events) {
  log('the WebAssembly backend is unavailable; nothing to compare');
  process.exit(1);
}
const R = quick ? 1280 : 12800,
  rng = new Rng(1);
const rows = [];
for (const [K, N] of [
  [500, 10],
  [500, 500],
]) {
  const w = persistentArray(N * K);
  for (let i = 0; i < w.length; i++) w[i] = rng.uniform(-0.5, 0.5);
  const out = persistentArray(R * N),
    s = persistentArray(R * K);
  for (const density of [0.02, 0.1, 0.2, 0.3, 0.4, 0.5]) {
    for (let i = 0; i < s.length; i++) s[i] = rng.random() < density ? 1 : 0;
    const [eventMs, denseMs] = race(
      [() => events.spikeLinear(s, R, w, N, null, out), () => be.gemm(false, true, R, N, K, s, w, out, false)],
      quick ? 3 : 7,
      quick ? 20 : 300,
    );
    const row = { K, N, rows: R, density, eventMs, denseMs, ratio: eventMs / denseMs };
    log(
      `${K}→${N}, density ${density.toFixed(2)}: event-driven ${eventMs.toFixed(2)} ms, ` +
        `dense ${denseMs.toFixed(2)} ms, event/dense ${row.ratio.toFixed(2)}`,
    );
    rows.push(row);
  }
}
process.stdout.write(`${JSON.stringify({ bench: 'snn-events', backend: backendName(), ...threadUse(), rows })}\n`);
process.exit(0);
