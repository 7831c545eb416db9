// Integrate-and-fire membrane updates of a time-folded batch (the spiking family, src/techniques/spiking/kernels).

/**
 * T steps of n = B·feat integrate-and-fire neurons in float32, rows time-major: V ← keep·V + I (no product
 * when keep is 1), s = [V ≥ θ], and after a spike V ← V − θ (subtract) or 0. Spikes (0 or 1) go to out
 * [T × n]; each feature's spikes, summed over the batch and the steps, are added to counts [feat] (float32:
 * exact while a feature fires fewer than 2²⁴ times in a call). cur holds T rows of n currents, or one row
 * used at every step (constant 1). The same float32 operations as the reference (kernels/reference.ts
 * ifStep): identical spikes.
 */
export function ifSteps(
  v: usize,
  cur: usize,
  constant: bool,
  out: usize,
  counts: usize,
  T: i32,
  B: i32,
  feat: i32,
  th: f32,
  keep: f32,
  subtract: bool,
): void {
  const n = B * feat,
    leak = keep != 1,
    thv = f32x4.splat(th),
    kv = f32x4.splat(keep),
    one = f32x4.splat(1);
  for (let t = 0; t < T; t++) {
    const cRow = cur + (constant ? 0 : (<usize>(t * n)) << 2),
      oRow = out + ((<usize>(t * n)) << 2);
    for (let b = 0; b < B; b++) {
      const base = (<usize>(b * feat)) << 2;
      let f = 0;
      for (; f + 4 <= feat; f += 4) {
        const o = base + ((<usize>f) << 2),
          c = counts + ((<usize>f) << 2);
        let x = v128.load(v + o);
        if (leak) x = f32x4.mul(kv, x);
        x = f32x4.add(x, v128.load(cRow + o));
        const m = f32x4.ge(x, thv),
          s = v128.and(m, one);
        v128.store(oRow + o, s);
        v128.store(v + o, subtract ? f32x4.sub(x, v128.and(m, thv)) : v128.andnot(x, m));
        v128.store(c, f32x4.add(v128.load(c), s));
      }
      for (; f < feat; f++) {
        const o = base + ((<usize>f) << 2),
          c = counts + ((<usize>f) << 2);
        let x = load<f32>(v + o);
        if (leak) x = keep * x;
        x += load<f32>(cRow + o);
        if (x >= th) {
          store<f32>(oRow + o, 1);
          store<f32>(v + o, subtract ? x - th : 0);
          store<f32>(c, load<f32>(c) + 1);
        } else {
          store<f32>(oRow + o, 0);
          store<f32>(v + o, x);
        }
      }
    }
  }
}

/** For each 4-bit mask, the indices of its set bits in ascending order, then zeros (spikeLinear's gather). */
const LANES = memory.data<i32>([
  0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0, 0, 2, 0, 0, 0, 0, 2, 0, 0, 1, 2, 0, 0, 0, 1, 2, 0, 3, 0, 0, 0, 0, 3, 0,
  0, 1, 3, 0, 0, 0, 1, 3, 0, 2, 3, 0, 0, 0, 2, 3, 0, 1, 2, 3, 0, 0, 1, 2, 3,
]);

/**
 * Event-driven synaptic currents of a linear layer: out[r] = bias + Σ over the spikes of row r (s[r, j] ≠ 0) of
 * wT[j], for R rows of K binary inputs s (0 or 1), weights transposed and padded, wT [K × Np] (Np = N rounded up
 * to 4, zero columns), bias [Np] padded alike (0: none). Each row's spike indices are gathered once into idx
 * (K ints of scratch) from a 4-lane mask, then each block of sixteen output columns sums its weights over them in
 * index order (four accumulators): work in proportion to the spikes, not to K·N.
 */
export function spikeLinear(s: usize, R: i32, K: i32, wT: usize, N: i32, bias: usize, out: usize, idx: usize): void {
  const Np = (N + 3) & ~3,
    ws = (<usize>Np) << 2,
    zero = f32x4.splat(0);
  for (let r = 0; r < R; r++) {
    const row = s + ((<usize>(r * K)) << 2);
    let m = 0,
      j = 0;
    for (; j + 4 <= K; j += 4) {
      // Branch-free: the lanes that spiked, packed to the front by a 16-entry table, stored as four indices;
      // the count advances by how many there were (the rest is overwritten next).
      const mask = i32x4.bitmask(f32x4.ne(v128.load(row + ((<usize>j) << 2)), zero));
      v128.store(idx + ((<usize>m) << 2), i32x4.add(v128.load(LANES + ((<usize>mask) << 4)), i32x4.splat(j)));
      m += popcnt(mask);
    }
    for (; j < K; j++) {
      store<i32>(idx + ((<usize>m) << 2), j);
      m += i32(load<f32>(row + ((<usize>j) << 2)) != 0);
    }
    const o = out + ((<usize>(r * N)) << 2);
    for (let c = 0; c < Np; c += 16) {
      const co = (<usize>c) << 2,
        w = wT + co,
        n = min(16, Np - c);
      let a0 = bias ? v128.load(bias + co) : zero,
        a1 = bias && n > 4 ? v128.load(bias + co, 16) : zero,
        a2 = bias && n > 8 ? v128.load(bias + co, 32) : zero,
        a3 = bias && n > 12 ? v128.load(bias + co, 48) : zero;
      for (let e = 0; e < m; e++) {
        const p = w + <usize>load<i32>(idx + ((<usize>e) << 2)) * ws;
        a0 = f32x4.add(a0, v128.load(p));
        if (n > 4) a1 = f32x4.add(a1, v128.load(p, 16));
        if (n > 8) a2 = f32x4.add(a2, v128.load(p, 32));
        if (n > 12) a3 = f32x4.add(a3, v128.load(p, 48));
      }
      storeCols(o + co, a0, min(4, N - c));
      if (n > 4) storeCols(o + co + 16, a1, min(4, N - c - 4));
      if (n > 8) storeCols(o + co + 32, a2, min(4, N - c - 8));
      if (n > 12) storeCols(o + co + 48, a3, min(4, N - c - 12));
    }
  }
}

/** The first k (1 … 4) lanes of a to dst: a row's last columns never spill into the next row or past the end. */
// @ts-ignore: decorator
@inline function storeCols(dst: usize, a: v128, k: i32): void {
  if (k >= 4) return v128.store(dst, a);
  store<f32>(dst, f32x4.extract_lane(a, 0));
  if (k > 1) store<f32>(dst, f32x4.extract_lane(a, 1), 4);
  if (k > 2) store<f32>(dst, f32x4.extract_lane(a, 2), 8);
}

/** wT [K × Np] = wᵀ for w [N × K], Np = N rounded up to 4, its extra columns zero; bias [N] to bp [Np] likewise. */
export function padTranspose(w: usize, N: i32, K: i32, wT: usize, bias: usize, bp: usize): void {
  const Np = (N + 3) & ~3;
  for (let j = 0; j < K; j++) {
    const d = wT + ((<usize>(j * Np)) << 2);
    for (let c = 0; c < N; c++) store<f32>(d + ((<usize>c) << 2), load<f32>(w + ((<usize>(c * K + j)) << 2)));
    for (let c = N; c < Np; c++) store<f32>(d + ((<usize>c) << 2), 0);
  }
  if (!bias) return;
  for (let c = 0; c < Np; c++) store<f32>(bp + ((<usize>c) << 2), c < N ? load<f32>(bias + ((<usize>c) << 2)) : 0);
}
