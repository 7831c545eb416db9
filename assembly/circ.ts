import { fftRange } from './fft';
import { madd } from './gemm';

// Block-circulant fully connected layer at inference, small batches, in one call:
// y[b] = irfft( Σ_r W[s, r] ⊙ rfft(x[b, r]) ) (+ bias) for every output block s.
// The per-call cost at batch 1 was mostly op overheads (three ops, their tensors), and the
// product over r for few bins (N = 8: 5 bins) ran its loops over the bins. Here the product
// is one complex matrix–vector product per bin, vectorised over the output blocks s and
// accumulated in registers, with the weight spectra bin-major: wr, wi [F × R × S] (F = N/2 + 1).
// The transforms run four vectors at a time (fft.ts's lane form): R and S are rounded up to
// multiples of 4 with zero rows, since one lane-form group beat 1–3 single-row transforms.

/** v rounded up to a multiple of 4. */
// @ts-ignore: decorator
@inline function up4(v: i32): i32 {
  return (v + 3) & ~3;
}

/** Floats of scratch circGemv needs (per call). */
export function circGemvScratch(R: i32, S: i32, N: i32): i32 {
  const F = (N >> 1) + 1,
    R4 = up4(R),
    S4 = up4(S);
  return R4 * N + 2 * R4 * F + 4 * S4 * F + S4 * N + 8 * N + 8 + 32;
}

/** acc + w·v (fused in the relaxed-SIMD build). */
// @ts-ignore: decorator
@inline function cmac(acc: v128, w: v128, v: v128): v128 {
  return madd(w, v, acc);
}

/** x [B × R·N] → y [B × S·N]; bias [S·N] or 0; tables as in fft.ts; work: circGemvScratch floats. */
export function circGemv(
  x: usize,
  B: i32,
  R: i32,
  S: i32,
  N: i32,
  wr: usize,
  wi: usize,
  bias: usize,
  y: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
): void {
  const F = (N >> 1) + 1,
    R4 = up4(R),
    S4 = up4(S),
    rowS = (<usize>S) << 2;
  const xs = work; // input rows, zero-padded to R4 [R4 × N]
  const xr = xs + ((<usize>(R4 * N)) << 2),
    xi = xr + ((<usize>(R4 * F)) << 2);
  const ar = xi + ((<usize>(R4 * F)) << 2),
    ai = ar + ((<usize>(S4 * F)) << 2); // products [F × S]
  const yr = ai + ((<usize>(S4 * F)) << 2),
    yi = yr + ((<usize>(S4 * F)) << 2); // rows [S4 × F] for the inverse
  const ys = yi + ((<usize>(S4 * F)) << 2); // output rows [S4 × N]
  const fw = (ys + ((<usize>(S4 * N)) << 2) + 15) & ~(<usize>15);
  const rowsIn = (<usize>(R * N)) << 2,
    rowsOut = (<usize>(S * N)) << 2;
  memory.fill(xs + rowsIn, 0, (<usize>((R4 - R) * N)) << 2);
  memory.fill(yr, 0, (<usize>(2 * S4 * F)) << 2);
  const S16 = S & ~15,
    Sv = S & ~3;
  for (let b = 0; b < B; b++) {
    memory.copy(xs, x + <usize>b * rowsIn, rowsIn);
    fftRange(true, xs, N, xr, xi, tw, sp, rev, fw, 0, R4, 0, 0, 0);
    for (let f = 0; f < F; f++) {
      const pr0 = wr + <usize>(f * R) * rowS,
        pi0 = wi + <usize>(f * R) * rowS,
        outR = ar + <usize>f * rowS,
        outI = ai + <usize>f * rowS;
      // (Wr + i·Wi)(u + i·v) = (Wr·u − Wi·v) + i(Wr·v + Wi·u): 16 outputs at a time in registers.
      let s = 0;
      for (; s < S16; s += 16) {
        let r0 = f32x4.splat(0),
          r1 = r0,
          r2 = r0,
          r3 = r0,
          i0 = r0,
          i1 = r0,
          i2 = r0,
          i3 = r0;
        let pr = pr0 + ((<usize>s) << 2),
          pi = pi0 + ((<usize>s) << 2);
        for (let r = 0; r < R; r++, pr += rowS, pi += rowS) {
          const o = (<usize>(r * F + f)) << 2;
          const u = f32x4.splat(load<f32>(xr + o)),
            v = f32x4.splat(load<f32>(xi + o)),
            nv = f32x4.neg(v);
          const a0 = v128.load(pr),
            a1 = v128.load(pr, 16),
            a2 = v128.load(pr, 32),
            a3 = v128.load(pr, 48);
          const c0 = v128.load(pi),
            c1 = v128.load(pi, 16),
            c2 = v128.load(pi, 32),
            c3 = v128.load(pi, 48);
          r0 = cmac(cmac(r0, a0, u), c0, nv);
          r1 = cmac(cmac(r1, a1, u), c1, nv);
          r2 = cmac(cmac(r2, a2, u), c2, nv);
          r3 = cmac(cmac(r3, a3, u), c3, nv);
          i0 = cmac(cmac(i0, a0, v), c0, u);
          i1 = cmac(cmac(i1, a1, v), c1, u);
          i2 = cmac(cmac(i2, a2, v), c2, u);
          i3 = cmac(cmac(i3, a3, v), c3, u);
        }
        const q = (<usize>s) << 2;
        v128.store(outR + q, r0);
        v128.store(outR + q, r1, 16);
        v128.store(outR + q, r2, 32);
        v128.store(outR + q, r3, 48);
        v128.store(outI + q, i0);
        v128.store(outI + q, i1, 16);
        v128.store(outI + q, i2, 32);
        v128.store(outI + q, i3, 48);
      }
      for (; s < Sv; s += 4) {
        let r0 = f32x4.splat(0),
          i0 = r0;
        let pr = pr0 + ((<usize>s) << 2),
          pi = pi0 + ((<usize>s) << 2);
        for (let r = 0; r < R; r++, pr += rowS, pi += rowS) {
          const o = (<usize>(r * F + f)) << 2;
          const u = f32x4.splat(load<f32>(xr + o)),
            v = f32x4.splat(load<f32>(xi + o));
          const a0 = v128.load(pr),
            c0 = v128.load(pi);
          r0 = cmac(cmac(r0, a0, u), c0, f32x4.neg(v));
          i0 = cmac(cmac(i0, a0, v), c0, u);
        }
        v128.store(outR + ((<usize>s) << 2), r0);
        v128.store(outI + ((<usize>s) << 2), i0);
      }
      for (; s < S; s++) {
        let sr: f32 = 0,
          si: f32 = 0;
        for (let r = 0; r < R; r++) {
          const o = (<usize>(r * F + f)) << 2,
            w = (<usize>((f * R + r) * S + s)) << 2;
          const u = load<f32>(xr + o),
            v = load<f32>(xi + o),
            a = load<f32>(wr + w),
            c = load<f32>(wi + w);
          sr += a * u - c * v;
          si += a * v + c * u;
        }
        store<f32>(outR + ((<usize>s) << 2), sr);
        store<f32>(outI + ((<usize>s) << 2), si);
      }
    }
    // [F × S] → rows [S × F] for the inverse (rows S … S4 stay zero).
    for (let f = 0; f < F; f++)
      for (let s = 0; s < S; s++) {
        const from = (<usize>(f * S + s)) << 2,
          to = (<usize>(s * F + f)) << 2;
        store<f32>(yr + to, load<f32>(ar + from));
        store<f32>(yi + to, load<f32>(ai + from));
      }
    fftRange(false, ys, N, yr, yi, tw, sp, rev, fw, 0, S4, 0, 0, 0);
    const yb = y + <usize>b * rowsOut,
      n = S * N;
    if (bias == 0) {
      memory.copy(yb, ys, rowsOut);
      continue;
    }
    let i = 0;
    for (; i + 4 <= n; i += 4) {
      const q = (<usize>i) << 2;
      v128.store(yb + q, f32x4.add(v128.load(ys + q), v128.load(bias + q)));
    }
    for (; i < n; i++) {
      const q = (<usize>i) << 2;
      store<f32>(yb + q, load<f32>(ys + q) + load<f32>(bias + q));
    }
  }
}
