// Packing a GEMM panel of im2col's matrix straight from the image, so a convolution runs as one GEMM
// without writing the im2col matrix: col[(c·kh + i)·kw + j, b·OH·OW + oy·OW + ox] = x[b, c, oy·sh − ph + i·dh,
// ox·sw − pw + j·dw] (0 outside), the same values im2col writes, so the product is bit-identical.

/** Geometry ints at `geo` (conv2d's order, batch first): B, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, OH, OW. */
// @ts-ignore: decorator
@inline function g(geo: usize, i: i32): i32 {
  return load<i32>(geo + ((<usize>i) << 2));
}

/** Eight floats at x + 4·(offsets + koff) (offsets: two i32x4 vectors) into dst. */
// @ts-ignore: decorator
@inline function gather8(x: usize, lo: v128, hi: v128, dst: usize): void {
  let v = v128.load32_zero(x + ((<usize>i32x4.extract_lane(lo, 0)) << 2));
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(lo, 1)) << 2), v, 1);
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(lo, 2)) << 2), v, 2);
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(lo, 3)) << 2), v, 3);
  v128.store(dst, v);
  v = v128.load32_zero(x + ((<usize>i32x4.extract_lane(hi, 0)) << 2));
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(hi, 1)) << 2), v, 1);
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(hi, 2)) << 2), v, 2);
  v = v128.load32_lane(x + ((<usize>i32x4.extract_lane(hi, 3)) << 2), v, 3);
  v128.store(dst, v, 16);
}

/**
 * As gemm's packB on im2col's matrix: panels of 8 columns, panel p holding rows k0..k0+kc of columns
 * j0+8p..+8, k-major, zero past nc. `cols` holds 32 ints of scratch (each column's image origin).
 */
export function packCol(x: usize, geo: usize, k0: i32, kc: i32, j0: i32, nc: i32, Bp: usize, cols: usize): void {
  const C = g(geo, 1),
    H = g(geo, 2),
    W = g(geo, 3),
    kh = g(geo, 4),
    kw = g(geo, 5),
    sh = g(geo, 6),
    sw = g(geo, 7),
    ph = g(geo, 8),
    pw = g(geo, 9),
    dh = g(geo, 10),
    dw = g(geo, 11),
    OH = g(geo, 12),
    OW = g(geo, 13);
  const P = OH * OW,
    HW = H * W,
    taps = kh * kw,
    spanY = (kh - 1) * dh,
    spanX = (kw - 1) * dw;
  for (let jp = 0; jp < nc; jp += 8) {
    const w = min(8, nc - jp),
      j = j0 + jp;
    // Each column's origin: image offset b·C·H·W at cols, top row at cols + 32, left column at cols + 64, and
    // their sum as a float index at cols + 96; columns past nc get a row no tap reaches, so they pack as zeros.
    // A panel is interior when every tap of every column is inside the image: then no tap needs a check.
    let interior = w == 8;
    for (let jj = 0; jj < 8; jj++) {
      const o = cols + ((<usize>jj) << 2);
      if (jj < w) {
        const q = j + jj,
          b = q / P,
          r = q - b * P,
          oy = r / OW;
        const iy = oy * sh - ph,
          ix = (r - oy * OW) * sw - pw;
        store<i32>(o, b * C * HW);
        store<i32>(o, iy, 32);
        store<i32>(o, ix, 64);
        store<i32>(o, b * C * HW + iy * W + ix, 96);
        interior = interior && iy >= 0 && iy + spanY < H && ix >= 0 && ix + spanX < W;
      } else store<i32>(o, -(1 << 30), 32);
    }
    // Eight columns of one output row at unit stride read eight adjacent pixels; eight split over two rows
    // (the first `split` in one, the rest from the next one's start) read eight adjacent pixels at each
    // start and take lanes from both. Interior columns keep every such load inside the image.
    const ox0 = load<i32>(cols, 64) + pw;
    const row = w == 8 && sw == 1 && ox0 + 7 < OW;
    const split = OW - ox0;
    const two = !row && interior && sw == 1 && split < 8 && 8 - split <= OW;
    const lanes = i32x4.splat(split);
    const m0 = i32x4.lt_s(i32x4(0, 1, 2, 3), lanes),
      m1 = i32x4.lt_s(i32x4(4, 5, 6, 7), lanes);
    const back = two ? load<i32>(cols + ((<usize>split) << 2), 96) - split : 0;
    const iy0 = load<i32>(cols, 32),
      ix0 = load<i32>(cols, 64),
      off0 = load<i32>(cols, 96);
    const offLo = v128.load(cols, 96),
      offHi = v128.load(cols, 112);
    let c = k0 / taps;
    const t = k0 - c * taps;
    let ki = t / kw,
      kj = t - ki * kw;
    let dst = Bp + ((<usize>(jp * kc)) << 2);
    for (let k = 0; k < kc; k++) {
      const dy = ki * dh,
        dx = kj * dw,
        coff = c * HW,
        koff = coff + dy * W + dx;
      const iy = iy0 + dy,
        ix = ix0 + dx;
      if (row && <u32>iy < <u32>H && ix >= 0 && ix + 7 < W) {
        const src = x + ((<usize>(off0 + koff)) << 2);
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
      } else if (two) {
        const a = x + ((<usize>(off0 + koff)) << 2),
          b = x + ((<usize>(back + koff)) << 2);
        v128.store(dst, v128.bitselect(v128.load(a), v128.load(b), m0));
        v128.store(dst, v128.bitselect(v128.load(a, 16), v128.load(b, 16), m1), 16);
      } else if (interior) {
        const kv = i32x4.splat(koff);
        gather8(x, i32x4.add(offLo, kv), i32x4.add(offHi, kv), dst);
      } else {
        for (let jj = 0; jj < 8; jj++) {
          const o = cols + ((<usize>jj) << 2);
          const y = load<i32>(o, 32) + dy,
            xx = load<i32>(o, 64) + dx;
          let v: f32 = 0;
          if (<u32>y < <u32>H && <u32>xx < <u32>W)
            v = load<f32>(x + ((<usize>(load<i32>(o) + coff + y * W + xx)) << 2));
          store<f32>(dst + ((<usize>jj) << 2), v);
        }
      }
      dst += 32;
      if (++kj == kw) {
        kj = 0;
        if (++ki == kh) {
          ki = 0;
          c++;
        }
      }
    }
  }
}

/** P planes of H×W at x, zero-padded by ph rows and pw columns per side, to out (P planes of (H+2ph)×(W+2pw)). */
export function padPlanes(x: usize, P: i32, H: i32, W: i32, ph: i32, pw: i32, out: usize): void {
  const Wp = W + 2 * pw,
    rowBytes = (<usize>W) << 2,
    edge = (<usize>pw) << 2,
    band = (<usize>(ph * Wp)) << 2;
  let src = x,
    dst = out;
  for (let p = 0; p < P; p++) {
    memory.fill(dst, 0, band);
    dst += band;
    for (let y = 0; y < H; y++) {
      memory.fill(dst, 0, edge);
      memory.copy(dst + edge, src, rowBytes);
      memory.fill(dst + edge + rowBytes, 0, edge);
      src += rowBytes;
      dst += rowBytes + 2 * edge;
    }
    memory.fill(dst, 0, band);
    dst += band;
  }
}
