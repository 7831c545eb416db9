// node dist/bench/conv-direct.js [--quick]
// The direct convolution kernel (few input channels, stride 1) against im2col + GEMM and the GEMM packed
// from the image on the same shapes, operands in kernel memory, interleaved rounds: DIRECT_MAX_TAPS in
// src/backend/wasm/policy.ts comes from here (direct against the path 'auto' takes otherwise, packed).
import { Rng, Tensor, persistentArray, wasmBackend, backendName, threadUse, type ConvGeom } from '../src/index.js';
import { race } from './race.js';

const quick = process.argv.includes('--quick');
const log = (s: string) => process.stderr.write(`${s}\n`);
const be = wasmBackend();
if (!be) {
  log('the WebAssembly backend is unavailable; nothing to compare');
  process.exit(1);
}
const resident = (t: Tensor) => {
  const p = persistentArray(t.size);
  p.set(t.data);
  return p;
};
// [batch, C, Co, H]: first layers (1 and 3 channels), narrow middle layers, and the crossover.
const shapes = quick
  ? [
      [64, 1, 32, 28],
      [1, 16, 16, 28],
    ]
  : [
      [1, 1, 32, 28],
      [64, 1, 32, 28],
      [64, 3, 16, 32],
      [1, 8, 16, 28],
      [64, 8, 16, 28],
      [1, 16, 16, 28],
      [64, 16, 16, 28],
      [1, 16, 32, 13],
      [64, 16, 32, 13],
      [1, 32, 32, 28],
      [64, 32, 32, 28],
      [64, 64, 64, 14],
    ];
const rows = shapes.map(([B, C, Co, H]) => {
  const g: ConvGeom = { B, C, H, W: H, Co, kh: 3, kw: 3, sh: 1, sw: 1, ph: 1, pw: 1, dh: 1, dw: 1, OH: H, OW: H };
  const x = resident(Tensor.randn([B, C, H, H], new Rng(1))),
    w = resident(Tensor.randn([Co, C, 3, 3], new Rng(2)));
  const b = resident(Tensor.randn([Co], new Rng(3))),
    out = persistentArray(B * Co * H * H);
  const [direct, im2col, packed] = race(
    (['direct', 'im2col', 'packed'] as const).map((path) => () => be.conv2dForward(x, w, b, g, out, {}, path)),
    quick ? 3 : 7,
    quick ? 20 : 60,
  );
  const row = {
    shape: `${C}→${Co} 3×3 @${H}×${H} batch ${B}`,
    taps: 9 * C,
    directMs: direct,
    im2colMs: im2col,
    packedMs: packed,
    ratio: direct / packed,
  };
  log(
    `${row.shape.padEnd(28)} taps ${String(row.taps).padStart(3)}  direct ${direct.toFixed(3)} ms  im2col+GEMM ` +
      `${im2col.toFixed(3)} ms  packed GEMM ${packed.toFixed(3)} ms  direct/packed ${row.ratio.toFixed(2)}`,
  );
  return row;
});
process.stdout.write(`${JSON.stringify({ bench: 'conv-direct', backend: backendName(), ...threadUse(), rows })}\n`);
process.exit(0);
