// node dist/bench/conv-direct.js [--quick]
// The direct convolution kernels (stride 1: pixels vectorized, 'direct'; output channels vectorized, 'chan')
// against im2col + GEMM and the GEMM packed from the image on the same shapes, operands in kernel memory,
// interleaved rounds: DIRECT_MAX_TAPS and the CHAN_* bounds in src/backend/wasm/policy.ts come from here.
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
// [batch, C, Co, H, padding]: first layers (1 and 3 channels), narrow middle layers, the crossovers, the reference
// CNN's second layer (16→32 on 13×13, no padding) and the VGG-like network's layers.
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
      [1, 16, 32, 13, 0],
      [64, 16, 32, 13, 0],
      [1, 2, 16, 28],
      [64, 2, 16, 28],
      [64, 32, 64, 14],
      [1, 64, 128, 7],
      [64, 64, 128, 7],
      [1, 128, 128, 7],
      [64, 128, 128, 7],
      [1, 256, 256, 7],
      [64, 256, 256, 7],
      [64, 16, 4, 13],
    ];
const rows = shapes.map(([B, C, Co, H, p = 1]) => {
  const O = H + 2 * p - 2;
  const g: ConvGeom = { B, C, H, W: H, Co, kh: 3, kw: 3, sh: 1, sw: 1, ph: p, pw: p, dh: 1, dw: 1, OH: O, OW: O };
  const x = resident(Tensor.randn([B, C, H, H], new Rng(1))),
    w = resident(Tensor.randn([Co, C, 3, 3], new Rng(2)));
  const b = resident(Tensor.randn([Co], new Rng(3))),
    out = persistentArray(B * Co * O * O);
  const [direct, chan, im2col, packed] = race(
    (['direct', 'chan', 'im2col', 'packed'] as const).map((path) => () => be.conv2dForward(x, w, b, g, out, {}, path)),
    quick ? 3 : 7,
    quick ? 20 : 60,
  );
  const row = {
    shape: `${C}→${Co} 3×3 @${H}×${H}${p ? '' : ' no pad'} batch ${B}`,
    taps: 9 * C,
    directMs: direct,
    chanMs: chan,
    im2colMs: im2col,
    packedMs: packed,
    ratio: direct / packed,
    chanRatio: chan / Math.min(direct, packed),
  };
  log(
    `${row.shape.padEnd(36)} taps ${String(row.taps).padStart(4)}  direct ${direct.toFixed(3)} ms  chan ` +
      `${chan.toFixed(3)} ms  im2col+GEMM ${im2col.toFixed(3)} ms  packed GEMM ${packed.toFixed(3)} ms  ` +
      `direct/packed ${row.ratio.toFixed(2)}  chan/best other ${row.chanRatio.toFixed(2)}`,
  );
  return row;
});
process.stdout.write(`${JSON.stringify({ bench: 'conv-direct', backend: backendName(), ...threadUse(), rows })}\n`);
process.exit(0);
