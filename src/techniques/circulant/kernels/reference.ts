// Reference FFT kernels: the plain DFT by definition (the test oracle), float32 or float64.
import { reference } from '../../../backend/reference.js';
import type { FftKernels } from './index.js';
import { packSpectra, stridedRows } from './bins.js';

export const fftReference: FftKernels = {
  rfft(x, M, N, re, im) {
    const F = (N >> 1) + 1;
    for (let m = 0; m < M; m++)
      for (let k = 0; k < F; k++) {
        let sr = 0,
          si = 0;
        for (let n = 0; n < N; n++) {
          const t = (-2 * Math.PI * ((k * n) % N)) / N;
          sr += x[m * N + n] * Math.cos(t);
          si += x[m * N + n] * Math.sin(t);
        }
        re[m * F + k] = sr;
        im[m * F + k] = si;
      }
  },
  irfft(re, im, M, N, x) {
    const F = (N >> 1) + 1;
    for (let m = 0; m < M; m++)
      for (let n = 0; n < N; n++) {
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
    const F = (N >> 1) + 1,
      re = new Float64Array(M * F),
      im = new Float64Array(M * F);
    this.rfft(P > 1 ? stridedRows(x, M / P, N, P, false) : x, M, N, re, im);
    packSpectra(re, im, M, N, RP, out, false);
  },
  irfftPacked(packed, M, N, RP, x, P = 1) {
    const F = (N >> 1) + 1,
      re = new Float64Array(M * F),
      im = new Float64Array(M * F);
    packSpectra(re, im, M, N, RP, packed, true);
    if (P === 1) {
      this.irfft(re, im, M, N, x);
      return;
    }
    const rows = new Float64Array(M * N);
    this.irfft(re, im, M, N, rows);
    x.set(stridedRows(rows, M / P, N, P, true));
  },
  cbin(a, w, y, B, R, S, F, mode) {
    const [ar, ai] = a,
      [wr, wi] = w,
      [yr, yi] = y;
    const [I, J, K] = mode === 0 ? [B, S, R] : mode === 1 ? [B, R, S] : [S, R, B];
    for (let i = 0; i < I; i++)
      for (let j = 0; j < J; j++)
        for (let f = 0; f < F; f++) {
          let sr = 0,
            si = 0;
          for (let k = 0; k < K; k++) {
            const p = (mode === 2 ? k * I + i : i * K + k) * F + f,
              q = (mode === 0 ? j * K + k : k * J + j) * F + f;
            if (mode === 0) {
              sr += ar[p] * wr[q] - ai[p] * wi[q];
              si += ar[p] * wi[q] + ai[p] * wr[q];
            } else {
              sr += ar[p] * wr[q] + ai[p] * wi[q];
              si += ai[p] * wr[q] - ar[p] * wi[q];
            }
          }
          yr[(i * J + j) * F + f] = sr;
          yi[(i * J + j) * F + f] = si;
        }
  },
  circGemv(x, B, R, S, N, wt, bias, y) {
    const F = (N >> 1) + 1,
      FRS = F * R * S;
    const xr = new Float64Array(R * F),
      xi = new Float64Array(R * F),
      yr = new Float64Array(S * F),
      yi = new Float64Array(S * F),
      row = new Float64Array(S * N);
    for (let b = 0; b < B; b++) {
      this.rfft(x.subarray(b * R * N, (b + 1) * R * N), R, N, xr, xi);
      yr.fill(0);
      yi.fill(0);
      for (let s = 0; s < S; s++)
        for (let r = 0; r < R; r++)
          for (let f = 0; f < F; f++) {
            const w = (f * R + r) * S + s,
              a = wt[w],
              c = wt[FRS + w],
              u = xr[r * F + f],
              v = xi[r * F + f];
            yr[s * F + f] += a * u - c * v;
            yi[s * F + f] += a * v + c * u;
          }
      this.irfft(yr, yi, S, N, row);
      for (let i = 0; i < S * N; i++) y[b * S * N + i] = row[i] + (bias ? bias[i] : 0);
    }
  },
  binConv2dForward(x, w, g, bins, out) {
    const xs = x.length / bins,
      ws = w.length / bins,
      ys = out.length / bins;
    for (let h = 0; h < bins; h++)
      reference.conv2dForward(
        x.subarray(h * xs, (h + 1) * xs),
        w.subarray(h * ws, (h + 1) * ws),
        null,
        g,
        out.subarray(h * ys, (h + 1) * ys),
      );
  },
};
