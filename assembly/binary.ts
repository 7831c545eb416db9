// Binarized networks at inference: ±1 values as bits (1 for +1, 0 for −1), 64 per word, and
// ±1 dot products as K − 2·popcount(a XOR b) (spec 06 section B). Rows are padded to whole
// words with 0 bits on both sides, so the padding never counts as a mismatch.
import { claim } from './gemm';

/** Words of 64 bits holding K bits. */
// @ts-ignore: decorator
@inline function words(K: i32): i32 {
  return (K + 63) >> 6;
}

/** out [M × words(K)] u64: bit k of row i is x[i, k] ≥ 0 (the sign convention sign(0) = +1). */
export function packSigns(x: usize, M: i32, K: i32, out: usize): void {
  packSignRows(x, K, out, 0, M);
}

/** Threaded packSigns: tasks of `chunk` rows claimed from a shared counter. */
export function packSignsTasks(counter: usize, chunk: i32, x: usize, M: i32, K: i32, out: usize, tid: i32): void {
  for (let t = claim(counter); t * chunk < M; t = claim(counter))
    packSignRows(x, K, out, t * chunk, min(M, (t + 1) * chunk));
  if (tid < 0) unreachable();
}

/** Rows a … e of packSigns. */
function packSignRows(x: usize, K: i32, out: usize, a: i32, e: i32): void {
  const W = words(K),
    zero = f32x4.splat(0);
  for (let i = a; i < e; i++) {
    const row = x + ((<usize>(i * K)) << 2),
      o = out + ((<usize>(i * W)) << 3);
    for (let w = 0; w < W; w++) {
      let bits: u64 = 0;
      const k0 = w << 6,
        n = min(64, K - k0);
      let b = 0;
      // Sixteen signs per step: four compares narrowed to bytes, whose mask gives their bits.
      for (; b + 16 <= n; b += 16) {
        const p = row + ((<usize>(k0 + b)) << 2);
        const lo = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(p), zero), f32x4.ge(v128.load(p, 16), zero));
        const hi = i16x8.narrow_i32x4_s(f32x4.ge(v128.load(p, 32), zero), f32x4.ge(v128.load(p, 48), zero));
        bits |= (<u64>i8x16.bitmask(i8x16.narrow_i16x8_s(lo, hi))) << (<u64>b);
      }
      for (; b + 4 <= n; b += 4)
        bits |= (<u64>i32x4.bitmask(f32x4.ge(v128.load(row + ((<usize>(k0 + b)) << 2)), zero))) << (<u64>b);
      for (; b < n; b++) if (load<f32>(row + ((<usize>(k0 + b)) << 2)) >= 0) bits |= (<u64>1) << (<u64>b);
      store<u64>(o + ((<usize>w) << 3), bits);
    }
  }
}

/**
 * Rows of an image's binary convolution patches: x [B, C, H, W] (float, sign taken) → out
 * [B·OH·OW × kh·kw·Wc] u64 with Wc = words(C): for each tap, the channel bits of the input
 * pixel it reads, or padBit for every real channel where the tap falls in the padding.
 * dense (C < 64 only): the taps' bits back to back instead, rows of words(kh·kw·C) words.
 * pix: scratch of B·Wc·H·W u64.
 */
export function packPatches(
  x: usize,
  B: i32,
  C: i32,
  H: i32,
  W: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  padBit: i32,
  dense: bool,
  pix: usize,
  out: usize,
): void {
  const Wc = words(C),
    rowW = kh * kw * Wc,
    HW = H * W,
    zero = f32x4.splat(0),
    one = i32x4.splat(1);
  // Channel bits of every pixel first, word-major: pix [B, Wc, H·W] u64. Channel by channel the
  // plane is read in order and four pixels' bits set at once (compare, widen to 64 bits, shift, or).
  memory.fill(pix, 0, (<usize>(B * HW * Wc)) << 3);
  for (let b = 0; b < B; b++)
    for (let c = 0; c < C; c++) {
      const plane = x + ((<usize>((b * C + c) * HW)) << 2),
        t = c & 63;
      const base = pix + ((<usize>((b * Wc + (c >> 6)) * HW)) << 3);
      let p = 0;
      for (; p + 4 <= HW; p += 4) {
        const m = v128.and(f32x4.ge(v128.load(plane + ((<usize>p) << 2)), zero), one);
        const q = base + ((<usize>p) << 3);
        v128.store(q, v128.or(v128.load(q), i64x2.shl(i64x2.extend_low_i32x4_u(m), t)));
        v128.store(q + 16, v128.or(v128.load(q + 16), i64x2.shl(i64x2.extend_high_i32x4_u(m), t)));
      }
      for (; p < HW; p++) {
        if (load<f32>(plane + ((<usize>p) << 2)) >= 0) {
          const q = base + ((<usize>p) << 3);
          store<u64>(q, load<u64>(q) | ((<u64>1) << (<u64>t)));
        }
      }
    }
  // Padding taps: padBit on every real channel, 0 beyond.
  const padWord: u64 = padBit == 0 ? 0 : C >= 64 ? <u64>-1 : ((<u64>1) << (<u64>C)) - 1;
  if (dense) {
    // C < 64: tap t's C bits at bit t·C of the row (taps packed back to back, words(kh·kw·C) per row).
    const rowD = words(kh * kw * C);
    for (let b = 0; b < B; b++)
      for (let oy = 0; oy < OH; oy++)
        for (let ox = 0; ox < OW; ox++) {
          const o = out + ((<usize>(((b * OH + oy) * OW + ox) * rowD)) << 3);
          memory.fill(o, 0, (<usize>rowD) << 3);
          for (let i = 0; i < kh; i++)
            for (let j = 0; j < kw; j++) {
              const r = oy * sh - ph + i,
                q = ox * sw - pw + j;
              const v: u64 =
                r >= 0 && r < H && q >= 0 && q < W ? load<u64>(pix + ((<usize>(b * HW + r * W + q)) << 3)) : padWord;
              const pos = (i * kw + j) * C,
                w = o + ((<usize>(pos >> 6)) << 3),
                sft = pos & 63;
              store<u64>(w, load<u64>(w) | (v << (<u64>sft)));
              if (sft + C > 64) store<u64>(w + 8, load<u64>(w + 8) | (v >> (<u64>(64 - sft))));
            }
        }
    return;
  }
  for (let b = 0; b < B; b++)
    for (let oy = 0; oy < OH; oy++)
      for (let ox = 0; ox < OW; ox++) {
        const o = out + ((<usize>(((b * OH + oy) * OW + ox) * rowW)) << 3);
        for (let i = 0; i < kh; i++)
          for (let j = 0; j < kw; j++) {
            const r = oy * sh - ph + i,
              q = ox * sw - pw + j,
              d = o + ((<usize>((i * kw + j) * Wc)) << 3);
            if (r >= 0 && r < H && q >= 0 && q < W) {
              const src = pix + ((<usize>(b * Wc * HW + r * W + q)) << 3),
                ws = (<usize>HW) << 3;
              for (let w = 0; w < Wc; w++) store<u64>(d + ((<usize>w) << 3), load<u64>(src + <usize>w * ws));
            } else
              for (let w = 0; w < Wc; w++) {
                const n = min(64, C - (w << 6));
                store<u64>(d + ((<usize>w) << 3), padBit != 0 ? (n == 64 ? <u64>-1 : ((<u64>1) << (<u64>n)) - 1) : 0);
              }
          }
      }
}

// @ts-ignore: decorator
@inline function widen(c: v128): v128 {
  return i32x4.extadd_pairwise_i16x8_u(i16x8.extadd_pairwise_i8x16_u(c));
}
/** The four lane sums of a, b, c, d as one vector (a 4-way horizontal add). */
// @ts-ignore: decorator
@inline function sum4(a: v128, b: v128, c: v128, d: v128): v128 {
  const ab = i32x4.add(v128.shuffle<i32>(a, b, 0, 4, 1, 5), v128.shuffle<i32>(a, b, 2, 6, 3, 7));
  const cd = i32x4.add(v128.shuffle<i32>(c, d, 0, 4, 1, 5), v128.shuffle<i32>(c, d, 2, 6, 3, 7));
  return i32x4.add(v128.shuffle<i32>(ab, cd, 0, 1, 4, 5), v128.shuffle<i32>(ab, cd, 2, 3, 6, 7));
}
/** Mismatches over the Wk words of two rows. */
// @ts-ignore: decorator
@inline function mismatches(a: usize, b: usize, Wk: i32): i32 {
  let s: u64 = 0;
  for (let w = 0; w < Wk; w++) s += popcnt(load<u64>(a + ((<usize>w) << 3)) ^ load<u64>(b + ((<usize>w) << 3)));
  return <i32>s;
}

/**
 * Set bits per byte. In the relaxed build, two nibble look-ups by relaxed_swizzle (one pshufb
 * each on x86, with the table and mask kept in registers); measured about 1.2× faster here than
 * i8x16.popcnt, whose lowering reloads both constants on every call.
 */
// @ts-ignore: decorator
@inline function popcnt8(x: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) {
    const lut = i8x16(0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4),
      m = i8x16.splat(15);
    return i8x16.add(
      i8x16.relaxed_swizzle(lut, v128.and(x, m)),
      i8x16.relaxed_swizzle(lut, v128.and(i16x8.shr_u(x, 4), m)),
    );
  }
  return i8x16.popcnt(x);
}

/** Row bytes in the interleaved layouts: Wk words rounded up to an even count (16-byte steps). */
// @ts-ignore: decorator
@inline function stepBytes(Wk: i32): usize {
  return (<usize>((Wk + 1) & ~1)) << 3;
}

/**
 * Interleave `rows` packed rows of Wk words from src (row stride Wk words) into a group of
 * `group` rows at dst: step s (16 bytes of each row) of row r at dst + 16·(s·group + r). Rows
 * from `rows` to `group` and an odd last word are zeros, which match the zeros on the other
 * side and count no mismatch.
 */
function interleave(src: usize, rows: i32, group: i32, Wk: i32, dst: usize): void {
  const rs = (<usize>Wk) << 3,
    half = Wk >> 1,
    steps = (Wk + 1) >> 1,
    stride = (<usize>group) << 4;
  for (let r = 0; r < group; r++) {
    const a = src + <usize>r * rs;
    let d = dst + ((<usize>r) << 4);
    if (r >= rows) {
      for (let s = 0; s < steps; s++, d += stride) v128.store(d, i64x2.splat(0));
      continue;
    }
    for (let s = 0; s < half; s++, d += stride) v128.store(d, v128.load(a + ((<usize>s) << 4)));
    if (Wk & 1) v128.store(d, i64x2.replace_lane(i64x2.splat(0), 0, load<u64>(a + rs - 8)));
  }
}

/** Lane c of v (c not a constant). */
// @ts-ignore: decorator
@inline function lane(v: v128, c: i32): i32 {
  return c == 0
    ? i32x4.extract_lane(v, 0)
    : c == 1
      ? i32x4.extract_lane(v, 1)
      : c == 2
        ? i32x4.extract_lane(v, 2)
        : i32x4.extract_lane(v, 3);
}

/** Columns per block: four by SIMD and two by scalar popcount, which run on different units. */
const COLS = 6;
/** B's rows as panels of COLS interleaved rows (the last padded with zero rows), for bgemm/bgemmTasks. */
export function bgemmPanels(Bm: usize, N: i32, Wk: i32, out: usize): void {
  const ps = stepBytes(Wk) * COLS,
    rs = (<usize>Wk) << 3;
  for (let j = 0; j < N; j += COLS)
    interleave(Bm + <usize>j * rs, min(COLS, N - j), COLS, Wk, out + <usize>(j / COLS) * ps);
}
/** Bytes of bgemmPanels' output, and of one thread's row-pair scratch. */
export function bgemmPanelBytes(N: i32, Wk: i32): i32 {
  return <i32>(stepBytes(Wk) * <usize>(((N + COLS - 1) / COLS) * COLS));
}
export function bgemmPairBytes(Wk: i32): i32 {
  return <i32>(stepBytes(Wk) << 1);
}

/**
 * C[i, j] = Σ_k a_ik·b_jk over ±1 entries = K − 2·popcount(A_i XOR B_j), A [M × Wk] and
 * B [N × Wk] packed rows (Wk words), C i32 [M × N]; Bp: B's panels (bgemmPanels), pair: the
 * thread's scratch for two interleaved rows of A. Rows a … e of C.
 */
function bgemmRows(
  A: usize,
  Bm: usize,
  Bp: usize,
  N: i32,
  Wk: i32,
  K: i32,
  C: usize,
  pair: usize,
  a: i32,
  e: i32,
): void {
  const rs = (<usize>Wk) << 3,
    sb = stepBytes(Wk),
    steps = <i32>(sb >> 4),
    kv = i32x4.splat(K);
  let i = a;
  // 2 × 6 blocks: columns 0–3 in SIMD (128 bits per XOR, popcount per byte, byte sums flushed to
  // 32-bit lanes every 31 steps, 31·8 < 256), columns 4–5 by 64-bit popcount on the integer
  // units alongside (measured 1.2× over SIMD alone). Both operands are interleaved, so every
  // load is one pointer plus a constant.
  for (; i + 2 <= e; i += 2) {
    const a0 = A + <usize>i * rs,
      a1 = a0 + rs;
    interleave(a0, 2, 2, Wk, pair);
    for (let j = 0; j < N; j += COLS) {
      let pb = Bp + <usize>(j / COLS) * (sb * COLS),
        pa = pair;
      let t00 = i32x4.splat(0),
        t01 = i32x4.splat(0),
        t02 = i32x4.splat(0),
        t03 = i32x4.splat(0);
      let t10 = i32x4.splat(0),
        t11 = i32x4.splat(0),
        t12 = i32x4.splat(0),
        t13 = i32x4.splat(0);
      let s04: u64 = 0,
        s05: u64 = 0,
        s14: u64 = 0,
        s15: u64 = 0;
      for (let s0 = 0; s0 < steps; s0 += 31) {
        const end = pa + ((<usize>min(31, steps - s0)) << 5);
        let c00 = i8x16.splat(0),
          c01 = i8x16.splat(0),
          c02 = i8x16.splat(0),
          c03 = i8x16.splat(0);
        let c10 = i8x16.splat(0),
          c11 = i8x16.splat(0),
          c12 = i8x16.splat(0),
          c13 = i8x16.splat(0);
        for (; pa < end; pa += 32, pb += 16 * COLS) {
          const y0 = v128.load(pb),
            y1 = v128.load(pb, 16),
            y2 = v128.load(pb, 32),
            y3 = v128.load(pb, 48);
          let x = v128.load(pa);
          c00 = i8x16.add(c00, popcnt8(v128.xor(x, y0)));
          c01 = i8x16.add(c01, popcnt8(v128.xor(x, y1)));
          c02 = i8x16.add(c02, popcnt8(v128.xor(x, y2)));
          c03 = i8x16.add(c03, popcnt8(v128.xor(x, y3)));
          x = v128.load(pa, 16);
          c10 = i8x16.add(c10, popcnt8(v128.xor(x, y0)));
          c11 = i8x16.add(c11, popcnt8(v128.xor(x, y1)));
          c12 = i8x16.add(c12, popcnt8(v128.xor(x, y2)));
          c13 = i8x16.add(c13, popcnt8(v128.xor(x, y3)));
          let p = load<u64>(pa),
            q = load<u64>(pa, 16),
            u = load<u64>(pb, 64),
            v = load<u64>(pb, 80);
          s04 += popcnt(p ^ u);
          s05 += popcnt(p ^ v);
          s14 += popcnt(q ^ u);
          s15 += popcnt(q ^ v);
          p = load<u64>(pa, 8);
          q = load<u64>(pa, 24);
          u = load<u64>(pb, 72);
          v = load<u64>(pb, 88);
          s04 += popcnt(p ^ u);
          s05 += popcnt(p ^ v);
          s14 += popcnt(q ^ u);
          s15 += popcnt(q ^ v);
        }
        t00 = i32x4.add(t00, widen(c00));
        t01 = i32x4.add(t01, widen(c01));
        t02 = i32x4.add(t02, widen(c02));
        t03 = i32x4.add(t03, widen(c03));
        t10 = i32x4.add(t10, widen(c10));
        t11 = i32x4.add(t11, widen(c11));
        t12 = i32x4.add(t12, widen(c12));
        t13 = i32x4.add(t13, widen(c13));
      }
      const m0 = i32x4.sub(kv, i32x4.shl(sum4(t00, t01, t02, t03), 1)),
        m1 = i32x4.sub(kv, i32x4.shl(sum4(t10, t11, t12, t13), 1));
      const c0 = C + ((<usize>(i * N + j)) << 2),
        c1 = c0 + ((<usize>N) << 2);
      if (j + COLS <= N) {
        v128.store(c0, m0);
        v128.store(c1, m1);
        store<i32>(c0, K - 2 * <i32>s04, 16);
        store<i32>(c0, K - 2 * <i32>s05, 20);
        store<i32>(c1, K - 2 * <i32>s14, 16);
        store<i32>(c1, K - 2 * <i32>s15, 20);
      } else {
        // The last, partial panel: its zero rows' results are dropped.
        const n = N - j;
        for (let c = 0; c < min(n, 4); c++) {
          store<i32>(c0 + ((<usize>c) << 2), lane(m0, c));
          store<i32>(c1 + ((<usize>c) << 2), lane(m1, c));
        }
        if (n > 4) {
          store<i32>(c0, K - 2 * <i32>s04, 16);
          store<i32>(c1, K - 2 * <i32>s14, 16);
        }
      }
    }
  }
  for (; i < e; i++) {
    const a0 = A + <usize>i * rs;
    for (let j = 0; j < N; j++)
      store<i32>(C + ((<usize>(i * N + j)) << 2), K - 2 * mismatches(a0, Bm + <usize>j * rs, Wk));
  }
}

/** Rows of Wk words (at least words(K); convolution patches pad every tap to whole words). */
export function bgemm(A: usize, Bm: usize, Bp: usize, M: i32, N: i32, K: i32, Wk: i32, C: usize, pair: usize): void {
  bgemmRows(A, Bm, Bp, N, Wk, K, C, pair, 0, M);
}

/** Threaded bgemm: tasks of `chunk` rows (even) claimed from a shared counter; thread tid's pair scratch at pair +
 * tid·bgemmPairBytes. */
export function bgemmTasks(
  counter: usize,
  chunk: i32,
  A: usize,
  Bm: usize,
  Bp: usize,
  M: i32,
  N: i32,
  K: i32,
  Wk: i32,
  C: usize,
  pair: usize,
  tid: i32,
): void {
  const own = pair + <usize>tid * <usize>bgemmPairBytes(Wk);
  for (let t = claim(counter); t * chunk < M; t = claim(counter))
    bgemmRows(A, Bm, Bp, N, Wk, K, C, own, t * chunk, min(M, (t + 1) * chunk));
}

/** out [C, H+2p, W+2p] = ±1 signs of x [C, H, W] (sign(0) = +1) inside a border of p pixels of padValue. */
export function signPad(x: usize, C: i32, H: i32, W: i32, p: i32, padValue: f32, out: usize): void {
  const Hp = H + 2 * p,
    Wp = W + 2 * p,
    one = f32x4.splat(1),
    minus = f32x4.splat(-1),
    zero = f32x4.splat(0);
  for (let c = 0; c < C; c++) {
    const o = out + ((<usize>(c * Hp * Wp)) << 2),
      src = x + ((<usize>(c * H * W)) << 2);
    for (let i = 0; i < p * Wp; i++) {
      store<f32>(o + ((<usize>i) << 2), padValue);
      store<f32>(o + ((<usize>((Hp - 1) * Wp - i + Wp - 1)) << 2), padValue);
    }
    for (let r = 0; r < H; r++) {
      const row = o + ((<usize>((r + p) * Wp)) << 2),
        in_ = src + ((<usize>(r * W)) << 2);
      for (let q = 0; q < p; q++) {
        store<f32>(row + ((<usize>q) << 2), padValue);
        store<f32>(row + ((<usize>(Wp - 1 - q)) << 2), padValue);
      }
      const d = row + ((<usize>p) << 2);
      let q = 0;
      for (; q + 4 <= W; q += 4)
        v128.store(
          d + ((<usize>q) << 2),
          v128.bitselect(one, minus, f32x4.ge(v128.load(in_ + ((<usize>q) << 2)), zero)),
        );
      for (; q < W; q++) store<f32>(d + ((<usize>q) << 2), load<f32>(in_ + ((<usize>q) << 2)) >= 0 ? 1 : -1);
    }
  }
}

/**
 * The nine 3×3 jet maps of every channel by the shared add/subtract tree (neural jet features,
 * src/techniques/binary/jets.ts): x [C, H, W] → out [C, 9, H−2, W−2], jet 3·iy + ix; 5 operations
 * per pixel along x, 15 along y, four pixels per SIMD step. xs: scratch of 3·H·(W−2) floats.
 */
export function jetTree(x: usize, C: i32, H: i32, W: i32, out: usize, xs: usize): void {
  const OH = H - 2,
    OW = W - 2,
    plane = (<usize>(H * OW)) << 2,
    outPlane = (<usize>(OH * OW)) << 2;
  for (let c = 0; c < C; c++) {
    const src = x + ((<usize>(c * H * W)) << 2);
    // x-stage: [1,2,1], [−1,0,1], [1,−2,1] along each row.
    for (let r = 0; r < H; r++) {
      const o = src + ((<usize>(r * W)) << 2),
        d = (<usize>(r * OW)) << 2;
      let i = 0;
      for (; i + 4 <= OW; i += 4) {
        const p = o + ((<usize>i) << 2);
        const v0 = v128.load(p),
          v1 = v128.load(p + 4),
          v2 = v128.load(p + 8);
        const b0 = f32x4.add(v0, v1),
          b1 = f32x4.add(v1, v2),
          d0 = f32x4.sub(v1, v0),
          d1 = f32x4.sub(v2, v1);
        v128.store(xs + d + ((<usize>i) << 2), f32x4.add(b0, b1));
        v128.store(xs + plane + d + ((<usize>i) << 2), f32x4.sub(b1, b0));
        v128.store(xs + 2 * plane + d + ((<usize>i) << 2), f32x4.sub(d1, d0));
      }
      for (; i < OW; i++) {
        const p = o + ((<usize>i) << 2);
        const v0 = load<f32>(p),
          v1 = load<f32>(p + 4),
          v2 = load<f32>(p + 8);
        const b0 = v0 + v1,
          b1 = v1 + v2,
          d0 = v1 - v0,
          d1 = v2 - v1;
        store<f32>(xs + d + ((<usize>i) << 2), b0 + b1);
        store<f32>(xs + plane + d + ((<usize>i) << 2), b1 - b0);
        store<f32>(xs + 2 * plane + d + ((<usize>i) << 2), d1 - d0);
      }
    }
    // y-stage: the same three down the columns of each x-map.
    for (let ix = 0; ix < 3; ix++) {
      const m = xs + <usize>ix * plane;
      for (let r = 0; r < OH; r++) {
        const ra = m + ((<usize>(r * OW)) << 2),
          rb = ra + ((<usize>OW) << 2),
          rc = rb + ((<usize>OW) << 2);
        const o0 = out + <usize>(c * 9 + ix) * outPlane + ((<usize>(r * OW)) << 2);
        const o1 = o0 + 3 * outPlane,
          o2 = o0 + 6 * outPlane;
        let i = 0;
        for (; i + 4 <= OW; i += 4) {
          const q = (<usize>i) << 2;
          const a = v128.load(ra + q),
            b = v128.load(rb + q),
            d = v128.load(rc + q);
          const b0 = f32x4.add(a, b),
            b1 = f32x4.add(b, d),
            d0 = f32x4.sub(b, a),
            d1 = f32x4.sub(d, b);
          v128.store(o0 + q, f32x4.add(b0, b1));
          v128.store(o1 + q, f32x4.sub(b1, b0));
          v128.store(o2 + q, f32x4.sub(d1, d0));
        }
        for (; i < OW; i++) {
          const q = (<usize>i) << 2;
          const a = load<f32>(ra + q),
            b = load<f32>(rb + q),
            d = load<f32>(rc + q);
          const b0 = a + b,
            b1 = b + d,
            d0 = b - a,
            d1 = d - b;
          store<f32>(o0 + q, b0 + b1);
          store<f32>(o1 + q, b1 - b0);
          store<f32>(o2 + q, d1 - d0);
        }
      }
    }
  }
}
