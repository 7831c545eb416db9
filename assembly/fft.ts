// Batched real FFTs of power-of-two length N (circulant layers, CircConv / CirCNN).
// A real transform of length N is a complex transform of length L = N/2 on z[n] = x[2n] + i·x[2n+1]
// followed by a split step. The complex transform is iterative radix-2 on split (re, im) arrays,
// decimation in time after a bit-reversal permutation; stages with half-size h ≥ 4 run four
// butterflies per SIMD instruction. Tables (built by the caller, in float32):
//   tw:  for h = 1, 2, 4, …, L/2: h cosines then h sines of −2πj/(2h)   (2·(L−1) floats)
//   sp:  cos and sin of −2πk/N for k = 0 … L−1 (the split step)          (2·L floats)
//   rev: bit reversal of 0 … L−1 (i32)

@inline function cfft(re: usize, im: usize, L: i32, tw: usize, inverse: bool): void {
  let t = tw;
  for (let h = 1; h < L; h <<= 1) {
    const c = t, s = t + (<usize>h << 2);
    if (h >= 4) {
      for (let g = 0; g < L; g += h << 1) {
        const a0 = <usize>g << 2, b0 = <usize>(g + h) << 2;
        for (let j = 0; j < h; j += 4) {
          const o = <usize>j << 2;
          const wr = v128.load(c + o);
          let wi = v128.load(s + o);
          if (inverse) wi = f32x4.neg(wi);
          const br = v128.load(re + b0 + o), bi = v128.load(im + b0 + o);
          const tr = f32x4.sub(f32x4.mul(wr, br), f32x4.mul(wi, bi));
          const ti = f32x4.add(f32x4.mul(wr, bi), f32x4.mul(wi, br));
          const ar = v128.load(re + a0 + o), ai = v128.load(im + a0 + o);
          v128.store(re + b0 + o, f32x4.sub(ar, tr)); v128.store(im + b0 + o, f32x4.sub(ai, ti));
          v128.store(re + a0 + o, f32x4.add(ar, tr)); v128.store(im + a0 + o, f32x4.add(ai, ti));
        }
      }
    } else {
      for (let g = 0; g < L; g += h << 1) {
        for (let j = 0; j < h; j++) {
          const wr = load<f32>(c + (<usize>j << 2));
          const wi = inverse ? -load<f32>(s + (<usize>j << 2)) : load<f32>(s + (<usize>j << 2));
          const a = <usize>(g + j) << 2, b = <usize>(g + j + h) << 2;
          const br = load<f32>(re + b), bi = load<f32>(im + b);
          const tr = wr * br - wi * bi, ti = wr * bi + wi * br;
          const ar = load<f32>(re + a), ai = load<f32>(im + a);
          store<f32>(re + b, ar - tr); store<f32>(im + b, ai - ti);
          store<f32>(re + a, ar + tr); store<f32>(im + a, ai + ti);
        }
      }
    }
    t += <usize>h << 3;
  }
}

/**
 * Real FFT of M vectors: x [M × N] → X [M × (N/2+1)] as separate planes re and im,
 * X[k] = Σ_n x[n]·e^(−2πikn/N). work: 2·L floats.
 */
export function rfft(x: usize, M: i32, N: i32, re: usize, im: usize, tw: usize, sp: usize, rev: usize, work: usize): void {
  const F = (N >> 1) + 1;
  if (N == 1) {
    for (let m = 0; m < M; m++) { store<f32>(re + (<usize>m << 2), load<f32>(x + (<usize>m << 2))); store<f32>(im + (<usize>m << 2), 0); }
    return;
  }
  const L = N >> 1, zr = work, zi = work + (<usize>L << 2);
  for (let m = 0; m < M; m++) {
    const xm = x + (<usize>(m * N) << 2);
    for (let n = 0; n < L; n++) {
      const r = <usize>load<i32>(rev + (<usize>n << 2)) << 3;
      store<f32>(zr + (<usize>n << 2), load<f32>(xm + r));
      store<f32>(zi + (<usize>n << 2), load<f32>(xm + r + 4));
    }
    cfft(zr, zi, L, tw, false);
    const or = re + (<usize>(m * F) << 2), oi = im + (<usize>(m * F) << 2);
    // Split: E = (Z[k] + conj Z[L−k])/2, O = (Z[k] − conj Z[L−k])/(2i), X[k] = E + e^(−2πik/N)·O.
    const z0r = load<f32>(zr), z0i = load<f32>(zi);
    store<f32>(or, z0r + z0i); store<f32>(oi, 0);
    store<f32>(or + (<usize>L << 2), z0r - z0i); store<f32>(oi + (<usize>L << 2), 0);
    for (let k = 1; k < L; k++) {
      const a = <usize>k << 2, b = <usize>(L - k) << 2;
      const pr = load<f32>(zr + a), pi = load<f32>(zi + a), qr = load<f32>(zr + b), qi = -load<f32>(zi + b);
      const er = <f32>0.5 * (pr + qr), ei = <f32>0.5 * (pi + qi);
      // (p − q)/(2i) = ((pi − qi) − i(pr − qr))/2
      const dr = <f32>0.5 * (pi - qi), di = <f32>-0.5 * (pr - qr);
      const c = load<f32>(sp + a), s = load<f32>(sp + (<usize>L << 2) + a);
      store<f32>(or + a, er + c * dr - s * di);
      store<f32>(oi + a, ei + c * di + s * dr);
    }
  }
}

/**
 * Inverse real FFT of M half spectra: (re, im) [M × (N/2+1)] → x [M × N],
 * x[n] = (1/N)·Σ_k X[k]·e^(2πikn/N) over the Hermitian extension; the imaginary parts of
 * bins 0 and N/2 are ignored (as numpy's irfft does).
 */
export function irfft(re: usize, im: usize, M: i32, N: i32, x: usize, tw: usize, sp: usize, rev: usize, work: usize): void {
  const F = (N >> 1) + 1;
  if (N == 1) {
    for (let m = 0; m < M; m++) store<f32>(x + (<usize>m << 2), load<f32>(re + (<usize>m << 2)));
    return;
  }
  const L = N >> 1, zr = work, zi = work + (<usize>L << 2);
  const inv: f32 = 1.0 / <f32>L;
  for (let m = 0; m < M; m++) {
    const ir = re + (<usize>(m * F) << 2), ii = im + (<usize>(m * F) << 2);
    // Z[k] = E[k] + i·O[k] with E = (X[k] + conj X[L−k])/2, O = e^(2πik/N)·(X[k] − conj X[L−k])/2,
    // written straight into bit-reversed order.
    for (let k = 0; k < L; k++) {
      const a = <usize>k << 2, b = <usize>(L - k) << 2;
      const pr = load<f32>(ir + a), pi: f32 = k == 0 ? 0 : load<f32>(ii + a);
      const qr = load<f32>(ir + b), qi: f32 = k == 0 ? 0 : -load<f32>(ii + b);
      const er = <f32>0.5 * (pr + qr), ei = <f32>0.5 * (pi + qi);
      const dr = <f32>0.5 * (pr - qr), di = <f32>0.5 * (pi - qi);
      const c = load<f32>(sp + a), s = -load<f32>(sp + (<usize>L << 2) + a);
      const or = c * dr - s * di, oi = c * di + s * dr;
      const r = <usize>load<i32>(rev + a) << 2;
      store<f32>(zr + r, er - oi);
      store<f32>(zi + r, ei + or);
    }
    cfft(zr, zi, L, tw, true);
    const xm = x + (<usize>(m * N) << 2);
    for (let n = 0; n < L; n++) {
      store<f32>(xm + (<usize>n << 3), load<f32>(zr + (<usize>n << 2)) * inv);
      store<f32>(xm + (<usize>n << 3) + 4, load<f32>(zi + (<usize>n << 2)) * inv);
    }
  }
}

// Rows of the two factors of output (i, j) at summation index k, for each mode of cbin.
// @ts-ignore: decorator
@inline function leftRow(mode: i32, i: i32, k: i32, I: i32, K: i32): usize { return <usize>(mode == 2 ? k * I + i : i * K + k); }
// @ts-ignore: decorator
@inline function rightRow(mode: i32, j: i32, k: i32, J: i32, K: i32): usize { return <usize>(mode == 0 ? j * K + k : k * J + j); }

/**
 * Complex products summed over one axis, bin by bin (the frequency domain of a block-circulant
 * product); planes re/im are separate, bins f contiguous and done four at a time.
 *   mode 0: Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f]           A [B×R×F], W [S×R×F] → Y [B×S×F]
 *   mode 1: Y[b,r,f] = Σ_s conj(W[s,r,f])·A[b,s,f]     (gradient of A; A is the output gradient)
 *   mode 2: Y[s,r,f] = Σ_b A[b,s,f]·conj(W[b,r,f])     (gradient of W; W holds the input spectra)
 */
export function cbin(ar: usize, ai: usize, wr: usize, wi: usize, yr: usize, yi: usize, B: i32, R: i32, S: i32, F: i32, mode: i32): void {
  // Each output row (i, j) is Σ_k P[i,k]·Q[j,k] (maybe conjugated) over rows of F bins.
  let I = B, J = S, K = R;
  if (mode == 1) { I = B; J = R; K = S; } else if (mode == 2) { I = S; J = R; K = B; }
  const rowF = <usize>F << 2;
  for (let i = 0; i < I; i++) {
    for (let j = 0; j < J; j++) {
      const y = <usize>(i * J + j) * rowF;
      let f = 0;
      for (; f + 4 <= F; f += 4) {
        let sr = f32x4.splat(0), si = f32x4.splat(0);
        const o = <usize>f << 2;
        for (let k = 0; k < K; k++) {
          // p: the left factor, q: the right (conjugated in modes 1 and 2).
          const p = leftRow(mode, i, k, I, K) * rowF, q = rightRow(mode, j, k, J, K) * rowF;
          const pr = v128.load(ar + p + o), pi = v128.load(ai + p + o), qr = v128.load(wr + q + o), qi = v128.load(wi + q + o);
          sr = f32x4.add(sr, f32x4.mul(pr, qr));
          if (mode == 0) {
            sr = f32x4.sub(sr, f32x4.mul(pi, qi));
            si = f32x4.add(si, f32x4.add(f32x4.mul(pr, qi), f32x4.mul(pi, qr)));
          } else {
            sr = f32x4.add(sr, f32x4.mul(pi, qi));
            si = f32x4.add(si, f32x4.sub(f32x4.mul(pi, qr), f32x4.mul(pr, qi)));
          }
        }
        v128.store(yr + y + o, sr); v128.store(yi + y + o, si);
      }
      for (; f < F; f++) {
        let sr: f32 = 0, si: f32 = 0;
        const o = <usize>f << 2;
        for (let k = 0; k < K; k++) {
          const p = leftRow(mode, i, k, I, K) * rowF, q = rightRow(mode, j, k, J, K) * rowF;
          const pr = load<f32>(ar + p + o), pi = load<f32>(ai + p + o), qr = load<f32>(wr + q + o), qi = load<f32>(wi + q + o);
          if (mode == 0) { sr += pr * qr - pi * qi; si += pr * qi + pi * qr; }
          else { sr += pr * qr + pi * qi; si += pi * qr - pr * qi; }
        }
        store<f32>(yr + y + o, sr); store<f32>(yi + y + o, si);
      }
    }
  }
}
