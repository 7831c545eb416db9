// Direct convolution vectorized across output channels (stride 1, no dilation): each tap's weights for eight
// output channels are two vectors, each input value one broadcast, so a block of four output pixels takes two
// weight loads and four broadcasts per tap for eight multiply-adds, and the pixels need not be contiguous: a
// block runs across output rows, so narrow outputs (11 wide) waste nothing. Every output sums its taps in the
// order channel, row, column from zero, then adds the bias, then relu: the same bits as convDirect (except its
// rows narrower than 4 pixels, which start from the bias).
import { claim, madd } from './gemm';
import { convDirectScratch, max2x2, padImage } from './conv';

/** Output channels per group: two vectors. */
const GROUP = 8;
/** Output pixels per block: eight accumulators; six pixels (twelve) spilled registers and ran at half the speed. */
const PIX = 4;

/** Floats of chanPack's output: weights [⌈Co/8⌉][taps][8] then bias [⌈Co/8⌉·8], zero-padded. */
export function chanPackFloats(Co: i32, taps: i32): i32 {
  const G = (Co + GROUP - 1) / GROUP;
  return G * taps * GROUP + G * GROUP;
}

/** Packs w [Co, taps] and bias [Co] (0: none) for convChan: group g's tap t holds channels 8g … 8g+7 side by side. */
export function chanPack(w: usize, bias: usize, Co: i32, taps: i32, out: usize): void {
  const G = (Co + GROUP - 1) / GROUP;
  memory.fill(out, 0, (<usize>chanPackFloats(Co, taps)) << 2);
  for (let o = 0; o < Co; o++) {
    const g = o / GROUP,
      k = o % GROUP,
      dst = out + ((<usize>(g * taps * GROUP + k)) << 2),
      src = w + ((<usize>(o * taps)) << 2);
    for (let t = 0; t < taps; t++) store<f32>(dst + ((<usize>(t * GROUP)) << 2), load<f32>(src + ((<usize>t) << 2)));
  }
  const pb = out + ((<usize>(G * taps * GROUP)) << 2);
  if (bias) memory.copy(pb, bias, (<usize>Co) << 2);
}

/** Floats of one thread's scratch: the padded image when padded, eight output planes when pooled, then the offset
 * tables of the taps and of the output pixels. */
export function chanScratch(
  C: i32,
  H: i32,
  W: i32,
  ph: i32,
  pw: i32,
  OH: i32,
  OW: i32,
  pool: bool,
  kh: i32,
  kw: i32,
): i32 {
  return (ph | pw ? convDirectScratch(C, H, W, ph, pw) : 0) + (pool ? GROUP * OH * OW : 0) + C * kh * kw + OH * OW;
}

// @ts-ignore: decorator
@inline function put(a: v128, b: v128, relu: bool): v128 {
  const y = f32x4.add(a, b);
  return relu ? f32x4.max(y, f32x4.splat(0)) : y;
}

/** Stores one pixel's eight channels (lo: 0–3, hi: 4–7) at dst, channel stride os bytes; only the first n. */
// @ts-ignore: decorator
@inline function store8(lo: v128, hi: v128, dst: usize, os: usize, n: i32): void {
  store<f32>(dst, f32x4.extract_lane(lo, 0));
  if (n == GROUP) {
    store<f32>(dst + os, f32x4.extract_lane(lo, 1));
    store<f32>(dst + 2 * os, f32x4.extract_lane(lo, 2));
    store<f32>(dst + 3 * os, f32x4.extract_lane(lo, 3));
    store<f32>(dst + 4 * os, f32x4.extract_lane(hi, 0));
    store<f32>(dst + 5 * os, f32x4.extract_lane(hi, 1));
    store<f32>(dst + 6 * os, f32x4.extract_lane(hi, 2));
    store<f32>(dst + 7 * os, f32x4.extract_lane(hi, 3));
    return;
  }
  if (n > 1) store<f32>(dst + os, f32x4.extract_lane(lo, 1));
  if (n > 2) store<f32>(dst + 2 * os, f32x4.extract_lane(lo, 2));
  if (n > 3) store<f32>(dst + 3 * os, f32x4.extract_lane(lo, 3));
  if (n > 4) store<f32>(dst + 4 * os, f32x4.extract_lane(hi, 0));
  if (n > 5) store<f32>(dst + 5 * os, f32x4.extract_lane(hi, 1));
  if (n > 6) store<f32>(dst + 6 * os, f32x4.extract_lane(hi, 2));
  if (n > 7) store<f32>(dst + 7 * os, f32x4.extract_lane(hi, 3));
}

/** a0 … a3: four channels (lanes) at four pixels; stores each channel's four pixels at dst + c·os. */
// @ts-ignore: decorator
@inline function store4x4(a0: v128, a1: v128, a2: v128, a3: v128, dst: usize, os: usize): void {
  const t0 = v128.shuffle<f32>(a0, a1, 0, 4, 1, 5),
    t1 = v128.shuffle<f32>(a2, a3, 0, 4, 1, 5),
    t2 = v128.shuffle<f32>(a0, a1, 2, 6, 3, 7),
    t3 = v128.shuffle<f32>(a2, a3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + os, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * os, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * os, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

/**
 * One group of n ≤ 8 output channels (packed weights wp, packed bias pb) over every output pixel of one image
 * (img: its planes, padded or not; offs: each tap's byte offset in it; pix: each output pixel's), into dst (channel
 * stride OH·OW floats).
 */
function chanGroup(
  img: usize,
  wp: usize,
  pb: usize,
  n: i32,
  offs: usize,
  taps: i32,
  pix: usize,
  OH: i32,
  OW: i32,
  dst: usize,
  relu: bool,
): void {
  const npix = OH * OW,
    os = (<usize>npix) << 2,
    b0 = v128.load(pb),
    b1 = v128.load(pb, 16);
  for (let p0 = 0; p0 < npix; p0 += PIX) {
    // The last block repeats its last pixel: the repeats store the same values to the same place.
    const q0 = p0,
      q1 = min(p0 + 1, npix - 1),
      q2 = min(p0 + 2, npix - 1),
      q3 = min(p0 + 3, npix - 1);
    const s0 = img + <usize>load<i32>(pix + ((<usize>q0) << 2)),
      s1 = img + <usize>load<i32>(pix + ((<usize>q1) << 2)),
      s2 = img + <usize>load<i32>(pix + ((<usize>q2) << 2)),
      s3 = img + <usize>load<i32>(pix + ((<usize>q3) << 2));
    let l0 = f32x4.splat(0),
      l1 = l0,
      l2 = l0,
      l3 = l0,
      h0 = l0,
      h1 = l0,
      h2 = l0,
      h3 = l0;
    for (let t = 0; t < taps; t++) {
      const r = <usize>load<i32>(offs + ((<usize>t) << 2)),
        wt = wp + ((<usize>t) << 5),
        wl = v128.load(wt),
        wh = v128.load(wt, 16);
      let v = v128.load32_splat(s0 + r);
      l0 = madd(wl, v, l0);
      h0 = madd(wh, v, h0);
      v = v128.load32_splat(s1 + r);
      l1 = madd(wl, v, l1);
      h1 = madd(wh, v, h1);
      v = v128.load32_splat(s2 + r);
      l2 = madd(wl, v, l2);
      h2 = madd(wh, v, h2);
      v = v128.load32_splat(s3 + r);
      l3 = madd(wl, v, l3);
      h3 = madd(wh, v, h3);
    }
    if (n == GROUP && p0 + PIX <= npix) {
      // Four whole pixels, contiguous in every output plane: transposed to one vector per channel.
      const d = dst + ((<usize>p0) << 2);
      store4x4(put(l0, b0, relu), put(l1, b0, relu), put(l2, b0, relu), put(l3, b0, relu), d, os);
      store4x4(put(h0, b1, relu), put(h1, b1, relu), put(h2, b1, relu), put(h3, b1, relu), d + 4 * os, os);
      continue;
    }
    store8(put(l0, b0, relu), put(h0, b1, relu), dst + ((<usize>q0) << 2), os, n);
    store8(put(l1, b0, relu), put(h1, b1, relu), dst + ((<usize>q1) << 2), os, n);
    store8(put(l2, b0, relu), put(h2, b1, relu), dst + ((<usize>q2) << 2), os, n);
    store8(put(l3, b0, relu), put(h3, b1, relu), dst + ((<usize>q3) << 2), os, n);
  }
}

/**
 * Tasks of (image, group of eight output channels), claimed from counter: out [B, Co, OH, OW] = conv(x [B, C, H,
 * W], packed weights and bias pk from chanPack) (then relu; pooled: 2×2 max pooling into out [B, Co, ⌊OH/2⌋,
 * ⌊OW/2⌋]). Thread tid's scratch at P + tid·chanScratch floats. One thread: tid 0 and a counter of its own.
 */
export function convChanTasks(
  counter: usize,
  x: usize,
  pk: usize,
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
  const padded = (ph | pw) != 0,
    own = P + ((<usize>(tid * chanScratch(C, H, W, ph, pw, OH, OW, pool, kh, kw))) << 2),
    Q = own + (padded ? (<usize>convDirectScratch(C, H, W, ph, pw)) << 2 : 0),
    G = (Co + GROUP - 1) / GROUP,
    taps = C * kh * kw,
    Wp = W + 2 * pw,
    ws = (<usize>Wp) << 2,
    cs = (<usize>((H + 2 * ph) * Wp)) << 2,
    PH = OH >> 1,
    PW = OW >> 1,
    plane = pool ? PH * PW : OH * OW;
  // Each tap's offset in the image, so that one loop runs over all taps.
  const offs = Q + (pool ? (<usize>(GROUP * OH * OW)) << 2 : 0);
  for (let c = 0, t = 0; c < C; c++)
    for (let i = 0; i < kh; i++)
      for (let j = 0; j < kw; j++, t++)
        store<i32>(offs + ((<usize>t) << 2), <i32>(<usize>c * cs + <usize>i * ws) + 4 * j);
  // Each output pixel's offset in the image: loaded in chanGroup, so the compiler cannot sink the divisions into
  // the tap loop (TurboFan did, eight divisions per tap).
  const pix = offs + ((<usize>taps) << 2);
  for (let p = 0; p < OH * OW; p++) store<i32>(pix + ((<usize>p) << 2), <i32>(<usize>(p / OW) * ws) + 4 * (p % OW));
  let have = -1; // the image padded in own now
  for (let t = claim(counter); t < B * G; t = claim(counter)) {
    const b = t / G,
      g = t % G,
      n = min(GROUP, Co - g * GROUP),
      xb = x + ((<usize>(b * C * H * W)) << 2);
    if (padded && have != b) {
      padImage(xb, C, H, W, ph, pw, own);
      have = b;
    }
    const dst = out + ((<usize>((b * Co + g * GROUP) * plane)) << 2);
    chanGroup(
      padded ? own : xb,
      pk + ((<usize>(g * taps * GROUP)) << 2),
      pk + ((<usize>(G * taps * GROUP + g * GROUP)) << 2),
      n,
      offs,
      taps,
      pix,
      OH,
      OW,
      pool ? Q : dst,
      relu,
    );
    if (pool) max2x2(Q, n, OH, OW, PH, PW, dst);
  }
}
