// Elementwise hot paths (SIMD128 with scalar tails).

export function relu(x: usize, y: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(y + o, f32x4.max(v128.load(x + o), z));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const v = load<f32>(x + o);
    store<f32>(y + o, max<f32>(v, 0)); // NaN stays NaN, as in f32x4.max above (and PyTorch)
  }
}

/** dx = dy where x > 0, else 0. */
export function reluBackward(x: usize, dy: usize, dx: usize, n: i32): void {
  const z = f32x4.splat(0);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    v128.store(dx + o, v128.and(v128.load(dy + o), f32x4.gt(v128.load(x + o), z)));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    store<f32>(dx + o, load<f32>(x + o) > 0 ? load<f32>(dy + o) : 0);
  }
}

/** op 0: y = a + b, 1: a - b, 2: a * b, 3: a / b (same length). */
export function binary(a: usize, b: usize, y: usize, n: i32, op: i32): void {
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const u = v128.load(a + o),
      v = v128.load(b + o);
    v128.store(
      y + o,
      op == 0 ? f32x4.add(u, v) : op == 1 ? f32x4.sub(u, v) : op == 2 ? f32x4.mul(u, v) : f32x4.div(u, v),
    );
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    const u = load<f32>(a + o),
      v = load<f32>(b + o);
    store<f32>(y + o, op == 0 ? u + v : op == 1 ? u - v : op == 2 ? u * v : u / v);
  }
}

/**
 * Adam / AdamW step (Kingma & Ba, eq. in Alg. 1; Loshchilov & Hutter for decoupled decay).
 * bc1 = 1 - β1^t, bc2 = 1 - β2^t. decoupled: p -= lr·wd·p; else g += wd·p.
 */
export function adam(
  p: usize,
  g: usize,
  m: usize,
  v: usize,
  n: i32,
  lr: f32,
  b1: f32,
  b2: f32,
  eps: f32,
  wd: f32,
  bc1: f32,
  bc2: f32,
  decoupled: bool,
): void {
  const step = lr / bc1;
  const rb2: f32 = 1.0 / sqrt<f32>(bc2);
  const vb1 = f32x4.splat(b1),
    vb1c = f32x4.splat(1 - b1),
    vb2 = f32x4.splat(b2),
    vb2c = f32x4.splat(1 - b2);
  const vstep = f32x4.splat(step),
    vrb2 = f32x4.splat(rb2),
    veps = f32x4.splat(eps);
  const vdec = f32x4.splat(decoupled ? 1 - lr * wd : 1),
    vl2 = f32x4.splat(decoupled ? 0 : wd);
  let i = 0;
  for (; i + 4 <= n; i += 4) {
    const o = (<usize>i) << 2;
    const pi0 = v128.load(p + o);
    const gi = f32x4.add(v128.load(g + o), f32x4.mul(vl2, pi0));
    const pi = f32x4.mul(pi0, vdec);
    const mi = f32x4.add(f32x4.mul(vb1, v128.load(m + o)), f32x4.mul(vb1c, gi));
    const vi = f32x4.add(f32x4.mul(vb2, v128.load(v + o)), f32x4.mul(vb2c, f32x4.mul(gi, gi)));
    v128.store(m + o, mi);
    v128.store(v + o, vi);
    v128.store(p + o, f32x4.sub(pi, f32x4.div(f32x4.mul(vstep, mi), f32x4.add(f32x4.mul(f32x4.sqrt(vi), vrb2), veps))));
  }
  for (; i < n; i++) {
    const o = (<usize>i) << 2;
    let pi = load<f32>(p + o),
      gi = load<f32>(g + o);
    if (decoupled) pi *= 1 - lr * wd;
    else gi += wd * pi;
    const mi = b1 * load<f32>(m + o) + (1 - b1) * gi;
    const vi = b2 * load<f32>(v + o) + (1 - b2) * gi * gi;
    store<f32>(m + o, mi);
    store<f32>(v + o, vi);
    store<f32>(p + o, pi - (step * mi) / (sqrt<f32>(vi) * rb2 + eps));
  }
}

/**
 * y = a + b with b (length n) repeated over the reps rows of a (bias over a batch), then max(·, 0)
 * when relu (Linear + ReLU at inference; the relu kernel's own f32x4.max, so bit-identical to it).
 */
export function tileAdd(a: usize, b: usize, y: usize, reps: i32, n: i32, relu: bool): void {
  const z = f32x4.splat(0);
  for (let r = 0; r < reps; r++) {
    const off = (<usize>(r * n)) << 2;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = (<usize>j) << 2;
      const v = f32x4.add(v128.load(a + off + o), v128.load(b + o));
      v128.store(y + off + o, relu ? f32x4.max(v, z) : v);
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      const v = load<f32>(a + off + o) + load<f32>(b + o);
      store<f32>(y + off + o, relu ? max<f32>(v, 0) : v); // NaN stays NaN, as f32x4.max above
    }
  }
}

/** out[j] = Σ_r g[r·n + j]: the gradient of a tiled operand (sums in row order). */
export function sumTiles(g: usize, reps: i32, n: i32, out: usize): void {
  memory.fill(out, 0, (<usize>n) << 2);
  for (let r = 0; r < reps; r++) {
    const off = (<usize>(r * n)) << 2;
    let j = 0;
    for (; j + 4 <= n; j += 4) {
      const o = (<usize>j) << 2;
      v128.store(out + o, f32x4.add(v128.load(out + o), v128.load(g + off + o)));
    }
    for (; j < n; j++) {
      const o = (<usize>j) << 2;
      store<f32>(out + o, load<f32>(out + o) + load<f32>(g + off + o));
    }
  }
}

/**
 * y[p, c, q] = x[p, c, q]·scale[c] + shift[c] over outer × C × inner values (a per-channel
 * affine map: batch norm at inference, a bias over [B, C, H, W]). mode 1: scale only (x·scale),
 * mode 2: shift only (x + shift); the product and the sum are rounded separately, as in two ops.
 */
export function channelAffine(
  x: usize,
  scale: usize,
  shift: usize,
  outer: i32,
  C: i32,
  inner: i32,
  y: usize,
  mode: i32,
): void {
  let off: usize = 0;
  for (let p = 0; p < outer; p++) {
    for (let c = 0; c < C; c++) {
      const s = mode == 2 ? <f32>1 : load<f32>(scale + ((<usize>c) << 2)),
        t = mode == 1 ? <f32>0 : load<f32>(shift + ((<usize>c) << 2));
      const sv = f32x4.splat(s),
        tv = f32x4.splat(t);
      let q = 0;
      if (mode == 1) {
        for (; q + 4 <= inner; q += 4, off += 16) v128.store(y + off, f32x4.mul(v128.load(x + off), sv));
        for (; q < inner; q++, off += 4) store<f32>(y + off, load<f32>(x + off) * s);
      } else if (mode == 2) {
        for (; q + 4 <= inner; q += 4, off += 16) v128.store(y + off, f32x4.add(v128.load(x + off), tv));
        for (; q < inner; q++, off += 4) store<f32>(y + off, load<f32>(x + off) + t);
      } else {
        for (; q + 4 <= inner; q += 4, off += 16) v128.store(y + off, f32x4.add(f32x4.mul(v128.load(x + off), sv), tv));
        for (; q < inner; q++, off += 4) store<f32>(y + off, load<f32>(x + off) * s + t);
      }
    }
  }
}

// ---- Batch norm in training (Ioffe & Szegedy, Alg. 1) over outer × C × inner values, channel c
// in the middle. Rows (p, c) of `inner` values are summed with f32x4 partial sums, rows added
// per channel in f64 (up to 64·784 values per channel here).

/** Sum of a row of n floats at p (four partial sums, then the tail). */
// @ts-ignore: decorator
@inline function rowSum(p: usize, n: i32): f64 {
  let v = f32x4.splat(0),
    q = 0;
  for (; q + 4 <= n; q += 4) v = f32x4.add(v, v128.load(p + ((<usize>q) << 2)));
  let s =
    <f64>f32x4.extract_lane(v, 0) +
    <f64>f32x4.extract_lane(v, 1) +
    <f64>f32x4.extract_lane(v, 2) +
    <f64>f32x4.extract_lane(v, 3);
  for (; q < n; q++) s += <f64>load<f32>(p + ((<usize>q) << 2));
  return s;
}

/** Per channel: mean[c] and the biased variance var[c] (two passes: the mean, then Σ(x − mean)²). */
export function bnStats(x: usize, outer: i32, C: i32, inner: i32, mean: usize, variance: usize): void {
  const rowB = (<usize>inner) << 2,
    cnt = <f64>outer * <f64>inner;
  for (let c = 0; c < C; c++) {
    let s: f64 = 0;
    for (let p = 0; p < outer; p++) s += rowSum(x + <usize>(p * C + c) * rowB, inner);
    const mu = s / cnt,
      m = f32x4.splat(<f32>mu);
    let v: f64 = 0;
    for (let p = 0; p < outer; p++) {
      const r = x + <usize>(p * C + c) * rowB;
      let a = f32x4.splat(0),
        q = 0;
      for (; q + 4 <= inner; q += 4) {
        const d = f32x4.sub(v128.load(r + ((<usize>q) << 2)), m);
        a = f32x4.add(a, f32x4.mul(d, d));
      }
      v +=
        <f64>f32x4.extract_lane(a, 0) +
        <f64>f32x4.extract_lane(a, 1) +
        <f64>f32x4.extract_lane(a, 2) +
        <f64>f32x4.extract_lane(a, 3);
      for (; q < inner; q++) {
        const d = <f64>load<f32>(r + ((<usize>q) << 2)) - mu;
        v += d * d;
      }
    }
    store<f32>(mean + ((<usize>c) << 2), <f32>mu);
    store<f32>(variance + ((<usize>c) << 2), <f32>(v / cnt));
  }
}

/** x̂ = (x − mean[c])·invStd[c] (stored at xhat unless 0) and y = gamma[c]·x̂ + beta[c]. */
export function bnNormalize(
  x: usize,
  outer: i32,
  C: i32,
  inner: i32,
  mean: usize,
  invStd: usize,
  gamma: usize,
  beta: usize,
  xhat: usize,
  y: usize,
): void {
  let off: usize = 0;
  for (let p = 0; p < outer; p++)
    for (let c = 0; c < C; c++) {
      const o = (<usize>c) << 2,
        mu = load<f32>(mean + o),
        is = load<f32>(invStd + o),
        g = load<f32>(gamma + o),
        b = load<f32>(beta + o);
      const mv = f32x4.splat(mu),
        iv = f32x4.splat(is),
        gv = f32x4.splat(g),
        bv = f32x4.splat(b);
      let q = 0;
      for (; q + 4 <= inner; q += 4, off += 16) {
        const h = f32x4.mul(f32x4.sub(v128.load(x + off), mv), iv);
        if (xhat != 0) v128.store(xhat + off, h);
        v128.store(y + off, f32x4.add(f32x4.mul(gv, h), bv));
      }
      for (; q < inner; q++, off += 4) {
        const h = (load<f32>(x + off) - mu) * is;
        if (xhat != 0) store<f32>(xhat + off, h);
        store<f32>(y + off, g * h + b);
      }
    }
}

/** Per channel: sumG[c] = Σ gy and sumGX[c] = Σ gy·x̂ (the gradients of beta and gamma). */
export function bnGradSums(gy: usize, xhat: usize, outer: i32, C: i32, inner: i32, sumG: usize, sumGX: usize): void {
  const rowB = (<usize>inner) << 2;
  for (let c = 0; c < C; c++) {
    let sg: f64 = 0,
      sgx: f64 = 0;
    for (let p = 0; p < outer; p++) {
      const r = <usize>(p * C + c) * rowB;
      sg += rowSum(gy + r, inner);
      let a = f32x4.splat(0),
        q = 0;
      for (; q + 4 <= inner; q += 4) {
        const o = r + ((<usize>q) << 2);
        a = f32x4.add(a, f32x4.mul(v128.load(gy + o), v128.load(xhat + o)));
      }
      sgx +=
        <f64>f32x4.extract_lane(a, 0) +
        <f64>f32x4.extract_lane(a, 1) +
        <f64>f32x4.extract_lane(a, 2) +
        <f64>f32x4.extract_lane(a, 3);
      for (; q < inner; q++) {
        const o = r + ((<usize>q) << 2);
        sgx += <f64>(load<f32>(gy + o) * load<f32>(xhat + o));
      }
    }
    store<f32>(sumG + ((<usize>c) << 2), <f32>sg);
    store<f32>(sumGX + ((<usize>c) << 2), <f32>sgx);
  }
}

/** Training-mode input gradient: dx = k[c]·(gy − mg[c] − x̂·mgx[c]) (k = γ/σ, mg and mgx the channel means of
 * gy and gy·x̂). */
export function bnInputGrad(
  gy: usize,
  xhat: usize,
  outer: i32,
  C: i32,
  inner: i32,
  k: usize,
  mg: usize,
  mgx: usize,
  dx: usize,
): void {
  let off: usize = 0;
  for (let p = 0; p < outer; p++)
    for (let c = 0; c < C; c++) {
      const o = (<usize>c) << 2,
        kc = load<f32>(k + o),
        a = load<f32>(mg + o),
        b = load<f32>(mgx + o);
      const kv = f32x4.splat(kc),
        av = f32x4.splat(a),
        bv = f32x4.splat(b);
      let q = 0;
      for (; q + 4 <= inner; q += 4, off += 16) {
        v128.store(
          dx + off,
          f32x4.mul(kv, f32x4.sub(f32x4.sub(v128.load(gy + off), av), f32x4.mul(v128.load(xhat + off), bv))),
        );
      }
      for (; q < inner; q++, off += 4) store<f32>(dx + off, kc * (load<f32>(gy + off) - a - load<f32>(xhat + off) * b));
    }
}
