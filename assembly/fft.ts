import { claim } from './gemm';

// Batched real FFTs of power-of-two length N (circulant layers, CircConv / CirCNN).
// A real transform of length N is a complex transform of length L = N/2 on z[n] = x[2n] + i·x[2n+1]
// followed by a split step. The complex transform is iterative radix-2 on split (re, im) arrays,
// decimation in time after a bit-reversal permutation, with the stages fused in pairs (radix 2²,
// one pass over the data per two stages); stages with half-size h ≥ 4 run four butterflies per
// SIMD instruction. Tables (built by the caller, in float32):
//   tw:  for h = 1, 2, 4, …, L/2: h cosines then h sines of −2πj/(2h)   (2·(L−1) floats)
//   sp:  cos and sin of −2πk/N for k = 0 … L−1 (the split step)          (2·L floats)
//   rev: bit reversal of 0 … L−1 (i32)

@inline function cfft(re: usize, im: usize, L: i32, tw: usize, inverse: bool): void {
  // Stages h = 1 and 2 one butterfly at a time; from h = 4 four butterflies per instruction,
  // two stages at once (radix 2²: one load and store of the data per pair of stages).
  let h = 1;
  for (; h < L && h < 4; h <<= 1) {
    const c = tw + ((<usize>(2 * (h - 1))) << 2),
      s = c + ((<usize>h) << 2);
    for (let g = 0; g < L; g += h << 1) {
      for (let j = 0; j < h; j++) {
        const wr = load<f32>(c + ((<usize>j) << 2));
        const wi = inverse ? -load<f32>(s + ((<usize>j) << 2)) : load<f32>(s + ((<usize>j) << 2));
        const a = (<usize>(g + j)) << 2,
          b = (<usize>(g + j + h)) << 2;
        const br = load<f32>(re + b),
          bi = load<f32>(im + b);
        const tr = wr * br - wi * bi,
          ti = wr * bi + wi * br;
        const ar = load<f32>(re + a),
          ai = load<f32>(im + a);
        store<f32>(re + b, ar - tr);
        store<f32>(im + b, ai - ti);
        store<f32>(re + a, ar + tr);
        store<f32>(im + a, ai + ti);
      }
    }
  }
  if (h < L && (ctz(L / h) & 1) != 0) {
    // An odd number of stages left: one radix-2 stage.
    const c = tw + ((<usize>(2 * (h - 1))) << 2),
      s = c + ((<usize>h) << 2);
    for (let g = 0; g < L; g += h << 1) {
      const a0 = (<usize>g) << 2,
        b0 = (<usize>(g + h)) << 2;
      for (let j = 0; j < h; j += 4) {
        const o = (<usize>j) << 2;
        const wr = v128.load(c + o);
        let wi = v128.load(s + o);
        if (inverse) wi = f32x4.neg(wi);
        const br = v128.load(re + b0 + o),
          bi = v128.load(im + b0 + o);
        const tr = f32x4.sub(f32x4.mul(wr, br), f32x4.mul(wi, bi));
        const ti = f32x4.add(f32x4.mul(wr, bi), f32x4.mul(wi, br));
        const ar = v128.load(re + a0 + o),
          ai = v128.load(im + a0 + o);
        v128.store(re + b0 + o, f32x4.sub(ar, tr));
        v128.store(im + b0 + o, f32x4.sub(ai, ti));
        v128.store(re + a0 + o, f32x4.add(ar, tr));
        v128.store(im + a0 + o, f32x4.add(ai, ti));
      }
    }
    h <<= 1;
  }
  for (; h < L; h <<= 2) {
    const c1 = tw + ((<usize>(2 * (h - 1))) << 2),
      s1 = c1 + ((<usize>h) << 2);
    const c2 = tw + ((<usize>(2 * (2 * h - 1))) << 2),
      s2 = c2 + ((<usize>(2 * h)) << 2);
    const hb = (<usize>h) << 2;
    for (let g = 0; g < L; g += h << 2) {
      const a0 = (<usize>g) << 2;
      for (let j = 0; j < h; j += 4) {
        const o = (<usize>j) << 2,
          pa = a0 + o;
        const w1r = v128.load(c1 + o),
          w2r = v128.load(c2 + o);
        let w1i = v128.load(s1 + o),
          w2i = v128.load(s2 + o);
        if (inverse) {
          w1i = f32x4.neg(w1i);
          w2i = f32x4.neg(w2i);
        }
        radix22(re + pa, im + pa, hb, w1r, w1i, w2r, w2i, inverse);
      }
    }
  }
}

/**
 * Two radix-2 stages on the points a, b = a + h, c = a + 2h, d = a + 3h of a group of 4h,
 * in place at pr, pi (real and imaginary parts; byte stride hb from a to b): stage h pairs
 * (a, b) and (c, d) with w1 = e^(∓iπj/h); stage 2h pairs (a, c) with w2 = e^(∓iπj/(2h)) and
 * (b, d) with e^(∓iπ(j+h)/(2h)) = ∓i·w2.
 */
// @ts-ignore: decorator
@inline function radix22(
  pr: usize,
  pi: usize,
  hb: usize,
  w1r: v128,
  w1i: v128,
  w2r: v128,
  w2i: v128,
  inverse: bool,
): void {
  const ar = v128.load(pr),
    ai = v128.load(pi),
    br = v128.load(pr + hb),
    bi = v128.load(pi + hb);
  const cr = v128.load(pr + 2 * hb),
    ci = v128.load(pi + 2 * hb),
    dr = v128.load(pr + 3 * hb),
    di = v128.load(pi + 3 * hb);
  const tr = f32x4.sub(f32x4.mul(w1r, br), f32x4.mul(w1i, bi)),
    ti = f32x4.add(f32x4.mul(w1r, bi), f32x4.mul(w1i, br));
  const ur = f32x4.sub(f32x4.mul(w1r, dr), f32x4.mul(w1i, di)),
    ui = f32x4.add(f32x4.mul(w1r, di), f32x4.mul(w1i, dr));
  const a1r = f32x4.add(ar, tr),
    a1i = f32x4.add(ai, ti),
    b1r = f32x4.sub(ar, tr),
    b1i = f32x4.sub(ai, ti);
  const c1r = f32x4.add(cr, ur),
    c1i = f32x4.add(ci, ui),
    d1r = f32x4.sub(cr, ur),
    d1i = f32x4.sub(ci, ui);
  const vr = f32x4.sub(f32x4.mul(w2r, c1r), f32x4.mul(w2i, c1i)),
    vi = f32x4.add(f32x4.mul(w2r, c1i), f32x4.mul(w2i, c1r));
  // x = w2·d1, then times −i (forward) or +i (inverse): −i·(xr + i·xi) = xi − i·xr.
  const xr = f32x4.sub(f32x4.mul(w2r, d1r), f32x4.mul(w2i, d1i)),
    xi = f32x4.add(f32x4.mul(w2r, d1i), f32x4.mul(w2i, d1r));
  const yr = inverse ? f32x4.neg(xi) : xi,
    yi = inverse ? xr : f32x4.neg(xr);
  v128.store(pr, f32x4.add(a1r, vr));
  v128.store(pi, f32x4.add(a1i, vi));
  v128.store(pr + 2 * hb, f32x4.sub(a1r, vr));
  v128.store(pi + 2 * hb, f32x4.sub(a1i, vi));
  v128.store(pr + hb, f32x4.add(b1r, yr));
  v128.store(pi + hb, f32x4.add(b1i, yi));
  v128.store(pr + 3 * hb, f32x4.sub(b1r, yr));
  v128.store(pi + 3 * hb, f32x4.sub(b1i, yi));
}

// ---- Four vectors at once: lane i of every v128 belongs to vector m + i, so every butterfly
// stage (and the split step) is full-width SIMD whatever N is; rows are moved in and out of
// lane form by 4×4 transposes. Work: 8·N + 8 floats. Above LANES_MAX_N that work (128 KB at
// N = 4096) no longer stays in cache and one vector at a time was faster (measured, 1 thread).
const LANES_MAX_N = 2048;

// @ts-ignore: decorator
@inline function tlo(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 4, 1, 5);
}
// @ts-ignore: decorator
@inline function thi(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 2, 6, 3, 7);
}
// @ts-ignore: decorator
@inline function clo(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 0, 1, 4, 5);
}
// @ts-ignore: decorator
@inline function chi(a: v128, b: v128): v128 {
  return v128.shuffle<f32>(a, b, 2, 3, 6, 7);
}

/** Rows p + i·stride (i = 0…3, 4 floats each) ↔ lane form at q, q+16, q+32, q+48 (when toRows, the reverse). */
// @ts-ignore: decorator
@inline function transpose4(p: usize, stride: usize, q: usize, qStride: usize): void {
  const r0 = v128.load(p),
    r1 = v128.load(p + stride),
    r2 = v128.load(p + 2 * stride),
    r3 = v128.load(p + 3 * stride);
  const t0 = tlo(r0, r1),
    t1 = tlo(r2, r3),
    t2 = thi(r0, r1),
    t3 = thi(r2, r3);
  v128.store(q, clo(t0, t1));
  v128.store(q + qStride, chi(t0, t1));
  v128.store(q + 2 * qStride, clo(t2, t3));
  v128.store(q + 3 * qStride, chi(t2, t3));
}

// @ts-ignore: decorator
@inline function cfft4(zr: usize, zi: usize, L: i32, tw: usize, inverse: bool): void {
  // Lane form: every stage is full-width. Stages run two at a time (radix 2²: one load and
  // store of the data per pair); with an odd count, stage h = 1 (twiddle 1) runs alone first.
  let h = 1;
  if ((ctz(L) & 1) != 0) {
    for (let g = 0; g < L; g += 2) {
      const a = (<usize>g) << 4,
        b = a + 16;
      const ar = v128.load(zr + a),
        ai = v128.load(zi + a),
        br = v128.load(zr + b),
        bi = v128.load(zi + b);
      v128.store(zr + a, f32x4.add(ar, br));
      v128.store(zi + a, f32x4.add(ai, bi));
      v128.store(zr + b, f32x4.sub(ar, br));
      v128.store(zi + b, f32x4.sub(ai, bi));
    }
    h = 2;
  }
  for (; h < L; h <<= 2) {
    const c1 = tw + ((<usize>(2 * (h - 1))) << 2),
      s1 = c1 + ((<usize>h) << 2);
    const c2 = tw + ((<usize>(2 * (2 * h - 1))) << 2),
      s2 = c2 + ((<usize>(2 * h)) << 2);
    const hb = (<usize>h) << 4;
    for (let j = 0; j < h; j++) {
      const o = (<usize>j) << 2;
      const w1r = f32x4.splat(load<f32>(c1 + o)),
        w2r = f32x4.splat(load<f32>(c2 + o));
      const w1i = f32x4.splat(inverse ? -load<f32>(s1 + o) : load<f32>(s1 + o)),
        w2i = f32x4.splat(inverse ? -load<f32>(s2 + o) : load<f32>(s2 + o));
      for (let g = 0; g < L; g += h << 2) {
        const pa = (<usize>(g + j)) << 4;
        radix22(zr + pa, zi + pa, hb, w1r, w1i, w2r, w2i, inverse);
      }
    }
  }
}

/** Lane-form bins o[0 … F) (v128 each) → rows dst + i·F (scalar tail for F mod 4). */
// @ts-ignore: decorator
@inline function binsToRows(o: usize, dst: usize, F: i32): void {
  const rowB = (<usize>F) << 2;
  let k = 0;
  for (; k + 4 <= F; k += 4) {
    // Lane form [k … k+3] is a 4×4 block whose rows are bins; transposed, its rows are vectors.
    transpose4(o + ((<usize>k) << 4), 16, dst + ((<usize>k) << 2), rowB);
  }
  for (; k < F; k++) {
    const v = v128.load(o + ((<usize>k) << 4)),
      d = dst + ((<usize>k) << 2);
    store<f32>(d, f32x4.extract_lane(v, 0));
    store<f32>(d + rowB, f32x4.extract_lane(v, 1));
    store<f32>(d + 2 * rowB, f32x4.extract_lane(v, 2));
    store<f32>(d + 3 * rowB, f32x4.extract_lane(v, 3));
  }
}

/** Rows src + i·F → lane form o[0 … F). */
// @ts-ignore: decorator
@inline function rowsToBins(src: usize, o: usize, F: i32): void {
  const rowB = (<usize>F) << 2;
  let k = 0;
  for (; k + 4 <= F; k += 4) transpose4(src + ((<usize>k) << 2), rowB, o + ((<usize>k) << 4), 16);
  for (; k < F; k++) {
    const s = src + ((<usize>k) << 2);
    let v = f32x4.splat(load<f32>(s));
    v = f32x4.replace_lane(v, 1, load<f32>(s + rowB));
    v = f32x4.replace_lane(v, 2, load<f32>(s + 2 * rowB));
    v = f32x4.replace_lane(v, 3, load<f32>(s + 3 * rowB));
    v128.store(o + ((<usize>k) << 4), v);
  }
}

// Packed bin-major layout [H, B, 2, RP] of rfftBins (ops/fft.ts, backend/bins.ts): part c (0 real,
// 1 imaginary) of bin h < H of vector m = b·RP + r sits at ((h·B + b)·2 + c)·RP + r; the real
// X[N/2] takes bin 0's imaginary slot.

/** Lane-form (or, with lanes 1, one vector's) bins br, bi [F] of vectors m0 … m0+lanes−1 ↔ packed. */
function packedIO(
  br: usize,
  bi: usize,
  lanes: i32,
  m0: i32,
  H: i32,
  B: i32,
  RP: i32,
  packed: usize,
  gather: bool,
): void {
  const ls = <usize>(lanes << 2);
  // Index (h·2B + c)·RP + base(m), base(m) = 2·b·RP + (m − b·RP): one division per vector.
  const binStride = (<usize>(2 * B * RP)) << 2,
    partStride = (<usize>RP) << 2;
  if (lanes == 4 && RP % 4 == 0) {
    // The four vectors are adjacent in every run of RP: one v128 per bin and part.
    const b = m0 / RP,
      base = packed + ((<usize>(2 * b * RP + m0 - b * RP)) << 2);
    for (let k = 0; k < H; k++) {
      const p = base + <usize>k * binStride,
        q = br + <usize>k * ls;
      if (gather) v128.store(q, v128.load(p));
      else v128.store(p, v128.load(q));
    }
    for (let k = 1; k < H; k++) {
      const p = base + <usize>k * binStride + partStride,
        q = bi + <usize>k * ls;
      if (gather) v128.store(q, v128.load(p));
      else v128.store(p, v128.load(q));
    }
    // X[N/2] in bin 0's second slot.
    if (gather) v128.store(br + <usize>H * ls, v128.load(base + partStride));
    else v128.store(base + partStride, v128.load(br + <usize>H * ls));
  } else {
    for (let j = 0; j < lanes; j++) {
      const m = m0 + j,
        b = m / RP,
        base = packed + ((<usize>(2 * b * RP + m - b * RP)) << 2),
        o = <usize>(j << 2);
      for (let k = 0; k < H; k++) {
        const p = base + <usize>k * binStride,
          q = br + <usize>k * ls + o;
        if (gather) store<f32>(q, load<f32>(p));
        else store<f32>(p, load<f32>(q));
      }
      for (let k = 1; k < H; k++) {
        const p = base + <usize>k * binStride + partStride,
          q = bi + <usize>k * ls + o;
        if (gather) store<f32>(q, load<f32>(p));
        else store<f32>(p, load<f32>(q));
      }
      const q = br + <usize>H * ls + o;
      if (gather) store<f32>(q, load<f32>(base + partStride));
      else store<f32>(base + partStride, load<f32>(q));
    }
  }
  if (gather) {
    // Im X[0] and Im X[N/2] are not stored: zero.
    for (let j = 0; j < lanes; j++) {
      store<f32>(bi + <usize>(j << 2), 0);
      store<f32>(bi + <usize>H * ls + <usize>(j << 2), 0);
    }
  }
}

/**
 * Sixteen vectors m0 … m0+15 (one run of RP: RP and m0 multiples of 16) ↔ packed, from or to
 * four lane-form groups staged at stage + q·(2F v128s), q = 0…3 (bins br then bi, as rfft4
 * keeps them). Each bin's part is then one 64-byte run written or read at once: the parts lie
 * 2·M floats apart, so with one group at a time every 16-byte store went to a different line
 * in the same cache set (strides of a multiple of 4 KB) and the lines were evicted before the
 * next groups filled them (packed output ran 30–80% slower than rows).
 */
function packedIO16(stage: usize, F: i32, m0: i32, H: i32, B: i32, RP: i32, packed: usize, gather: bool): void {
  const b = m0 / RP,
    base = packed + ((<usize>(2 * b * RP + m0 - b * RP)) << 2);
  const binStride = (<usize>(2 * B * RP)) << 2,
    partStride = (<usize>RP) << 2,
    gs = (<usize>(2 * F)) << 4,
    bio = (<usize>F) << 4;
  for (let k = 0; k < H; k++) {
    const p = base + <usize>k * binStride,
      q = stage + ((<usize>k) << 4);
    if (gather) {
      v128.store(q, v128.load(p));
      v128.store(q + gs, v128.load(p, 16));
      v128.store(q + 2 * gs, v128.load(p, 32));
      v128.store(q + 3 * gs, v128.load(p, 48));
    } else {
      v128.store(p, v128.load(q));
      v128.store(p, v128.load(q + gs), 16);
      v128.store(p, v128.load(q + 2 * gs), 32);
      v128.store(p, v128.load(q + 3 * gs), 48);
    }
  }
  for (let k = 1; k < H; k++) {
    const p = base + <usize>k * binStride + partStride,
      q = stage + bio + ((<usize>k) << 4);
    if (gather) {
      v128.store(q, v128.load(p));
      v128.store(q + gs, v128.load(p, 16));
      v128.store(q + 2 * gs, v128.load(p, 32));
      v128.store(q + 3 * gs, v128.load(p, 48));
    } else {
      v128.store(p, v128.load(q));
      v128.store(p, v128.load(q + gs), 16);
      v128.store(p, v128.load(q + 2 * gs), 32);
      v128.store(p, v128.load(q + 3 * gs), 48);
    }
  }
  // X[N/2] in bin 0's second slot; when gathering, Im X[0] and Im X[N/2] (not stored) are zero.
  const p = base + partStride,
    q = stage + ((<usize>H) << 4),
    zero = f32x4.splat(0);
  for (let g = 0; g < 4; g++) {
    const o = <usize>g * gs;
    if (gather) {
      v128.store(q + o, v128.load(p + ((<usize>g) << 4)));
      v128.store(stage + bio + o, zero);
      v128.store(stage + bio + ((<usize>H) << 4) + o, zero);
    } else v128.store(p + ((<usize>g) << 4), v128.load(q + o));
  }
}

/**
 * Four real FFTs in lane form: rows xm + i·N (P = 0), or four adjacent positions xm + i of
 * vectors whose elements lie P apart (P > 0, a channel axis over pixels). Output rows of bins
 * (RP = 0) or packed slots of vectors m0 … m0+3.
 */
function rfft4(
  xm: usize,
  N: i32,
  or: usize,
  oi: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
  m0: i32,
  B: i32,
  RP: i32,
  P: i32,
  stage: usize,
): void {
  const L = N >> 1,
    F = L + 1,
    zr = work,
    zi = zr + ((<usize>L) << 4);
  const br = stage != 0 ? stage : zi + ((<usize>L) << 4),
    bi = br + ((<usize>F) << 4);
  const rowB = (<usize>N) << 2,
    half = f32x4.splat(0.5),
    step = (<usize>P) << 2;
  // Strided: z[n] = x[2n] + i·x[2n+1] is already in lane form.
  if (P > 0)
    for (let n = 0; n < L; n++) {
      const r = (<usize>load<i32>(rev + ((<usize>n) << 2))) << 4,
        q = xm + <usize>(2 * n) * step;
      v128.store(zr + r, v128.load(q));
      v128.store(zi + r, v128.load(q + step));
    }
  // Rows: elements 4e … 4e+3 of the four rows are z[2e] = x[4e] + i·x[4e+1] and z[2e+1], stored bit-reversed.
  else
    for (let e = 0; e < N >> 2; e++) {
      const r0 = v128.load(xm + ((<usize>e) << 4)),
        r1 = v128.load(xm + rowB + ((<usize>e) << 4));
      const r2 = v128.load(xm + 2 * rowB + ((<usize>e) << 4)),
        r3 = v128.load(xm + 3 * rowB + ((<usize>e) << 4));
      const t0 = tlo(r0, r1),
        t1 = tlo(r2, r3),
        t2 = thi(r0, r1),
        t3 = thi(r2, r3);
      const a = (<usize>load<i32>(rev + ((<usize>(2 * e)) << 2))) << 4,
        b = (<usize>load<i32>(rev + ((<usize>(2 * e + 1)) << 2))) << 4;
      v128.store(zr + a, clo(t0, t1));
      v128.store(zi + a, chi(t0, t1));
      v128.store(zr + b, clo(t2, t3));
      v128.store(zi + b, chi(t2, t3));
    }
  cfft4(zr, zi, L, tw, false);
  const z0r = v128.load(zr),
    z0i = v128.load(zi),
    zero = f32x4.splat(0);
  v128.store(br, f32x4.add(z0r, z0i));
  v128.store(bi, zero);
  v128.store(br + ((<usize>L) << 4), f32x4.sub(z0r, z0i));
  v128.store(bi + ((<usize>L) << 4), zero);
  for (let k = 1; k < L; k++) {
    const a = (<usize>k) << 4,
      b = (<usize>(L - k)) << 4;
    const pr = v128.load(zr + a),
      pi = v128.load(zi + a),
      qr = v128.load(zr + b),
      qi = f32x4.neg(v128.load(zi + b));
    const er = f32x4.mul(half, f32x4.add(pr, qr)),
      ei = f32x4.mul(half, f32x4.add(pi, qi));
    const dr = f32x4.mul(half, f32x4.sub(pi, qi)),
      di = f32x4.mul(half, f32x4.sub(qr, pr));
    const c = f32x4.splat(load<f32>(sp + ((<usize>k) << 2))),
      s = f32x4.splat(load<f32>(sp + ((<usize>(L + k)) << 2)));
    v128.store(br + a, f32x4.add(er, f32x4.sub(f32x4.mul(c, dr), f32x4.mul(s, di))));
    v128.store(bi + a, f32x4.add(ei, f32x4.add(f32x4.mul(c, di), f32x4.mul(s, dr))));
  }
  if (stage != 0) return; // the caller writes four groups at once (packedIO16)
  if (RP == 0) {
    binsToRows(br, or, F);
    binsToRows(bi, oi, F);
  } else packedIO(br, bi, 4, m0, L, B, RP, or, false);
}

/** Inverse of rfft4 (same layouts). */
function irfft4(
  ir: usize,
  ii: usize,
  N: i32,
  xm: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
  m0: i32,
  B: i32,
  RP: i32,
  P: i32,
  stage: usize,
): void {
  const L = N >> 1,
    F = L + 1,
    zr = work,
    zi = zr + ((<usize>L) << 4);
  const br = stage != 0 ? stage : zi + ((<usize>L) << 4),
    bi = br + ((<usize>F) << 4);
  const half = f32x4.splat(0.5),
    inv = f32x4.splat(<f32>1.0 / <f32>L),
    rowB = (<usize>N) << 2;
  if (stage != 0) {
    /* already gathered by the caller (packedIO16) */
  } else if (RP == 0) {
    rowsToBins(ir, br, F);
    rowsToBins(ii, bi, F);
    // The imaginary parts of bins 0 and N/2 are ignored.
    v128.store(bi, f32x4.splat(0));
    v128.store(bi + ((<usize>L) << 4), f32x4.splat(0));
  } else packedIO(br, bi, 4, m0, L, B, RP, ir, true);
  for (let k = 0; k < L; k++) {
    const a = (<usize>k) << 4,
      b = (<usize>(L - k)) << 4;
    const pr = v128.load(br + a),
      pi = v128.load(bi + a),
      qr = v128.load(br + b),
      qi = f32x4.neg(v128.load(bi + b));
    const er = f32x4.mul(half, f32x4.add(pr, qr)),
      ei = f32x4.mul(half, f32x4.add(pi, qi));
    const dr = f32x4.mul(half, f32x4.sub(pr, qr)),
      di = f32x4.mul(half, f32x4.sub(pi, qi));
    const c = f32x4.splat(load<f32>(sp + ((<usize>k) << 2))),
      s = f32x4.splat(-load<f32>(sp + ((<usize>(L + k)) << 2)));
    const o_r = f32x4.sub(f32x4.mul(c, dr), f32x4.mul(s, di)),
      o_i = f32x4.add(f32x4.mul(c, di), f32x4.mul(s, dr));
    const r = (<usize>load<i32>(rev + ((<usize>k) << 2))) << 4;
    v128.store(zr + r, f32x4.sub(er, o_i));
    v128.store(zi + r, f32x4.add(ei, o_r));
  }
  cfft4(zr, zi, L, tw, true);
  if (P > 0) {
    const step = (<usize>P) << 2;
    for (let n = 0; n < L; n++) {
      const q = xm + <usize>(2 * n) * step;
      v128.store(q, f32x4.mul(inv, v128.load(zr + ((<usize>n) << 4))));
      v128.store(q + step, f32x4.mul(inv, v128.load(zi + ((<usize>n) << 4))));
    }
    return;
  }
  // Row i gets x[2n], x[2n+1], x[2n+2], x[2n+3] = zr[n], zi[n], zr[n+1], zi[n+1] (lane i), scaled.
  for (let n = 0; n < L; n += 2) {
    const r0 = f32x4.mul(inv, v128.load(zr + ((<usize>n) << 4))),
      r1 = f32x4.mul(inv, v128.load(zi + ((<usize>n) << 4)));
    const r2 = f32x4.mul(inv, v128.load(zr + ((<usize>(n + 1)) << 4))),
      r3 = f32x4.mul(inv, v128.load(zi + ((<usize>(n + 1)) << 4)));
    const t0 = tlo(r0, r1),
      t1 = tlo(r2, r3),
      t2 = thi(r0, r1),
      t3 = thi(r2, r3);
    const d = xm + ((<usize>(2 * n)) << 2);
    v128.store(d, clo(t0, t1));
    v128.store(d + rowB, chi(t0, t1));
    v128.store(d + 2 * rowB, clo(t2, t3));
    v128.store(d + 3 * rowB, chi(t2, t3));
  }
}

/** One real FFT, x at xm (contiguous) → bins or, oi [F]; zr, zi: scratch of N/2 floats each. */
function rfftRow(
  xm: usize,
  N: i32,
  or: usize,
  oi: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  zr: usize,
  zi: usize,
): void {
  const L = N >> 1;
  for (let n = 0; n < L; n++) {
    const r = (<usize>load<i32>(rev + ((<usize>n) << 2))) << 3;
    store<f32>(zr + ((<usize>n) << 2), load<f32>(xm + r));
    store<f32>(zi + ((<usize>n) << 2), load<f32>(xm + r + 4));
  }
  cfft(zr, zi, L, tw, false);
  // Split: E = (Z[k] + conj Z[L−k])/2, O = (Z[k] − conj Z[L−k])/(2i), X[k] = E + e^(−2πik/N)·O.
  const z0r = load<f32>(zr),
    z0i = load<f32>(zi);
  store<f32>(or, z0r + z0i);
  store<f32>(oi, 0);
  store<f32>(or + ((<usize>L) << 2), z0r - z0i);
  store<f32>(oi + ((<usize>L) << 2), 0);
  for (let k = 1; k < L; k++) {
    const a = (<usize>k) << 2,
      b = (<usize>(L - k)) << 2;
    const pr = load<f32>(zr + a),
      pi = load<f32>(zi + a),
      qr = load<f32>(zr + b),
      qi = -load<f32>(zi + b);
    const er = <f32>0.5 * (pr + qr),
      ei = <f32>0.5 * (pi + qi);
    // (p − q)/(2i) = ((pi − qi) − i(pr − qr))/2
    const dr = <f32>0.5 * (pi - qi),
      di = <f32>-0.5 * (pr - qr);
    const c = load<f32>(sp + a),
      s = load<f32>(sp + ((<usize>L) << 2) + a);
    store<f32>(or + a, er + c * dr - s * di);
    store<f32>(oi + a, ei + c * di + s * dr);
  }
}

/** One inverse real FFT, bins ir, ii [F] → x at xm (contiguous); Im X[0] and Im X[N/2] ignored. */
function irfftRow(
  ir: usize,
  ii: usize,
  N: i32,
  xm: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  zr: usize,
  zi: usize,
): void {
  const L = N >> 1,
    inv: f32 = 1.0 / <f32>L;
  // Z[k] = E[k] + i·O[k] with E = (X[k] + conj X[L−k])/2, O = e^(2πik/N)·(X[k] − conj X[L−k])/2,
  // written straight into bit-reversed order.
  for (let k = 0; k < L; k++) {
    const a = (<usize>k) << 2,
      b = (<usize>(L - k)) << 2;
    const pr = load<f32>(ir + a),
      pi: f32 = k == 0 ? 0 : load<f32>(ii + a);
    const qr = load<f32>(ir + b),
      qi: f32 = k == 0 ? 0 : -load<f32>(ii + b);
    const er = <f32>0.5 * (pr + qr),
      ei = <f32>0.5 * (pi + qi);
    const dr = <f32>0.5 * (pr - qr),
      di = <f32>0.5 * (pi - qi);
    const c = load<f32>(sp + a),
      s = -load<f32>(sp + ((<usize>L) << 2) + a);
    const or = c * dr - s * di,
      oi = c * di + s * dr;
    const r = (<usize>load<i32>(rev + a)) << 2;
    store<f32>(zr + r, er - oi);
    store<f32>(zi + r, ei + or);
  }
  cfft(zr, zi, L, tw, true);
  for (let n = 0; n < L; n++) {
    store<f32>(xm + ((<usize>n) << 3), load<f32>(zr + ((<usize>n) << 2)) * inv);
    store<f32>(xm + ((<usize>n) << 3) + 4, load<f32>(zi + ((<usize>n) << 2)) * inv);
  }
}

/** Floats of scratch per thread: one lane-form group (8·N + 8) and four groups' staged bins (packedIO16, 4·8·F). */
export function fftWorkFloats(N: i32): i32 {
  return 8 * N + 8 + 32 * ((N >> 1) + 1);
}

/**
 * Real FFT of M vectors: x [M × N] → X [M × (N/2+1)] as separate planes re and im,
 * X[k] = Σ_n x[n]·e^(−2πikn/N). work: fftWorkFloats(N) floats.
 */
export function rfft(
  x: usize,
  M: i32,
  N: i32,
  re: usize,
  im: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
): void {
  fftRange(true, x, N, re, im, tw, sp, rev, work, 0, M, 0, 0, 0);
}

/** Inverse real FFT of M half spectra: (re, im) [M × (N/2+1)] → x [M × N], 1/N scaled (numpy's irfft). */
export function irfft(
  re: usize,
  im: usize,
  M: i32,
  N: i32,
  x: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
): void {
  fftRange(false, x, N, re, im, tw, sp, rev, work, 0, M, 0, 0, 0);
}

/**
 * rfft straight into the packed bin-major layout [N/2, M/RP, 2, RP] (above): N ≥ 2, P | RP | M.
 * P = 1: x [M × N]; P > 1: x [M/P × N × P], vector m = g·P + p running down the middle axis.
 */
export function rfftPacked(
  x: usize,
  M: i32,
  N: i32,
  RP: i32,
  P: i32,
  out: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
): void {
  fftRange(true, x, N, out, 0, tw, sp, rev, work, 0, P > 1 ? M / P : M, RP, M / RP, P > 1 ? P : 0);
}

/** Inverse of rfftPacked. */
export function irfftPacked(
  inp: usize,
  M: i32,
  N: i32,
  RP: i32,
  P: i32,
  x: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
): void {
  fftRange(false, x, N, inp, 0, tw, sp, rev, work, 0, P > 1 ? M / P : M, RP, M / RP, P > 1 ? P : 0);
}

/**
 * Threaded (i)rfft and (i)rfftPacked: tasks of `chunk` units claimed from a shared counter
 * (vectors, a multiple of 4; groups of P vectors when P > 1); scratch per thread.
 */
export function fftTasks(
  counter: usize,
  chunk: i32,
  forward: i32,
  x: usize,
  M: i32,
  N: i32,
  re: usize,
  im: usize,
  RP: i32,
  P: i32,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
  tid: i32,
): void {
  const w = work + <usize>tid * ((<usize>fftWorkFloats(N)) << 2),
    B = RP > 0 ? M / RP : 0,
    U = P > 1 ? M / P : M;
  for (let t = claim(counter); t * chunk < U; t = claim(counter))
    fftRange(forward != 0, x, N, re, im, tw, sp, rev, w, t * chunk, min(U, (t + 1) * chunk), RP, B, P > 1 ? P : 0);
}

/**
 * Units a … e: vectors (P = 0) or groups of P strided vectors. The spectra are rows re, im
 * [M × F] (RP = 0) or packed at re. Four vectors at a time in lane form, the rest one by one.
 */
export function fftRange(
  forward: bool,
  x: usize,
  N: i32,
  re: usize,
  im: usize,
  tw: usize,
  sp: usize,
  rev: usize,
  work: usize,
  a: i32,
  e: i32,
  RP: i32,
  B: i32,
  P: i32,
): void {
  const F = (N >> 1) + 1,
    L = N >> 1;
  if (N == 1) {
    for (let m = a; m < e; m++) {
      const xm = x + ((<usize>m) << 2),
        rm = re + ((<usize>m) << 2);
      if (forward) {
        store<f32>(rm, load<f32>(xm));
        store<f32>(im + ((<usize>m) << 2), 0);
      } else store<f32>(xm, load<f32>(rm));
    }
    return;
  }
  const lanes = N >= 4 && N <= LANES_MAX_N;
  // Scalar scratch: z (N floats), a row of bins (2F), a gathered row (N).
  const zr = work,
    zi = work + ((<usize>L) << 2),
    tr = work + ((<usize>N) << 2),
    ti = tr + ((<usize>F) << 2),
    row = ti + ((<usize>F) << 2);
  if (P == 0) {
    let m0 = a;
    if (lanes && RP != 0 && RP % 16 == 0) {
      // Packed spectra, sixteen vectors at a time (packedIO16), after single groups up to a multiple of 16.
      const stage = work + ((<usize>(8 * N + 8)) << 2),
        gs = (<usize>(2 * F)) << 4;
      for (; m0 % 16 != 0 && m0 + 4 <= e; m0 += 4) {
        const xm = x + ((<usize>(m0 * N)) << 2);
        if (forward) rfft4(xm, N, re, 0, tw, sp, rev, work, m0, B, RP, 0, 0);
        else irfft4(re, 0, N, xm, tw, sp, rev, work, m0, B, RP, 0, 0);
      }
      for (; m0 + 16 <= e; m0 += 16) {
        if (!forward) packedIO16(stage, F, m0, L, B, RP, re, true);
        for (let q = 0; q < 4; q++) {
          const xm = x + ((<usize>((m0 + 4 * q) * N)) << 2),
            st = stage + <usize>q * gs;
          if (forward) rfft4(xm, N, re, 0, tw, sp, rev, work, m0 + 4 * q, B, RP, 0, st);
          else irfft4(re, 0, N, xm, tw, sp, rev, work, m0 + 4 * q, B, RP, 0, st);
        }
        if (forward) packedIO16(stage, F, m0, L, B, RP, re, false);
      }
    }
    if (lanes)
      for (; m0 + 4 <= e; m0 += 4) {
        const xm = x + ((<usize>(m0 * N)) << 2);
        const pr = RP == 0 ? re + ((<usize>(m0 * F)) << 2) : re,
          pi = RP == 0 ? im + ((<usize>(m0 * F)) << 2) : 0;
        if (forward) rfft4(xm, N, pr, pi, tw, sp, rev, work, m0, B, RP, 0, 0);
        else irfft4(pr, pi, N, xm, tw, sp, rev, work, m0, B, RP, 0, 0);
      }
    for (let m = m0; m < e; m++) {
      const xm = x + ((<usize>(m * N)) << 2);
      const pr = RP == 0 ? re + ((<usize>(m * F)) << 2) : tr,
        pi = RP == 0 ? im + ((<usize>(m * F)) << 2) : ti;
      if (forward) {
        rfftRow(xm, N, pr, pi, tw, sp, rev, zr, zi);
        if (RP != 0) packedIO(tr, ti, 1, m, L, B, RP, re, false);
      } else {
        if (RP != 0) packedIO(tr, ti, 1, m, L, B, RP, re, true);
        irfftRow(pr, pi, N, xm, tw, sp, rev, zr, zi);
      }
    }
    return;
  }
  // Groups g of P vectors whose elements lie P apart (packed spectra only).
  const step = (<usize>P) << 2;
  for (let g = a; g < e; g++) {
    const xg = x + <usize>(g * N) * step;
    let p = 0;
    if (lanes)
      for (; p + 4 <= P; p += 4) {
        if (forward) rfft4(xg + ((<usize>p) << 2), N, re, 0, tw, sp, rev, work, g * P + p, B, RP, P, 0);
        else irfft4(re, 0, N, xg + ((<usize>p) << 2), tw, sp, rev, work, g * P + p, B, RP, P, 0);
      }
    for (; p < P; p++) {
      const xp = xg + ((<usize>p) << 2);
      if (forward) {
        for (let n = 0; n < N; n++) store<f32>(row + ((<usize>n) << 2), load<f32>(xp + <usize>n * step));
        rfftRow(row, N, tr, ti, tw, sp, rev, zr, zi);
        packedIO(tr, ti, 1, g * P + p, L, B, RP, re, false);
      } else {
        packedIO(tr, ti, 1, g * P + p, L, B, RP, re, true);
        irfftRow(tr, ti, N, row, tw, sp, rev, zr, zi);
        for (let n = 0; n < N; n++) store<f32>(xp + <usize>n * step, load<f32>(row + ((<usize>n) << 2)));
      }
    }
  }
}

/**
 * Complex products summed over one axis, bin by bin (the frequency domain of a block-circulant
 * product); planes re/im are separate, bins f contiguous and done four at a time.
 *   mode 0: Y[b,s,f] = Σ_r W[s,r,f]·A[b,r,f]           A [B×R×F], W [S×R×F] → Y [B×S×F]
 *   mode 1: Y[b,r,f] = Σ_s conj(W[s,r,f])·A[b,s,f]     (gradient of A; A is the output gradient)
 *   mode 2: Y[s,r,f] = Σ_b A[b,s,f]·conj(W[b,r,f])     (gradient of W; W holds the input spectra)
 */
export function cbin(
  ar: usize,
  ai: usize,
  wr: usize,
  wi: usize,
  yr: usize,
  yi: usize,
  B: i32,
  R: i32,
  S: i32,
  F: i32,
  mode: i32,
): void {
  // Each output row (i, j) is Σ_k P[i,k]·Q[j,k] (maybe conjugated) over rows of F bins. The rows
  // of P and Q are walked with running pointers (per-k index arithmetic made this kernel about
  // twice as slow), and the four partial products sum apart: rr = Σ Pr·Qr, ii = Σ Pi·Qi, ri = Σ Pr·Qi, ir = Σ Pi·Qr.
  let I = B,
    J = S,
    K = R;
  if (mode == 1) {
    I = B;
    J = R;
    K = S;
  } else if (mode == 2) {
    I = S;
    J = R;
    K = B;
  }
  const rowF = (<usize>F) << 2,
    dP = ai - ar,
    dQ = wi - wr,
    dY = yi - yr;
  const stepP = mode == 2 ? <usize>I * rowF : rowF,
    stepQ = mode == 0 ? rowF : <usize>J * rowF;
  for (let i = 0; i < I; i++) {
    const p0 = ar + (mode == 2 ? <usize>i : <usize>(i * K)) * rowF;
    for (let j = 0; j < J; j++) {
      const q0 = wr + (mode == 0 ? <usize>(j * K) : <usize>j) * rowF,
        y = yr + <usize>(i * J + j) * rowF;
      let f = 0;
      for (; f + 4 <= F; f += 4) {
        const o = (<usize>f) << 2;
        let rr = f32x4.splat(0),
          ii = rr,
          ri = rr,
          ir = rr;
        let p = p0 + o,
          q = q0 + o;
        for (let k = 0; k < K; k++, p += stepP, q += stepQ) {
          const pr = v128.load(p),
            pi = v128.load(p + dP),
            qr = v128.load(q),
            qi = v128.load(q + dQ);
          rr = f32x4.add(rr, f32x4.mul(pr, qr));
          ii = f32x4.add(ii, f32x4.mul(pi, qi));
          ri = f32x4.add(ri, f32x4.mul(pr, qi));
          ir = f32x4.add(ir, f32x4.mul(pi, qr));
        }
        // mode 0: P·Q; modes 1 and 2: P·conj(Q).
        v128.store(y + o, mode == 0 ? f32x4.sub(rr, ii) : f32x4.add(rr, ii));
        v128.store(y + o + dY, mode == 0 ? f32x4.add(ri, ir) : f32x4.sub(ir, ri));
      }
      for (; f < F; f++) {
        const o = (<usize>f) << 2;
        let rr: f32 = 0,
          ii: f32 = 0,
          ri: f32 = 0,
          ir: f32 = 0;
        let p = p0 + o,
          q = q0 + o;
        for (let k = 0; k < K; k++, p += stepP, q += stepQ) {
          const pr = load<f32>(p),
            pi = load<f32>(p + dP),
            qr = load<f32>(q),
            qi = load<f32>(q + dQ);
          rr += pr * qr;
          ii += pi * qi;
          ri += pr * qi;
          ir += pi * qr;
        }
        store<f32>(y + o, mode == 0 ? rr - ii : rr + ii);
        store<f32>(y + o + dY, mode == 0 ? ri + ir : ir - ri);
      }
    }
  }
}
