// Convolution and pooling kernels on NCHW float32 data in linear memory.
import { gemm, claim, madd, gemmWorkBytes } from './gemm';

/** col[(c*kh+i)*kw+j, b*OH*OW + oy*OW + ox] = x[b, c, oy*sh-ph+i*dh, ox*sw-pw+j*dw] (0 outside). */
export function im2col(
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  col: usize,
): void {
  im2colRange(x, B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, col, 0, C);
}

/** Channels [c0, c1) of im2col: col rows c0·kh·kw … c1·kh·kw. */
function im2colRange(
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  col: usize,
  c0: i32,
  c1: i32,
): void {
  const ohw = OH * OW;
  let dst = col + ((<usize>c0 * <usize>(kh * kw) * <usize>(B * ohw)) << 2);
  for (let c = c0; c < c1; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let b = 0; b < B; b++) {
          const plane = x + ((<usize>((b * C + c) * H * W)) << 2);
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= H) {
              memory.fill(dst, 0, (<usize>OW) << 2);
              dst += (<usize>OW) << 2;
              continue;
            }
            const row = plane + ((<usize>(iy * W)) << 2);
            let ix = j * dw - pw;
            if (sw == 1) {
              // valid ox range [lo, hi): zeros, one contiguous copy, zeros
              const lo = min(OW, max(0, -ix)),
                hi = max(lo, min(OW, W - ix));
              if (lo > 0) memory.fill(dst, 0, (<usize>lo) << 2);
              memory.copy(dst + ((<usize>lo) << 2), row + ((<usize>(ix + lo)) << 2), (<usize>(hi - lo)) << 2);
              if (hi < OW) memory.fill(dst + ((<usize>hi) << 2), 0, (<usize>(OW - hi)) << 2);
              dst += (<usize>OW) << 2;
              continue;
            }
            for (let ox = 0; ox < OW; ox++) {
              store<f32>(dst, ix >= 0 && ix < W ? load<f32>(row + ((<usize>ix) << 2)) : 0);
              dst += 4;
              ix += sw;
            }
          }
        }
      }
    }
  }
  // silence unused warning for ohw in some configurations
  if (ohw < 0) unreachable();
}

/** Adjoint of im2col: dx (zeroed here) accumulates col back into image positions. */
export function col2im(
  col: usize,
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  dx: usize,
): void {
  col2imRange(col, B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, dx, 0, C);
}

/** Channels [c0, c1) of col2im; each channel's dx planes are written by one caller only. */
function col2imRange(
  col: usize,
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  dx: usize,
  c0: i32,
  c1: i32,
): void {
  const hw = (<usize>(H * W)) << 2;
  for (let c = c0; c < c1; c++) for (let b = 0; b < B; b++) memory.fill(dx + <usize>(b * C + c) * hw, 0, hw);
  let src = col + ((<usize>c0 * <usize>(kh * kw) * <usize>(B * OH * OW)) << 2);
  for (let c = c0; c < c1; c++) {
    for (let i = 0; i < kh; i++) {
      for (let j = 0; j < kw; j++) {
        for (let b = 0; b < B; b++) {
          const plane = dx + ((<usize>((b * C + c) * H * W)) << 2);
          for (let oy = 0; oy < OH; oy++) {
            const iy = oy * sh - ph + i * dh;
            if (iy < 0 || iy >= H) {
              src += (<usize>OW) << 2;
              continue;
            }
            const row = plane + ((<usize>(iy * W)) << 2);
            let ix = j * dw - pw;
            if (sw == 1) {
              const lo = min(OW, max(0, -ix)),
                hi = max(lo, min(OW, W - ix));
              let q = row + ((<usize>(ix + lo)) << 2),
                r = src + ((<usize>lo) << 2);
              let k = lo;
              for (; k + 4 <= hi; k += 4) {
                v128.store(q, f32x4.add(v128.load(q), v128.load(r)));
                q += 16;
                r += 16;
              }
              for (; k < hi; k++) {
                store<f32>(q, load<f32>(q) + load<f32>(r));
                q += 4;
                r += 4;
              }
              src += (<usize>OW) << 2;
              continue;
            }
            for (let ox = 0; ox < OW; ox++) {
              if (ix >= 0 && ix < W) {
                const p = row + ((<usize>ix) << 2);
                store<f32>(p, load<f32>(p) + load<f32>(src));
              }
              src += 4;
              ix += sw;
            }
          }
        }
      }
    }
  }
}

/** d[k] = max(s[k] + bv, 0) (without the sum when !bias) for k < L: the relu kernel's own instructions. */
// @ts-ignore: decorator
@inline function biasReluRow(s: usize, d: usize, L: i32, bias: bool, bv: f32): void {
  const bs = f32x4.splat(bv),
    z = f32x4.splat(0);
  let k = 0;
  if (bias) {
    for (; k + 4 <= L; k += 4) {
      const o = (<usize>k) << 2;
      v128.store(d + o, f32x4.max(f32x4.add(v128.load(s + o), bs), z));
    }
  } else {
    for (; k + 4 <= L; k += 4) {
      const o = (<usize>k) << 2;
      v128.store(d + o, f32x4.max(v128.load(s + o), z));
    }
  }
  for (; k < L; k++) {
    const v: f32 = bias ? load<f32>(s + ((<usize>k) << 2)) + bv : load<f32>(s + ((<usize>k) << 2));
    store<f32>(d + ((<usize>k) << 2), max<f32>(v, 0)); // NaN stays NaN, as in f32x4.max
  }
}

/**
 * out[b, a, :] = inp[a, b, :] for inp of shape [A, B, L] (plus bias[a] when bias != 0), then
 * max(·, 0) when relu (an inference epilogue: the same f32x4.max as the relu kernel, so the
 * result is bit-identical to a separate relu pass).
 */
export function swap01(inp: usize, A: i32, B: i32, L: i32, out: usize, bias: usize, relu: bool): void {
  for (let a = 0; a < A; a++) swap01Slice(inp, a, A, B, L, out, bias, relu);
}

/** swap01 of slice a (inp[a, :, :]). */
function swap01Slice(inp: usize, a: i32, A: i32, B: i32, L: i32, out: usize, bias: usize, relu: bool): void {
  const lb = (<usize>L) << 2;
  const bv: f32 = bias ? load<f32>(bias + ((<usize>a) << 2)) : 0;
  for (let b = 0; b < B; b++) {
    const s = inp + <usize>(a * B + b) * lb;
    const d = out + <usize>(b * A + a) * lb;
    if (relu) {
      biasReluRow(s, d, L, bias != 0, bv);
    } else if (bias) {
      const bs = f32x4.splat(bv);
      let k = 0;
      for (; k + 4 <= L; k += 4) v128.store(d + ((<usize>k) << 2), f32x4.add(v128.load(s + ((<usize>k) << 2)), bs));
      for (; k < L; k++) store<f32>(d + ((<usize>k) << 2), load<f32>(s + ((<usize>k) << 2)) + bv);
    } else {
      memory.copy(d, s, lb);
    }
  }
}

/** Threaded swap01: slices a claimed from the counter, each written by one thread. */
export function swap01Tasks(
  counter: usize,
  inp: usize,
  A: i32,
  B: i32,
  L: i32,
  out: usize,
  bias: usize,
  relu: bool,
  tid: i32,
): void {
  for (let a = claim(counter); a < A; a = claim(counter)) swap01Slice(inp, a, A, B, L, out, bias, relu);
}

/**
 * swap01 with relu, then 2×2 max pooling (stride 2): each OH×OW plane goes through Q (OH·OW floats of
 * scratch, in cache) into its ⌊OH/2⌋×⌊OW/2⌋ plane of out [B, A, ·, ·], with the pooling kernel's own code,
 * so the result is bit-identical to swap01, relu and pool2dForward one after another.
 */
export function swap01ReluPool(inp: usize, A: i32, B: i32, OH: i32, OW: i32, out: usize, bias: usize, Q: usize): void {
  for (let a = 0; a < A; a++) swap01ReluPoolSlice(inp, a, A, B, OH, OW, out, bias, Q);
}

/** swap01ReluPool of slice a. */
function swap01ReluPoolSlice(
  inp: usize,
  a: i32,
  A: i32,
  B: i32,
  OH: i32,
  OW: i32,
  out: usize,
  bias: usize,
  Q: usize,
): void {
  const L = OH * OW,
    PH = OH >> 1,
    PW = OW >> 1;
  const lb = (<usize>L) << 2,
    pb = (<usize>(PH * PW)) << 2;
  const bv: f32 = bias ? load<f32>(bias + ((<usize>a) << 2)) : 0;
  for (let b = 0; b < B; b++) {
    biasReluRow(inp + <usize>(a * B + b) * lb, Q, L, bias != 0, bv);
    max2x2(Q, 1, OH, OW, PH, PW, out + <usize>(b * A + a) * pb);
  }
}

/** Threaded swap01ReluPool: slices claimed from the counter; thread tid's scratch plane at Q + tid·OH·OW. */
export function swap01ReluPoolTasks(
  counter: usize,
  inp: usize,
  A: i32,
  B: i32,
  OH: i32,
  OW: i32,
  out: usize,
  bias: usize,
  Q: usize,
  tid: i32,
): void {
  const q = Q + ((<usize>(tid * OH * OW)) << 2);
  for (let a = claim(counter); a < A; a = claim(counter)) swap01ReluPoolSlice(inp, a, A, B, OH, OW, out, bias, q);
}

// 2×2, stride 2, no padding: the common case, without bounds checks.
export function max2x2(x: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32, out: usize): void {
  let dst = out;
  const rs = (<usize>W) << 2;
  for (let p = 0; p < P; p++) {
    const plane = x + ((<usize>(p * H * W)) << 2);
    for (let oy = 0; oy < OH; oy++) {
      let r0 = plane + ((<usize>(2 * oy * W)) << 2);
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        // rows max, then pairwise max of neighbours (even vs odd lanes)
        const lo = f32x4.max(v128.load(r0), v128.load(r0 + rs));
        const hi = f32x4.max(v128.load(r0, 16), v128.load(r0 + rs, 16));
        const ev = v128.shuffle<f32>(lo, hi, 0, 2, 4, 6),
          od = v128.shuffle<f32>(lo, hi, 1, 3, 5, 7);
        v128.store(dst, f32x4.max(ev, od));
        dst += 16;
        r0 += 32;
      }
      for (; ox < OW; ox++) {
        const a = max<f32>(load<f32>(r0), load<f32>(r0, 4));
        const b = max<f32>(load<f32>(r0 + rs), load<f32>(r0 + rs, 4));
        store<f32>(dst, max<f32>(a, b));
        dst += 4;
        r0 += 8;
      }
    }
  }
}

/** Max pooling's order: a is taken over the best so far b when greater, or NaN where b is not (NaN is the max). */
// @ts-ignore: decorator
@inline function beats(a: f32, b: f32): bool {
  return a > b || (a != a && b == b);
}

/** beats, four lanes: all-ones where a is taken over b. */
// @ts-ignore: decorator
@inline function beats4(a: v128, b: v128): v128 {
  return v128.or(f32x4.gt(a, b), v128.andnot(f32x4.ne(a, a), f32x4.ne(b, b)));
}

/**
 * Gradient of max2x2 into dx (zeroed by the caller): each window's gradient goes to its first NaN, else its first
 * maximal input, in row-major order (top-left, top-right, bottom-left, bottom-right), as the general kernel. Four
 * windows at a time without branches: the winners as lane masks, the gradient interleaved back into the two rows.
 */
function max2x2Backward(x: usize, P: i32, H: i32, W: i32, OH: i32, OW: i32, dy: usize, dx: usize): void {
  let src = dy;
  const rs = (<usize>W) << 2,
    zero = f32x4.splat(0);
  for (let p = 0; p < P; p++) {
    const off = (<usize>(p * H * W)) << 2;
    for (let oy = 0; oy < OH; oy++) {
      let r0 = off + ((<usize>(2 * oy * W)) << 2);
      let ox = 0;
      for (; ox + 4 <= OW; ox += 4) {
        const t0 = v128.load(x + r0),
          t1 = v128.load(x + r0, 16),
          b0 = v128.load(x + r0 + rs),
          b1 = v128.load(x + r0 + rs, 16);
        const tl = v128.shuffle<f32>(t0, t1, 0, 2, 4, 6),
          tr = v128.shuffle<f32>(t0, t1, 1, 3, 5, 7),
          bl = v128.shuffle<f32>(b0, b1, 0, 2, 4, 6),
          br = v128.shuffle<f32>(b0, b1, 1, 3, 5, 7);
        // A later element wins when greater than the best so far, or NaN where that is not (beats, as scalar).
        const sTr = beats4(tr, tl),
          m1 = v128.bitselect(tr, tl, sTr),
          sBl = beats4(bl, m1),
          m2 = v128.bitselect(bl, m1, sBl),
          sBr = beats4(br, m2);
        const wBl = v128.andnot(sBl, sBr),
          wTr = v128.andnot(sTr, v128.or(sBl, sBr)),
          wTl = v128.not(v128.or(sTr, v128.or(sBl, sBr)));
        // 0 + g, as the scalar path adds to the zeroed dx (a −0 gradient lands as +0 there too).
        const g = f32x4.add(zero, v128.load(src));
        const gTl = v128.and(g, wTl),
          gTr = v128.and(g, wTr),
          gBl = v128.and(g, wBl),
          gBr = v128.and(g, sBr);
        v128.store(dx + r0, v128.shuffle<f32>(gTl, gTr, 0, 4, 1, 5));
        v128.store(dx + r0, v128.shuffle<f32>(gTl, gTr, 2, 6, 3, 7), 16);
        v128.store(dx + r0 + rs, v128.shuffle<f32>(gBl, gBr, 0, 4, 1, 5));
        v128.store(dx + r0 + rs, v128.shuffle<f32>(gBl, gBr, 2, 6, 3, 7), 16);
        src += 16;
        r0 += 32;
      }
      for (; ox < OW; ox++) {
        // the first NaN, else the first maximal element, in row-major window order, as the general kernel
        let q = r0,
          m = load<f32>(x + r0);
        let v = load<f32>(x + r0, 4);
        if (beats(v, m)) {
          m = v;
          q = r0 + 4;
        }
        v = load<f32>(x + r0 + rs);
        if (beats(v, m)) {
          m = v;
          q = r0 + rs;
        }
        v = load<f32>(x + r0 + rs, 4);
        if (beats(v, m)) {
          q = r0 + rs + 4;
        }
        store<f32>(dx + q, load<f32>(dx + q) + load<f32>(src));
        src += 4;
        r0 += 8;
      }
    }
  }
}

/**
 * Max over 1×2 windows at stride 2 on R rows of W (1-D max pooling of 2, as the ECG networks use): four outputs
 * from two loads, even lanes against odd, the right taken where it beats the left (the general kernel's order:
 * NaN is the max, and of −0 and +0 the first stays, where f32x4.max would give +0).
 */
function max1x2(x: usize, R: i32, W: i32, OW: i32, out: usize): void {
  let dst = out;
  for (let r = 0; r < R; r++) {
    let s = x + ((<usize>(r * W)) << 2);
    let ox = 0;
    for (; ox + 4 <= OW; ox += 4) {
      const a = v128.load(s),
        b = v128.load(s, 16);
      const ev = v128.shuffle<f32>(a, b, 0, 2, 4, 6),
        od = v128.shuffle<f32>(a, b, 1, 3, 5, 7);
      v128.store(dst, v128.bitselect(od, ev, beats4(od, ev)));
      dst += 16;
      s += 32;
    }
    for (; ox < OW; ox++) {
      const l = load<f32>(s),
        r = load<f32>(s, 4);
      store<f32>(dst, beats(r, l) ? r : l);
      dst += 4;
      s += 8;
    }
  }
}

/**
 * Gradient of max1x2 into dx (zeroed by the caller): each pair's gradient goes to its right element when that
 * beats the left (greater, or NaN where the left is not), else to the left, as the general kernel.
 */
function max1x2Backward(x: usize, R: i32, W: i32, OW: i32, dy: usize, dx: usize): void {
  let src = dy;
  const zero = f32x4.splat(0);
  for (let r = 0; r < R; r++) {
    let o = (<usize>(r * W)) << 2;
    let ox = 0;
    for (; ox + 4 <= OW; ox += 4) {
      const a = v128.load(x + o),
        b = v128.load(x + o, 16);
      const right = beats4(v128.shuffle<f32>(a, b, 1, 3, 5, 7), v128.shuffle<f32>(a, b, 0, 2, 4, 6));
      // 0 + g, as the scalar path adds to the zeroed dx (a −0 gradient lands as +0 there too).
      const g = f32x4.add(zero, v128.load(src));
      const gl = v128.andnot(g, right),
        gr = v128.and(g, right);
      v128.store(dx + o, v128.shuffle<f32>(gl, gr, 0, 4, 1, 5));
      v128.store(dx + o, v128.shuffle<f32>(gl, gr, 2, 6, 3, 7), 16);
      src += 16;
      o += 32;
    }
    for (; ox < OW; ox++) {
      const q = beats(load<f32>(x + o, 4), load<f32>(x + o)) ? o + 4 : o;
      store<f32>(dx + q, load<f32>(dx + q) + load<f32>(src));
      src += 4;
      o += 8;
    }
  }
}

/** The specialised max-pool kernels: 2 for 2×2 windows at stride 2, 1 for 1×2 at stride (1, 2), else 0. */
// @ts-ignore: decorator
@inline function maxPath(mode: i32, kh: i32, kw: i32, sh: i32, sw: i32, ph: i32, pw: i32): i32 {
  if (mode != 0 || kw != 2 || sw != 2 || ph != 0 || pw != 0) return 0;
  return kh == 2 && sh == 2 ? 2 : kh == 1 && sh == 1 ? 1 : 0;
}

/** Max (mode 0) or average (mode 1, padding counted) pooling over P planes of H×W. */
export function pool2dForward(
  x: usize,
  P: i32,
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
  mode: i32,
  out: usize,
): void {
  const path = maxPath(mode, kh, kw, sh, sw, ph, pw);
  if (path == 2) {
    max2x2(x, P, H, W, OH, OW, out);
    return;
  }
  if (path == 1) {
    max1x2(x, P * H, W, OW, out);
    return;
  }
  const inv: f32 = 1.0 / <f32>(kh * kw);
  let dst = out;
  for (let p = 0; p < P; p++) {
    const plane = x + ((<usize>(p * H * W)) << 2);
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        let m: f32 = mode == 0 ? -Infinity : 0;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - pw + j;
            if (ix < 0 || ix >= W) continue;
            const v = load<f32>(plane + ((<usize>(iy * W + ix)) << 2));
            if (mode == 0) {
              if (beats(v, m)) m = v;
            } else m += v;
          }
        }
        store<f32>(dst, mode == 0 ? m : m * inv);
        dst += 4;
      }
    }
  }
}

/** Gradient of pool2dForward: dx (zeroed here). Max routes to the first maximal input. */
export function pool2dBackward(
  x: usize,
  P: i32,
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
  mode: i32,
  dy: usize,
  dx: usize,
): void {
  memory.fill(dx, 0, (<usize>(P * H * W)) << 2);
  const path = maxPath(mode, kh, kw, sh, sw, ph, pw);
  if (path == 2) {
    max2x2Backward(x, P, H, W, OH, OW, dy, dx);
    return;
  }
  if (path == 1) {
    max1x2Backward(x, P * H, W, OW, dy, dx);
    return;
  }
  const inv: f32 = 1.0 / <f32>(kh * kw);
  let src = dy;
  for (let p = 0; p < P; p++) {
    const off = (<usize>(p * H * W)) << 2;
    for (let oy = 0; oy < OH; oy++) {
      for (let ox = 0; ox < OW; ox++) {
        const g = load<f32>(src);
        src += 4;
        let best: f32 = -Infinity,
          arg: i32 = -1;
        for (let i = 0; i < kh; i++) {
          const iy = oy * sh - ph + i;
          if (iy < 0 || iy >= H) continue;
          for (let j = 0; j < kw; j++) {
            const ix = ox * sw - pw + j;
            if (ix < 0 || ix >= W) continue;
            const idx = iy * W + ix;
            if (mode == 0) {
              const v = load<f32>(x + off + ((<usize>idx) << 2));
              if (arg < 0 || beats(v, best)) {
                best = v;
                arg = idx;
              }
            } else {
              const q = dx + off + ((<usize>idx) << 2);
              store<f32>(q, load<f32>(q) + g * inv);
            }
          }
        }
        if (mode == 0 && arg >= 0) {
          const q = dx + off + ((<usize>arg) << 2);
          store<f32>(q, load<f32>(q) + g);
        }
      }
    }
  }
}

/** Threaded im2col: one task per channel. */
export function im2colTasks(
  counter: usize,
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  col: usize,
  tid: i32,
): void {
  for (let c = claim(counter); c < C; c = claim(counter))
    im2colRange(x, B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, col, c, c + 1);
  if (tid < 0) unreachable();
}

/** Threaded col2im: one task per channel. */
export function col2imTasks(
  counter: usize,
  col: usize,
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
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  dx: usize,
  tid: i32,
): void {
  for (let c = claim(counter); c < C; c = claim(counter))
    col2imRange(col, B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, dx, c, c + 1);
  if (tid < 0) unreachable();
}

/** Per-row sums of a [R × n] matrix (the conv bias gradient). */
export function rowSums(m: usize, R: i32, n: i32, out: usize): void {
  for (let c = 0; c < R; c++) {
    const row = m + ((<usize>(c * n)) << 2);
    let s4 = f32x4.splat(0);
    let k = 0;
    for (; k + 4 <= n; k += 4) s4 = f32x4.add(s4, v128.load(row + ((<usize>k) << 2)));
    let s: f32 =
      f32x4.extract_lane(s4, 0) + f32x4.extract_lane(s4, 1) + f32x4.extract_lane(s4, 2) + f32x4.extract_lane(s4, 3);
    for (; k < n; k++) s += load<f32>(row + ((<usize>k) << 2));
    store<f32>(out + ((<usize>c) << 2), s);
  }
}

/** Floats of one thread's scratch for convDirect: the padded image plus slack for over-reads. */
export function convDirectScratch(C: i32, H: i32, W: i32, ph: i32, pw: i32): i32 {
  return C * (H + 2 * ph) * (W + 2 * pw) + 16;
}

/** Copies image x [C, H, W] into P (convDirectScratch floats, zeroed first) with ph, pw zeros around each plane. */
export function padImage(x: usize, C: i32, H: i32, W: i32, ph: i32, pw: i32, P: usize): void {
  const Wp = W + 2 * pw,
    ws = (<usize>Wp) << 2,
    cs = (<usize>((H + 2 * ph) * Wp)) << 2;
  memory.fill(P, 0, (<usize>convDirectScratch(C, H, W, ph, pw)) << 2);
  for (let c = 0; c < C; c++)
    for (let r = 0; r < H; r++)
      memory.copy(
        P + <usize>c * cs + <usize>(r + ph) * ws + ((<usize>pw) << 2),
        x + ((<usize>((c * H + r) * W)) << 2),
        (<usize>W) << 2,
      );
}

/**
 * Output channels o … o+n−1 (n ≤ 4; weight rows w0 … w3, the missing ones repeating the last)
 * at eight pixels from src (the padded image at the block's first tap), into dst (channel
 * stride os bytes).
 */
// @ts-ignore: decorator
@inline function block4x8(
  src: usize,
  w0: usize,
  w1: usize,
  w2: usize,
  w3: usize,
  n: i32,
  C: i32,
  kh: i32,
  kw: i32,
  cs: usize,
  ws: usize,
  bias: usize,
  o: i32,
  dst: usize,
  os: usize,
  relu: bool,
): void {
  let a00 = f32x4.splat(0),
    a01 = a00,
    a10 = a00,
    a11 = a00,
    a20 = a00,
    a21 = a00,
    a30 = a00,
    a31 = a00;
  for (let c = 0; c < C; c++)
    for (let i = 0; i < kh; i++) {
      const s0 = src + <usize>c * cs + <usize>i * ws,
        t = (<usize>((c * kh + i) * kw)) << 2;
      for (let j = 0; j < kw; j++) {
        const s = s0 + ((<usize>j) << 2),
          v0 = v128.load(s),
          v1 = v128.load(s, 16),
          tj = t + ((<usize>j) << 2);
        let wv = v128.load32_splat(w0 + tj);
        a00 = madd(wv, v0, a00);
        a01 = madd(wv, v1, a01);
        wv = v128.load32_splat(w1 + tj);
        a10 = madd(wv, v0, a10);
        a11 = madd(wv, v1, a11);
        wv = v128.load32_splat(w2 + tj);
        a20 = madd(wv, v0, a20);
        a21 = madd(wv, v1, a21);
        wv = v128.load32_splat(w3 + tj);
        a30 = madd(wv, v0, a30);
        a31 = madd(wv, v1, a31);
      }
    }
  let b = biasSplat(bias, o);
  v128.store(dst, epilogue(a00, b, relu));
  v128.store(dst, epilogue(a01, b, relu), 16);
  if (n < 2) return;
  b = biasSplat(bias, o + 1);
  v128.store(dst + os, epilogue(a10, b, relu));
  v128.store(dst + os, epilogue(a11, b, relu), 16);
  if (n < 3) return;
  b = biasSplat(bias, o + 2);
  v128.store(dst + 2 * os, epilogue(a20, b, relu));
  v128.store(dst + 2 * os, epilogue(a21, b, relu), 16);
  if (n < 4) return;
  b = biasSplat(bias, o + 3);
  v128.store(dst + 3 * os, epilogue(a30, b, relu));
  v128.store(dst + 3 * os, epilogue(a31, b, relu), 16);
}

/** As block4x8, at four pixels. */
// @ts-ignore: decorator
@inline function block4x4(
  src: usize,
  w0: usize,
  w1: usize,
  w2: usize,
  w3: usize,
  n: i32,
  C: i32,
  kh: i32,
  kw: i32,
  cs: usize,
  ws: usize,
  bias: usize,
  o: i32,
  dst: usize,
  os: usize,
  relu: bool,
): void {
  let a0 = f32x4.splat(0),
    a1 = a0,
    a2 = a0,
    a3 = a0;
  for (let c = 0; c < C; c++)
    for (let i = 0; i < kh; i++) {
      const s0 = src + <usize>c * cs + <usize>i * ws,
        t = (<usize>((c * kh + i) * kw)) << 2;
      for (let j = 0; j < kw; j++) {
        const v = v128.load(s0 + ((<usize>j) << 2)),
          tj = t + ((<usize>j) << 2);
        a0 = madd(v128.load32_splat(w0 + tj), v, a0);
        a1 = madd(v128.load32_splat(w1 + tj), v, a1);
        a2 = madd(v128.load32_splat(w2 + tj), v, a2);
        a3 = madd(v128.load32_splat(w3 + tj), v, a3);
      }
    }
  v128.store(dst, epilogue(a0, biasSplat(bias, o), relu));
  if (n > 1) v128.store(dst + os, epilogue(a1, biasSplat(bias, o + 1), relu));
  if (n > 2) v128.store(dst + 2 * os, epilogue(a2, biasSplat(bias, o + 2), relu));
  if (n > 3) v128.store(dst + 3 * os, epilogue(a3, biasSplat(bias, o + 3), relu));
}

/** acc + bias, then max(·, 0) when relu (as the relu kernel computes it). */
// @ts-ignore: decorator
@inline function epilogue(acc: v128, b: v128, relu: bool): v128 {
  const y = f32x4.add(acc, b);
  return relu ? f32x4.max(y, f32x4.splat(0)) : y;
}

// @ts-ignore: decorator
@inline function biasSplat(bias: usize, o: i32): v128 {
  return f32x4.splat(bias ? load<f32>(bias + ((<usize>o) << 2)) : 0);
}

/** One output channel's row narrower than four pixels (OW < 4): one vector whose extra lanes read the padded image's
 * slack, stored lane by lane. */
function narrowRow(
  row: usize,
  wo: usize,
  C: i32,
  kh: i32,
  kw: i32,
  cs: usize,
  ws: usize,
  bias: usize,
  o: i32,
  dst: usize,
  OW: i32,
  relu: bool,
): void {
  let a = biasSplat(bias, o);
  for (let c = 0; c < C; c++)
    for (let i = 0; i < kh; i++) {
      const src = row + <usize>c * cs + <usize>i * ws,
        wt = wo + ((<usize>((c * kh + i) * kw)) << 2);
      for (let j = 0; j < kw; j++)
        a = madd(v128.load32_splat(wt + ((<usize>j) << 2)), v128.load(src + ((<usize>j) << 2)), a);
    }
  if (relu) a = f32x4.max(a, f32x4.splat(0));
  store<f32>(dst, f32x4.extract_lane(a, 0));
  if (OW > 1) store<f32>(dst, f32x4.extract_lane(a, 1), 4);
  if (OW > 2) store<f32>(dst, f32x4.extract_lane(a, 2), 8);
}

/**
 * Direct convolution of one image, output channels o0 … Co − 1, for few input channels (stride 1,
 * no dilation), where im2col and a GEMM with a short K = C·kh·kw spend much of their time moving
 * data: the image is padded into P, then each output row is built for four channels at a time,
 * eight (or four) pixels per block, one broadcast weight per channel and tap.
 */
function convDirectImage(
  x: usize,
  w: usize,
  bias: usize,
  C: i32,
  H: i32,
  W: i32,
  o0: i32,
  Co: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  out: usize,
  P: usize,
  relu: bool,
  pool: bool,
): void {
  const Hp = H + 2 * ph,
    Wp = W + 2 * pw,
    ws = (<usize>Wp) << 2,
    cs = (<usize>(Hp * Wp)) << 2,
    taps = C * kh * kw;
  padImage(x, C, H, W, ph, pw, P);
  // Output channels o0 … Co − 1 four at a time (the last group may have fewer: its missing
  // weight rows repeat the last one and their results are not stored) × eight pixels, then four;
  // the last four-pixel block overlaps the one before when OW is not a multiple of 4.
  const wst = (<usize>taps) << 2,
    os = (<usize>(OH * OW)) << 2;
  // Pooled: the four channels' planes go through Q (in cache) and are pooled from there.
  const Q = P + ((<usize>convDirectScratch(C, H, W, ph, pw)) << 2),
    PH = OH >> 1,
    PW = OW >> 1;
  for (let o = o0; o < Co; o += 4) {
    const n = min(4, Co - o),
      w0 = w + <usize>o * wst;
    const w1 = w0 + <usize>min(1, n - 1) * wst,
      w2 = w0 + <usize>min(2, n - 1) * wst,
      w3 = w0 + <usize>min(3, n - 1) * wst;
    for (let y = 0; y < OH; y++) {
      const dst = (pool ? Q : out + <usize>o * os) + ((<usize>(y * OW)) << 2),
        row = P + <usize>y * ws;
      let x0 = 0;
      for (; x0 + 8 <= OW; x0 += 8)
        block4x8(
          row + ((<usize>x0) << 2),
          w0,
          w1,
          w2,
          w3,
          n,
          C,
          kh,
          kw,
          cs,
          ws,
          bias,
          o,
          dst + ((<usize>x0) << 2),
          os,
          relu,
        );
      if (OW < 4) {
        for (let c = 0; c < n; c++)
          narrowRow(row, w0 + <usize>c * wst, C, kh, kw, cs, ws, bias, o + c, dst + <usize>c * os, OW, relu);
        continue;
      }
      for (; x0 < OW; x0 += 4) {
        const xs = min(x0, OW - 4);
        block4x4(
          row + ((<usize>xs) << 2),
          w0,
          w1,
          w2,
          w3,
          n,
          C,
          kh,
          kw,
          cs,
          ws,
          bias,
          o,
          dst + ((<usize>xs) << 2),
          os,
          relu,
        );
      }
    }
    if (pool) max2x2(Q, n, OH, OW, PH, PW, out + ((<usize>(o * PH * PW)) << 2));
  }
}

/** Floats of one thread's scratch for the direct kernel: convDirectScratch, plus four output planes when pooled. */
export function directScratch(C: i32, H: i32, W: i32, ph: i32, pw: i32, OH: i32, OW: i32, pool: bool): i32 {
  return convDirectScratch(C, H, W, ph, pw) + (pool ? 4 * OH * OW : 0);
}

/**
 * out [B, Co, OH, OW] = conv(x [B, C, H, W], w [Co, C, kh, kw]) + bias (then max(·, 0) when relu), stride 1,
 * no dilation; pooled (after relu): 2×2 max pooling into out [B, Co, ⌊OH/2⌋, ⌊OW/2⌋] as each group of four
 * channels is done. P: directScratch floats.
 */
export function convDirect(
  x: usize,
  w: usize,
  bias: usize,
  B: i32,
  C: i32,
  H: i32,
  W: i32,
  Co: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  out: usize,
  P: usize,
  relu: bool,
  pool: bool,
): void {
  for (let b = 0; b < B; b++)
    convDirectImage(
      x + ((<usize>(b * C * H * W)) << 2),
      w,
      bias,
      C,
      H,
      W,
      0,
      Co,
      kh,
      kw,
      ph,
      pw,
      OH,
      OW,
      out + ((<usize>(b * Co * (pool ? (OH >> 1) * (OW >> 1) : OH * OW))) << 2),
      P,
      relu,
      pool,
    );
}

/** Output channels per task of convDirectTasks (so a single image still splits over threads). */
const DIRECT_TASK_CHANNELS = 4;

/** Threaded convDirect: tasks of one image × DIRECT_TASK_CHANNELS output channels; thread tid's scratch at P +
 * tid·directScratch floats. */
export function convDirectTasks(
  counter: usize,
  x: usize,
  w: usize,
  bias: usize,
  B: i32,
  C: i32,
  H: i32,
  W: i32,
  Co: i32,
  kh: i32,
  kw: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  out: usize,
  P: usize,
  relu: bool,
  pool: bool,
  tid: i32,
): void {
  const own = P + ((<usize>(tid * directScratch(C, H, W, ph, pw, OH, OW, pool))) << 2),
    G = (Co + DIRECT_TASK_CHANNELS - 1) / DIRECT_TASK_CHANNELS;
  for (let t = claim(counter); t < B * G; t = claim(counter)) {
    const b = t / G,
      o0 = (t % G) * DIRECT_TASK_CHANNELS;
    convDirectImage(
      x + ((<usize>(b * C * H * W)) << 2),
      w,
      bias,
      C,
      H,
      W,
      o0,
      min(Co, o0 + DIRECT_TASK_CHANNELS),
      kh,
      kw,
      ph,
      pw,
      OH,
      OW,
      out + ((<usize>(b * Co * (pool ? (OH >> 1) * (OW >> 1) : OH * OW))) << 2),
      own,
      relu,
      pool,
    );
  }
}

/**
 * The per-bin convolutions of binConv2d on threads, one bin per task: bin h convolves
 * x + h·B·C·H·W floats with w + h·Co·C·kh·kw into out + h·B·Co·OH·OW, each on one thread, so
 * small bins (a batch of one) run side by side instead of one after another. direct: the
 * direct kernel (P: its scratch, convDirectScratch floats per thread) instead of im2col + GEMM
 * (P: ckk·n + Co·n floats per thread; work: gemmWorkBytes per thread), as conv2dForward picks.
 */
export function binConvTasks(
  counter: usize,
  bins: i32,
  direct: bool,
  x: usize,
  w: usize,
  B: i32,
  C: i32,
  H: i32,
  W: i32,
  Co: i32,
  kh: i32,
  kw: i32,
  sh: i32,
  sw: i32,
  ph: i32,
  pw: i32,
  dh: i32,
  dw: i32,
  OH: i32,
  OW: i32,
  out: usize,
  P: usize,
  work: usize,
  tid: i32,
): void {
  const n = B * OH * OW,
    ckk = C * kh * kw;
  const xs = (<usize>(B * C * H * W)) << 2,
    ws = (<usize>(Co * ckk)) << 2,
    ys = (<usize>(Co * n)) << 2;
  const own = P + ((<usize>tid * <usize>(direct ? convDirectScratch(C, H, W, ph, pw) : ckk * n + Co * n)) << 2);
  const wk = work + <usize>tid * <usize>gemmWorkBytes();
  for (let h = claim(counter); h < bins; h = claim(counter)) {
    const xh = x + <usize>h * xs,
      wh = w + <usize>h * ws,
      oh = out + <usize>h * ys;
    if (direct) {
      convDirect(xh, wh, 0, B, C, H, W, Co, kh, kw, ph, pw, OH, OW, oh, own, false, false);
      continue;
    }
    const tmp = own + ((<usize>(ckk * n)) << 2);
    im2col(xh, B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW, own);
    gemm(false, false, Co, n, ckk, wh, ckk, own, n, tmp, n, false, wk);
    swap01(tmp, Co, B, OH * OW, oh, 0, false);
  }
}
