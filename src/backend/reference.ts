import { allocLike, type FArray } from '../core/dtype.js';
import type { AdamHyper, Backend, BinaryKind, ConvGeom, Csr, PoolGeom, PoolMode } from './types.js';
import { packSpectra, stridedRows } from './bins.js';

/**
 * For each element of the im2col matrix [C·kh·kw, B·OH·OW], the index of the input element
 * it copies, or −1 where the patch lies in the padding. im2col gathers through it; col2im,
 * its adjoint, scatter-adds through it.
 */
function patchMap(g: ConvGeom): Int32Array {
  const n = g.B * g.OH * g.OW;
  const m = new Int32Array(g.C * g.kh * g.kw * n);
  let q = 0;
  for (let c = 0; c < g.C; c++) for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
    for (let b = 0; b < g.B; b++) {
      const plane = (b * g.C + c) * g.H * g.W;
      for (let oy = 0; oy < g.OH; oy++) {
        const iy = oy * g.sh - g.ph + i * g.dh;
        for (let ox = 0; ox < g.OW; ox++, q++) {
          const ix = ox * g.sw - g.pw + j * g.dw;
          m[q] = iy >= 0 && iy < g.H && ix >= 0 && ix < g.W ? plane + iy * g.W + ix : -1;
        }
      }
    }
  }
  return m;
}

/** [Co, B·OH·OW] (+ bias per channel) → NCHW [B, Co, OH, OW]. */
function channelsFirstToBatchFirst(tmp: FArray, g: ConvGeom, bias: FArray | null, out: FArray): void {
  const ohw = g.OH * g.OW, n = g.B * ohw;
  for (let b = 0; b < g.B; b++) for (let c = 0; c < g.Co; c++) {
    const bv = bias ? bias[c] : 0;
    const src = c * n + b * ohw, dst = (b * g.Co + c) * ohw;
    for (let k = 0; k < ohw; k++) out[dst + k] = tmp[src + k] + bv;
  }
}

/** f(q, idx) for every output position q and every in-bounds input index idx of its window, in window order. */
function eachWindow(g: PoolGeom, f: (q: number, idx: number) => void): void {
  let q = 0;
  for (let p = 0; p < g.P; p++) {
    const plane = p * g.H * g.W;
    for (let oy = 0; oy < g.OH; oy++) for (let ox = 0; ox < g.OW; ox++, q++) {
      for (let i = 0; i < g.kh; i++) {
        const iy = oy * g.sh - g.ph + i;
        if (iy < 0 || iy >= g.H) continue;
        for (let j = 0; j < g.kw; j++) {
          const ix = ox * g.sw - g.pw + j;
          if (ix >= 0 && ix < g.W) f(q, plane + iy * g.W + ix);
        }
      }
    }
  }
}

/**
 * Plain TypeScript kernels: obvious loops, the test oracle for every faster backend.
 * Generic over float32 and float64 (float64 is what gradient checks use).
 */
export const reference: Backend = {
  name: 'reference',

  gemm(transA, transB, M, N, K, A, B, C, acc) {
    if (!acc) C.fill(0, 0, M * N);
    // i-k-j order keeps the inner loop contiguous in B and C for the common case.
    for (let i = 0; i < M; i++) {
      const ci = i * N;
      for (let k = 0; k < K; k++) {
        const a = transA ? A[k * M + i] : A[i * K + k];
        if (a === 0) continue;
        if (transB) {
          for (let j = 0; j < N; j++) C[ci + j] += a * B[j * K + k];
        } else {
          const bk = k * N;
          for (let j = 0; j < N; j++) C[ci + j] += a * B[bk + j];
        }
      }
    }
  },

  gemmBatch(transA, transB, batch, M, N, K, A, B, C, sharedB) {
    const sb = sharedB ? 0 : K * N;
    for (let i = 0; i < batch; i++) this.gemm(transA, transB, M, N, K, A.subarray(i * M * K, (i + 1) * M * K), B.subarray(i * sb, i * sb + K * N), C.subarray(i * M * N, (i + 1) * M * N), false);
  },

  im2col(x, g, col) {
    const m = patchMap(g);
    for (let q = 0; q < m.length; q++) col[q] = m[q] >= 0 ? x[m[q]] : 0;
  },

  col2im(col, g, dx) {
    dx.fill(0);
    const m = patchMap(g);
    for (let q = 0; q < m.length; q++) if (m[q] >= 0) dx[m[q]] += col[q];
  },

  binConv2dForward(x, w, g, bins, out) {
    const xs = x.length / bins, ws = w.length / bins, ys = out.length / bins;
    for (let h = 0; h < bins; h++) this.conv2dForward(x.subarray(h * xs, (h + 1) * xs), w.subarray(h * ws, (h + 1) * ws), null, g, out.subarray(h * ys, (h + 1) * ys));
  },

  conv2dForward(x, w, bias, g, out) {
    const ckk = g.C * g.kh * g.kw, ohw = g.OH * g.OW, n = g.B * ohw;
    const col = allocLike(x, ckk * n), tmp = allocLike(x, g.Co * n);
    this.im2col(x, g, col);
    this.gemm(false, false, g.Co, n, ckk, w, col, tmp, false);
    channelsFirstToBatchFirst(tmp, g, bias, out);
  },

  conv2dSparse(x, w: Csr, bias, g, out) {
    const ckk = g.C * g.kh * g.kw, n = g.B * g.OH * g.OW;
    if (w.rows !== g.Co || w.cols !== ckk) throw new Error(`conv2dSparse: CSR weight is ${w.rows}×${w.cols}, expected ${g.Co}×${ckk}`);
    const col = allocLike(x, ckk * n), tmp = allocLike(x, g.Co * n);
    this.im2col(x, g, col);
    this.spmm(w, col, n, tmp);
    channelsFirstToBatchFirst(tmp, g, bias, out);
  },

  spmm(s: Csr, X, n, Y) {
    for (let r = 0; r < s.rows; r++) {
      const y = r * n;
      for (let j = 0; j < n; j++) Y[y + j] = 0;
      for (let k = s.rowPtr[r]; k < s.rowPtr[r + 1]; k++) {
        const v = s.vals[k], x = s.colIdx[k] * n;
        for (let j = 0; j < n; j++) Y[y + j] += v * X[x + j];
      }
    }
  },

  rfft(x, M, N, re, im) {
    const F = (N >> 1) + 1;
    for (let m = 0; m < M; m++) for (let k = 0; k < F; k++) {
      let sr = 0, si = 0;
      for (let n = 0; n < N; n++) {
        const t = (-2 * Math.PI * ((k * n) % N)) / N;
        sr += x[m * N + n] * Math.cos(t); si += x[m * N + n] * Math.sin(t);
      }
      re[m * F + k] = sr; im[m * F + k] = si;
    }
  },

  irfft(re, im, M, N, x) {
    const F = (N >> 1) + 1;
    for (let m = 0; m < M; m++) for (let n = 0; n < N; n++) {
      let s = re[m * F];
      if (N > 1 && N % 2 === 0) s += re[m * F + N / 2] * (n % 2 ? -1 : 1);
      for (let k = 1; k < (N + 1) >> 1; k++) {
        const t = (2 * Math.PI * ((k * n) % N)) / N;
        s += 2 * (re[m * F + k] * Math.cos(t) - im[m * F + k] * Math.sin(t));
      }
      x[m * N + n] = s / N;
    }
  },

  rfftPacked(x, M, N, RP, out, P = 1) {
    const F = (N >> 1) + 1, re = new Float64Array(M * F), im = new Float64Array(M * F);
    this.rfft(P > 1 ? stridedRows(x, M / P, N, P, false) : x, M, N, re, im);
    packSpectra(re, im, M, N, RP, out, false);
  },

  irfftPacked(packed, M, N, RP, x, P = 1) {
    const F = (N >> 1) + 1, re = new Float64Array(M * F), im = new Float64Array(M * F);
    packSpectra(re, im, M, N, RP, packed, true);
    if (P === 1) { this.irfft(re, im, M, N, x); return; }
    const rows = new Float64Array(M * N);
    this.irfft(re, im, M, N, rows);
    x.set(stridedRows(rows, M / P, N, P, true));
  },

  packSigns(x, M, K, out) {
    const W = 2 * Math.ceil(K / 64);
    out.fill(0, 0, M * W);
    for (let i = 0; i < M; i++) for (let k = 0; k < K; k++) if (x[i * K + k] >= 0) out[i * W + (k >> 5)] |= 1 << (k & 31);
  },

  packPatches(x, g, padValue, out, dense = false) {
    if (g.dh !== 1 || g.dw !== 1) throw new Error('packPatches: dilation must be 1');
    if (dense && g.C >= 64) throw new Error(`packPatches: the dense layout is for fewer than 64 channels, got ${g.C}`);
    const Wc = 2 * Math.ceil(g.C / 64), row = dense ? 2 * Math.ceil((g.kh * g.kw * g.C) / 64) : g.kh * g.kw * Wc;
    out.fill(0, 0, g.B * g.OH * g.OW * row);
    for (let b = 0; b < g.B; b++) for (let oy = 0; oy < g.OH; oy++) for (let ox = 0; ox < g.OW; ox++) {
      const o = ((b * g.OH + oy) * g.OW + ox) * row;
      for (let i = 0; i < g.kh; i++) for (let j = 0; j < g.kw; j++) {
        const r = oy * g.sh - g.ph + i, q = ox * g.sw - g.pw + j, inside = r >= 0 && r < g.H && q >= 0 && q < g.W;
        // Bit k of the row: per-tap words, or dense at tap·C + c.
        const first = dense ? (i * g.kw + j) * g.C : 32 * (i * g.kw + j) * Wc;
        for (let c = 0; c < g.C; c++) {
          const v = inside ? x[((b * g.C + c) * g.H + r) * g.W + q] : padValue, k = first + c;
          if (v >= 0) out[o + (k >> 5)] |= 1 << (k & 31);
        }
      }
    }
  },

  bgemm(A, B, M, N, K, C, rowWords = Math.ceil(K / 64)) {
    const W = 2 * rowWords;
    const pop = (v: number) => { v -= (v >>> 1) & 0x55555555; v = (v & 0x33333333) + ((v >>> 2) & 0x33333333); return (((v + (v >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24; };
    for (let i = 0; i < M; i++) for (let j = 0; j < N; j++) {
      let s = 0;
      for (let w = 0; w < W; w++) s += pop(A[i * W + w] ^ B[j * W + w]);
      C[i * N + j] = K - 2 * s;
    }
  },

  signPad(x, C, H, W, p, padValue, out) {
    const Hp = H + 2 * p, Wp = W + 2 * p;
    out.fill(padValue, 0, C * Hp * Wp);
    for (let c = 0; c < C; c++) for (let r = 0; r < H; r++) for (let q = 0; q < W; q++) out[(c * Hp + r + p) * Wp + q + p] = x[(c * H + r) * W + q] >= 0 ? 1 : -1;
  },

  jetTree(x, C, H, W, out) {
    if (H < 3 || W < 3) throw new Error(`jetTree: the map must be at least 3×3, got ${H}×${W}`);
    const OH = H - 2, OW = W - 2;
    // x-stage: per row, three maps of width OW.
    const xs = [new Float32Array(H * OW), new Float32Array(H * OW), new Float32Array(H * OW)];
    for (let c = 0; c < C; c++) {
      const base = c * H * W;
      for (let r = 0; r < H; r++) {
        const o = base + r * W;
        for (let i = 0; i < OW; i++) {
          const b0 = x[o + i] + x[o + i + 1], b1 = x[o + i + 1] + x[o + i + 2];
          const d0 = x[o + i + 1] - x[o + i], d1 = x[o + i + 2] - x[o + i + 1];
          xs[0][r * OW + i] = b0 + b1; xs[1][r * OW + i] = b1 - b0; xs[2][r * OW + i] = d1 - d0;
        }
      }
      // y-stage: the same three along the columns of each x-map.
      for (let ix = 0; ix < 3; ix++) {
        const m = xs[ix];
        for (let r = 0; r < OH; r++) for (let i = 0; i < OW; i++) {
          const a = m[r * OW + i], b = m[(r + 1) * OW + i], d = m[(r + 2) * OW + i];
          const b0 = a + b, b1 = b + d, d0 = b - a, d1 = d - b;
          const at = (iy: number) => ((c * 9 + 3 * iy + ix) * OH + r) * OW + i;
          out[at(0)] = b0 + b1; out[at(1)] = b1 - b0; out[at(2)] = d1 - d0;
        }
      }
    }
  },

  circGemv(x, B, R, S, N, wt, bias, y) {
    const F = (N >> 1) + 1, FRS = F * R * S;
    const xr = new Float64Array(R * F), xi = new Float64Array(R * F), yr = new Float64Array(S * F), yi = new Float64Array(S * F), row = new Float64Array(S * N);
    for (let b = 0; b < B; b++) {
      this.rfft(x.subarray(b * R * N, (b + 1) * R * N), R, N, xr, xi);
      yr.fill(0); yi.fill(0);
      for (let s = 0; s < S; s++) for (let r = 0; r < R; r++) for (let f = 0; f < F; f++) {
        const w = (f * R + r) * S + s, a = wt[w], c = wt[FRS + w], u = xr[r * F + f], v = xi[r * F + f];
        yr[s * F + f] += a * u - c * v; yi[s * F + f] += a * v + c * u;
      }
      this.irfft(yr, yi, S, N, row);
      for (let i = 0; i < S * N; i++) y[b * S * N + i] = row[i] + (bias ? bias[i] : 0);
    }
  },

  cbin(a, w, y, B, R, S, F, mode) {
    const [ar, ai] = a, [wr, wi] = w, [yr, yi] = y;
    const [I, J, K] = mode === 0 ? [B, S, R] : mode === 1 ? [B, R, S] : [S, R, B];
    for (let i = 0; i < I; i++) for (let j = 0; j < J; j++) for (let f = 0; f < F; f++) {
      let sr = 0, si = 0;
      for (let k = 0; k < K; k++) {
        const p = (mode === 2 ? k * I + i : i * K + k) * F + f, q = (mode === 0 ? j * K + k : k * J + j) * F + f;
        if (mode === 0) { sr += ar[p] * wr[q] - ai[p] * wi[q]; si += ar[p] * wi[q] + ai[p] * wr[q]; }
        else { sr += ar[p] * wr[q] + ai[p] * wi[q]; si += ai[p] * wr[q] - ar[p] * wi[q]; }
      }
      yr[(i * J + j) * F + f] = sr; yi[(i * J + j) * F + f] = si;
    }
  },

  transpose(x, r, c, out) {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j];
  },

  conv2dBackward(x, w, dy, g, dw, db, dx) {
    const ckk = g.C * g.kh * g.kw, ohw = g.OH * g.OW, n = g.B * ohw;
    const dyT = allocLike(x, g.Co * n);
    for (let b = 0; b < g.B; b++) for (let c = 0; c < g.Co; c++) {
      const src = (b * g.Co + c) * ohw, dst = c * n + b * ohw;
      for (let k = 0; k < ohw; k++) dyT[dst + k] = dy[src + k];
    }
    if (db) for (let c = 0; c < g.Co; c++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += dyT[c * n + k];
      db[c] = s;
    }
    const col = allocLike(x, ckk * n);
    this.im2col(x, g, col);
    this.gemm(false, true, g.Co, ckk, n, dyT, col, dw, false);
    if (dx) {
      this.gemm(true, false, ckk, n, g.Co, w, dyT, col, false);
      this.col2im(col, g, dx);
    }
  },

  pool2dForward(x, g, mode, out) {
    const acc = new Float64Array(g.P * g.OH * g.OW).fill(mode === 'max' ? -Infinity : 0);
    eachWindow(g, (q, idx) => { if (mode === 'max') { if (x[idx] > acc[q]) acc[q] = x[idx]; } else acc[q] += x[idx]; });
    for (let q = 0; q < acc.length; q++) out[q] = mode === 'max' ? acc[q] : acc[q] / (g.kh * g.kw);
  },

  pool2dBackward(x, dy, g, mode, dx) {
    dx.fill(0);
    if (mode === 'avg') {
      const inv = 1 / (g.kh * g.kw);
      eachWindow(g, (q, idx) => { dx[idx] += dy[q] * inv; });
      return;
    }
    // max: the gradient goes to the first maximal element of each window
    const best = new Float64Array(dy.length).fill(-Infinity), arg = new Int32Array(dy.length).fill(-1);
    eachWindow(g, (q, idx) => { if (x[idx] > best[q]) { best[q] = x[idx]; arg[q] = idx; } });
    for (let q = 0; q < arg.length; q++) if (arg[q] >= 0) dx[arg[q]] += dy[q];
  },

  relu(x, y) {
    for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 ? x[i] : 0;
  },

  reluBackward(x, dy, dx) {
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
  },

  binary(kind: BinaryKind, a, b, y) {
    const n = y.length;
    switch (kind) {
      case 'add': for (let i = 0; i < n; i++) y[i] = a[i] + b[i]; break;
      case 'sub': for (let i = 0; i < n; i++) y[i] = a[i] - b[i]; break;
      case 'mul': for (let i = 0; i < n; i++) y[i] = a[i] * b[i]; break;
      case 'div': for (let i = 0; i < n; i++) y[i] = a[i] / b[i]; break;
    }
  },

  bnStats(x, outer, inner, mean, variance) {
    const C = mean.length, cnt = outer * inner;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < outer; p++) { const b = (p * C + c) * inner; for (let k = 0; k < inner; k++) s += x[b + k]; }
      const mu = s / cnt;
      let v = 0;
      for (let p = 0; p < outer; p++) { const b = (p * C + c) * inner; for (let k = 0; k < inner; k++) { const t = x[b + k] - mu; v += t * t; } }
      mean[c] = mu; variance[c] = v / cnt;
    }
  },

  bnNormalize(x, outer, inner, mean, invStd, gamma, beta, xhat, y) {
    const C = mean.length;
    for (let p = 0, i = 0; p < outer; p++) for (let c = 0; c < C; c++) {
      const mu = mean[c], is = invStd[c], g = gamma[c], b = beta[c];
      for (const end = i + inner; i < end; i++) { const h = (x[i] - mu) * is; if (xhat) xhat[i] = h; y[i] = g * h + b; }
    }
  },

  bnGradSums(gy, xhat, outer, inner, sumG, sumGX) {
    const C = sumG.length;
    for (let c = 0; c < C; c++) {
      let sg = 0, sgx = 0;
      for (let p = 0; p < outer; p++) { const b = (p * C + c) * inner; for (let k = b; k < b + inner; k++) { sg += gy[k]; sgx += gy[k] * xhat[k]; } }
      sumG[c] = sg; sumGX[c] = sgx;
    }
  },

  bnInputGrad(gy, xhat, outer, inner, k, mg, mgx, dx) {
    const C = k.length;
    for (let p = 0, i = 0; p < outer; p++) for (let c = 0; c < C; c++) {
      const kc = k[c], a = mg[c], b = mgx[c];
      for (const end = i + inner; i < end; i++) dx[i] = kc * (gy[i] - a - xhat[i] * b);
    }
  },

  channelAffine(x, scale, shift, outer, inner, y) {
    const C = (scale ?? shift)!.length, r = y instanceof Float32Array ? Math.fround : (v: number) => v;
    for (let p = 0, i = 0; p < outer; p++) {
      for (let c = 0; c < C; c++) {
        const s = scale ? scale[c] : 1, t = shift ? shift[c] : 0;
        for (const end = i + inner; i < end; i++) y[i] = scale && shift ? r(x[i] * s) + t : scale ? x[i] * s : x[i] + t;
      }
    }
  },

  tileAdd(a, b, y) {
    const n = b.length;
    for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i % n];
  },

  sumTiles(g, out) {
    const n = out.length;
    out.fill(0);
    for (let i = 0; i < g.length; i++) out[i % n] += g[i];
  },

  adam(p, g, m, v, h: AdamHyper) {
    const step = h.lr / h.bc1, rb2 = 1 / Math.sqrt(h.bc2);
    for (let i = 0; i < p.length; i++) {
      let pi = p[i], gi = g[i];
      if (h.weightDecay !== 0) { if (h.decoupled) pi -= h.lr * h.weightDecay * pi; else gi += h.weightDecay * pi; }
      const mi = h.beta1 * m[i] + (1 - h.beta1) * gi;
      const vi = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
      m[i] = mi; v[i] = vi;
      p[i] = pi - step * mi / (Math.sqrt(vi) * rb2 + h.eps);
    }
  },
};

export type { ConvGeom, PoolGeom, PoolMode, FArray };
