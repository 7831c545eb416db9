import { allocLike, type FArray } from '../core/dtype.js';
import type { AdamHyper, Backend, BinaryKind, ConvGeom, PoolGeom, PoolMode } from './types.js';

/**
 * For each element of the im2col matrix [C·kh·kw, B·OH·OW], the index of the input element
 * it copies, or −1 where the patch lies in the padding. im2col gathers through it; col2im,
 * its adjoint, scatter-adds through it.
 */
function patchMap(g: ConvGeom): Int32Array {
  const n = g.B * g.OH * g.OW;
  const m = new Int32Array(g.C * g.kh * g.kw * n);
  let q = 0;
  for (let c = 0; c < g.C; c++)
    for (let i = 0; i < g.kh; i++)
      for (let j = 0; j < g.kw; j++) {
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
export function channelsFirstToBatchFirst(tmp: FArray, g: ConvGeom, bias: FArray | null, out: FArray): void {
  const ohw = g.OH * g.OW,
    n = g.B * ohw;
  for (let b = 0; b < g.B; b++)
    for (let c = 0; c < g.Co; c++) {
      const bv = bias ? bias[c] : 0;
      const src = c * n + b * ohw,
        dst = (b * g.Co + c) * ohw;
      for (let k = 0; k < ohw; k++) out[dst + k] = tmp[src + k] + bv;
    }
}

/** f(q, idx) for every output position q and every in-bounds input index idx of its window, in window order. */
function eachWindow(g: PoolGeom, f: (q: number, idx: number) => void): void {
  let q = 0;
  for (let p = 0; p < g.P; p++) {
    const plane = p * g.H * g.W;
    for (let oy = 0; oy < g.OH; oy++)
      for (let ox = 0; ox < g.OW; ox++, q++) {
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

/** Max pooling's order: a is taken over the best so far b when greater, or NaN where b is not (NaN is the max). */
function beats(a: number, b: number): boolean {
  return a > b || (a !== a && b === b);
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
    for (let i = 0; i < batch; i++)
      this.gemm(
        transA,
        transB,
        M,
        N,
        K,
        A.subarray(i * M * K, (i + 1) * M * K),
        B.subarray(i * sb, i * sb + K * N),
        C.subarray(i * M * N, (i + 1) * M * N),
        false,
      );
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

  conv2dForward(x, w, bias, g, out, epi) {
    const ckk = g.C * g.kh * g.kw,
      ohw = g.OH * g.OW,
      n = g.B * ohw;
    const col = allocLike(x, ckk * n),
      tmp = allocLike(x, g.Co * n);
    this.im2col(x, g, col);
    this.gemm(false, false, g.Co, n, ckk, w, col, tmp, false);
    if (!epi?.pool) {
      channelsFirstToBatchFirst(tmp, g, bias, out);
      if (epi?.relu) this.relu(out, out);
      return;
    }
    const full = allocLike(x, g.Co * n);
    channelsFirstToBatchFirst(tmp, g, bias, full);
    this.relu(full, full);
    const { OH, OW } = g;
    const pg = { P: g.B * g.Co, H: OH, W: OW, kh: 2, kw: 2, sh: 2, sw: 2, ph: 0, pw: 0, OH: OH >> 1, OW: OW >> 1 };
    this.pool2dForward(full, pg, 'max', out);
  },

  transpose(x, r, c, out) {
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = x[i * c + j];
  },

  conv2dBackward(x, w, dy, g, dw, db, dx) {
    const ckk = g.C * g.kh * g.kw,
      ohw = g.OH * g.OW,
      n = g.B * ohw;
    const dyT = allocLike(x, g.Co * n);
    for (let b = 0; b < g.B; b++)
      for (let c = 0; c < g.Co; c++) {
        const src = (b * g.Co + c) * ohw,
          dst = c * n + b * ohw;
        for (let k = 0; k < ohw; k++) dyT[dst + k] = dy[src + k];
      }
    if (db)
      for (let c = 0; c < g.Co; c++) {
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
    eachWindow(g, (q, idx) => {
      if (mode === 'max') {
        if (beats(x[idx], acc[q])) acc[q] = x[idx];
      } else acc[q] += x[idx];
    });
    for (let q = 0; q < acc.length; q++) out[q] = mode === 'max' ? acc[q] : acc[q] / (g.kh * g.kw);
  },

  pool2dBackward(x, dy, g, mode, dx) {
    dx.fill(0);
    if (mode === 'avg') {
      const inv = 1 / (g.kh * g.kw);
      eachWindow(g, (q, idx) => {
        dx[idx] += dy[q] * inv;
      });
      return;
    }
    // max: the gradient goes to each window's first NaN, else its first maximal element (as PyTorch, NaN is the max)
    const best = new Float64Array(dy.length).fill(-Infinity),
      arg = new Int32Array(dy.length).fill(-1);
    eachWindow(g, (q, idx) => {
      if (arg[q] < 0 || beats(x[idx], best[q])) {
        best[q] = x[idx];
        arg[q] = idx;
      }
    });
    for (let q = 0; q < arg.length; q++) if (arg[q] >= 0) dx[arg[q]] += dy[q];
  },

  relu(x, y) {
    // NaN stays NaN (x !== x), as the WebAssembly kernels' max and PyTorch's relu keep it.
    for (let i = 0; i < x.length; i++) y[i] = x[i] > 0 || x[i] !== x[i] ? x[i] : 0;
  },

  reluBackward(x, dy, dx) {
    for (let i = 0; i < x.length; i++) dx[i] = x[i] > 0 ? dy[i] : 0;
  },

  binary(kind: BinaryKind, a, b, y) {
    const n = y.length;
    switch (kind) {
      case 'add':
        for (let i = 0; i < n; i++) y[i] = a[i] + b[i];
        break;
      case 'sub':
        for (let i = 0; i < n; i++) y[i] = a[i] - b[i];
        break;
      case 'mul':
        for (let i = 0; i < n; i++) y[i] = a[i] * b[i];
        break;
      case 'div':
        for (let i = 0; i < n; i++) y[i] = a[i] / b[i];
        break;
    }
  },

  bnStats(x, outer, inner, mean, variance) {
    const C = mean.length,
      cnt = outer * inner;
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let p = 0; p < outer; p++) {
        const b = (p * C + c) * inner;
        for (let k = 0; k < inner; k++) s += x[b + k];
      }
      const mu = s / cnt;
      let v = 0;
      for (let p = 0; p < outer; p++) {
        const b = (p * C + c) * inner;
        for (let k = 0; k < inner; k++) {
          const t = x[b + k] - mu;
          v += t * t;
        }
      }
      mean[c] = mu;
      variance[c] = v / cnt;
    }
  },

  bnNormalize(x, outer, inner, mean, invStd, gamma, beta, xhat, y) {
    const C = mean.length;
    for (let p = 0, i = 0; p < outer; p++)
      for (let c = 0; c < C; c++) {
        const mu = mean[c],
          is = invStd[c],
          g = gamma[c],
          b = beta[c];
        for (const end = i + inner; i < end; i++) {
          const h = (x[i] - mu) * is;
          if (xhat) xhat[i] = h;
          y[i] = g * h + b;
        }
      }
  },

  bnGradSums(gy, xhat, outer, inner, sumG, sumGX) {
    const C = sumG.length;
    for (let c = 0; c < C; c++) {
      let sg = 0,
        sgx = 0;
      for (let p = 0; p < outer; p++) {
        const b = (p * C + c) * inner;
        for (let k = b; k < b + inner; k++) {
          sg += gy[k];
          sgx += gy[k] * xhat[k];
        }
      }
      sumG[c] = sg;
      sumGX[c] = sgx;
    }
  },

  bnInputGrad(gy, xhat, outer, inner, k, mg, mgx, dx) {
    const C = k.length;
    for (let p = 0, i = 0; p < outer; p++)
      for (let c = 0; c < C; c++) {
        const kc = k[c],
          a = mg[c],
          b = mgx[c];
        for (const end = i + inner; i < end; i++) dx[i] = kc * (gy[i] - a - xhat[i] * b);
      }
  },

  channelAffine(x, scale, shift, outer, inner, y) {
    const C = (scale ?? shift)!.length,
      r = y instanceof Float32Array ? Math.fround : (v: number) => v;
    for (let p = 0, i = 0; p < outer; p++) {
      for (let c = 0; c < C; c++) {
        const s = scale ? scale[c] : 1,
          t = shift ? shift[c] : 0;
        for (const end = i + inner; i < end; i++) y[i] = scale && shift ? r(x[i] * s) + t : scale ? x[i] * s : x[i] + t;
      }
    }
  },

  tileAdd(a, b, y, relu) {
    const n = b.length;
    for (let i = 0; i < y.length; i++) y[i] = a[i] + b[i % n];
    if (relu) this.relu(y, y);
  },

  sumTiles(g, out) {
    const n = out.length;
    out.fill(0);
    for (let i = 0; i < g.length; i++) out[i % n] += g[i];
  },

  adam(p, g, m, v, h: AdamHyper) {
    const step = h.lr / h.bc1,
      rb2 = 1 / Math.sqrt(h.bc2);
    for (let i = 0; i < p.length; i++) {
      let pi = p[i],
        gi = g[i];
      if (h.weightDecay !== 0) {
        if (h.decoupled) pi -= h.lr * h.weightDecay * pi;
        else gi += h.weightDecay * pi;
      }
      const mi = h.beta1 * m[i] + (1 - h.beta1) * gi;
      const vi = h.beta2 * v[i] + (1 - h.beta2) * gi * gi;
      m[i] = mi;
      v[i] = vi;
      p[i] = pi - (step * mi) / (Math.sqrt(vi) * rb2 + h.eps);
    }
  },
};

export type { ConvGeom, PoolGeom, PoolMode, FArray };
