// Reference XNOR-popcount and jet kernels: bit by bit and map by map (the test oracle).
import type { BinaryKernels } from './index.js';

export const binaryReference: BinaryKernels = {
  packSigns(x, M, K, out) {
    const W = 2 * Math.ceil(K / 64);
    out.fill(0, 0, M * W);
    for (let i = 0; i < M; i++)
      for (let k = 0; k < K; k++) if (x[i * K + k] >= 0) out[i * W + (k >> 5)] |= 1 << (k & 31);
  },
  packPatches(x, g, padValue, out, dense = false) {
    if (g.dh !== 1 || g.dw !== 1) throw new Error('packPatches: dilation must be 1');
    if (dense && g.C >= 64) throw new Error(`packPatches: the dense layout is for fewer than 64 channels, got ${g.C}`);
    const Wc = 2 * Math.ceil(g.C / 64),
      row = dense ? 2 * Math.ceil((g.kh * g.kw * g.C) / 64) : g.kh * g.kw * Wc;
    out.fill(0, 0, g.B * g.OH * g.OW * row);
    for (let b = 0; b < g.B; b++)
      for (let oy = 0; oy < g.OH; oy++)
        for (let ox = 0; ox < g.OW; ox++) {
          const o = ((b * g.OH + oy) * g.OW + ox) * row;
          for (let i = 0; i < g.kh; i++)
            for (let j = 0; j < g.kw; j++) {
              const r = oy * g.sh - g.ph + i,
                q = ox * g.sw - g.pw + j,
                inside = r >= 0 && r < g.H && q >= 0 && q < g.W;
              // Bit k of the row: per-tap words, or dense at tap·C + c.
              const first = dense ? (i * g.kw + j) * g.C : 32 * (i * g.kw + j) * Wc;
              for (let c = 0; c < g.C; c++) {
                const v = inside ? x[((b * g.C + c) * g.H + r) * g.W + q] : padValue,
                  k = first + c;
                if (v >= 0) out[o + (k >> 5)] |= 1 << (k & 31);
              }
            }
        }
  },
  bgemm(A, B, M, N, K, C, rowWords = Math.ceil(K / 64)) {
    const W = 2 * rowWords;
    const pop = (v: number) => {
      v -= (v >>> 1) & 0x55555555;
      v = (v & 0x33333333) + ((v >>> 2) & 0x33333333);
      return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
    };
    for (let i = 0; i < M; i++)
      for (let j = 0; j < N; j++) {
        let s = 0;
        for (let w = 0; w < W; w++) s += pop(A[i * W + w] ^ B[j * W + w]);
        C[i * N + j] = K - 2 * s;
      }
  },
  signPad(x, C, H, W, p, padValue, out) {
    const Hp = H + 2 * p,
      Wp = W + 2 * p;
    out.fill(padValue, 0, C * Hp * Wp);
    for (let c = 0; c < C; c++)
      for (let r = 0; r < H; r++)
        for (let q = 0; q < W; q++) out[(c * Hp + r + p) * Wp + q + p] = x[(c * H + r) * W + q] >= 0 ? 1 : -1;
  },
  jetTree(x, C, H, W, out) {
    if (H < 3 || W < 3) throw new Error(`jetTree: the map must be at least 3×3, got ${H}×${W}`);
    const OH = H - 2,
      OW = W - 2;
    // x-stage: per row, three maps of width OW.
    const xs = [new Float32Array(H * OW), new Float32Array(H * OW), new Float32Array(H * OW)];
    for (let c = 0; c < C; c++) {
      const base = c * H * W;
      for (let r = 0; r < H; r++) {
        const o = base + r * W;
        for (let i = 0; i < OW; i++) {
          const b0 = x[o + i] + x[o + i + 1],
            b1 = x[o + i + 1] + x[o + i + 2];
          const d0 = x[o + i + 1] - x[o + i],
            d1 = x[o + i + 2] - x[o + i + 1];
          xs[0][r * OW + i] = b0 + b1;
          xs[1][r * OW + i] = b1 - b0;
          xs[2][r * OW + i] = d1 - d0;
        }
      }
      // y-stage: the same three along the columns of each x-map.
      for (let ix = 0; ix < 3; ix++) {
        const m = xs[ix];
        for (let r = 0; r < OH; r++)
          for (let i = 0; i < OW; i++) {
            const a = m[r * OW + i],
              b = m[(r + 1) * OW + i],
              d = m[(r + 2) * OW + i];
            const b0 = a + b,
              b1 = b + d,
              d0 = b - a,
              d1 = d - b;
            const at = (iy: number) => ((c * 9 + 3 * iy + ix) * OH + r) * OW + i;
            out[at(0)] = b0 + b1;
            out[at(1)] = b1 - b0;
            out[at(2)] = d1 - d0;
          }
      }
    }
  },
};
