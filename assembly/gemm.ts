// Single-precision GEMM: C = A·B (+ C when acc), row-major, with packed panels,
// cache blocking and a 4×8 register-tiled SIMD128 micro-kernel (8 v128 accumulators;
// larger tiles spill in V8). Transposed operands are handled while packing.

import { packCol } from './colpack';

// Blocking sizes: an A block (MC×KC) stays in L2, a B micro-panel (KC×8) in L1.
const MC: i32 = 64;
const KC: i32 = 256;
const NC: i32 = 1024;

/** Bytes of work space gemm() needs. */
export function gemmWorkBytes(): i32 {
  return (MC * KC + KC * NC + 32) * 4;
}

// Store the 4×4 block whose rows are r0..r3 (4 consecutive k of 4 rows or columns)
// transposed: dst + k·stride gets [r0[k], r1[k], r2[k], r3[k]].
// @ts-ignore: decorator
@inline export function storeT4(r0: v128, r1: v128, r2: v128, r3: v128, dst: usize, stride: usize): void {
  const t0 = v128.shuffle<f32>(r0, r1, 0, 4, 1, 5),
    t1 = v128.shuffle<f32>(r2, r3, 0, 4, 1, 5);
  const t2 = v128.shuffle<f32>(r0, r1, 2, 6, 3, 7),
    t3 = v128.shuffle<f32>(r2, r3, 2, 6, 3, 7);
  v128.store(dst, v128.shuffle<f32>(t0, t1, 0, 1, 4, 5));
  v128.store(dst + stride, v128.shuffle<f32>(t0, t1, 2, 3, 6, 7));
  v128.store(dst + 2 * stride, v128.shuffle<f32>(t2, t3, 0, 1, 4, 5));
  v128.store(dst + 3 * stride, v128.shuffle<f32>(t2, t3, 2, 3, 6, 7));
}

// Bp: panels of 8 columns; panel p holds B(k0..k0+kc, j0+8p..+8), k-major.
function packB(B: usize, ldb: i32, transB: bool, k0: i32, kc: i32, j0: i32, nc: i32, Bp: usize): void {
  for (let jp = 0; jp < nc; jp += 8) {
    const w = min(8, nc - jp);
    let dst = Bp + ((<usize>(jp * kc)) << 2);
    const j = j0 + jp;
    if (!transB && w == 8) {
      let src = B + ((<usize>(k0 * ldb + j)) << 2);
      const step = (<usize>ldb) << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        v128.store(dst, v128.load(src, 16), 16);
        src += step;
        dst += 32;
      }
    } else if (transB && w == 8) {
      // B(k, j) = B[j·ldb + k]: 8 rows of B, k contiguous; transposed 4 k at a time.
      const rs = (<usize>ldb) << 2;
      const r = B + ((<usize>(j * ldb + k0)) << 2);
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = (<usize>k) << 2;
        const d = dst + ((<usize>k) << 5);
        storeT4(v128.load(r + o), v128.load(r + rs + o), v128.load(r + 2 * rs + o), v128.load(r + 3 * rs + o), d, 32);
        storeT4(
          v128.load(r + 4 * rs + o),
          v128.load(r + 5 * rs + o),
          v128.load(r + 6 * rs + o),
          v128.load(r + 7 * rs + o),
          d + 16,
          32,
        );
      }
      for (; k < kc; k++) {
        const d = dst + ((<usize>k) << 5),
          o = (<usize>k) << 2;
        for (let jj = 0; jj < 8; jj++) store<f32>(d + ((<usize>jj) << 2), load<f32>(r + <usize>jj * rs + o));
      }
    } else if (transB) {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(dst, jj < w ? load<f32>(B + ((<usize>((j + jj) * ldb + k0 + k)) << 2)) : 0);
          dst += 4;
        }
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let jj = 0; jj < 8; jj++) {
          store<f32>(dst, jj < w ? load<f32>(B + ((<usize>((k0 + k) * ldb + j + jj)) << 2)) : 0);
          dst += 4;
        }
      }
    }
  }
}

// Ap: panels of 4 rows; panel p holds A(i0+4p..+4, k0..k0+kc), k-major.
function packA(A: usize, lda: i32, transA: bool, i0: i32, mc: i32, k0: i32, kc: i32, Ap: usize): void {
  for (let ip = 0; ip < mc; ip += 4) {
    const h = min(4, mc - ip);
    let dst = Ap + ((<usize>(ip * kc)) << 2);
    const i = i0 + ip;
    if (transA && h == 4) {
      let src = A + ((<usize>(k0 * lda + i)) << 2);
      const step = (<usize>lda) << 2;
      for (let k = 0; k < kc; k++) {
        v128.store(dst, v128.load(src));
        src += step;
        dst += 16;
      }
    } else if (transA) {
      for (let k = 0; k < kc; k++) {
        for (let ii = 0; ii < 4; ii++) {
          store<f32>(dst, ii < h ? load<f32>(A + ((<usize>((k0 + k) * lda + i + ii)) << 2)) : 0);
          dst += 4;
        }
      }
    } else if (h == 4) {
      // A(i, k) = A[i·lda + k]: 4 rows, k contiguous; transposed 4 k at a time.
      const r0 = A + ((<usize>(i * lda + k0)) << 2);
      const rs = (<usize>lda) << 2;
      let k = 0;
      for (; k + 4 <= kc; k += 4) {
        const o = (<usize>k) << 2;
        storeT4(
          v128.load(r0 + o),
          v128.load(r0 + rs + o),
          v128.load(r0 + 2 * rs + o),
          v128.load(r0 + 3 * rs + o),
          dst,
          16,
        );
        dst += 64;
      }
      for (; k < kc; k++) {
        const o = (<usize>k) << 2;
        store<f32>(dst, load<f32>(r0 + o));
        store<f32>(dst, load<f32>(r0 + rs + o), 4);
        store<f32>(dst, load<f32>(r0 + 2 * rs + o), 8);
        store<f32>(dst, load<f32>(r0 + 3 * rs + o), 12);
        dst += 16;
      }
    } else {
      for (let k = 0; k < kc; k++) {
        for (let ii = 0; ii < 4; ii++) {
          store<f32>(dst, ii < h ? load<f32>(A + ((<usize>((i + ii) * lda + k0 + k)) << 2)) : 0);
          dst += 4;
        }
      }
    }
  }
}

// a·b + c: fused (relaxed-SIMD FMA) in the relaxed build, two rounded ops otherwise.
// @ts-ignore: decorator
@inline export function madd(a: v128, b: v128, c: v128): v128 {
  if (ASC_FEATURE_RELAXED_SIMD) return f32x4.relaxed_madd(a, b, c);
  return f32x4.add(c, f32x4.mul(a, b));
}

// @ts-ignore: decorator
@inline function storeRow(c: usize, lo: v128, hi: v128, acc: bool): void {
  if (acc) {
    v128.store(c, f32x4.add(v128.load(c), lo));
    v128.store(c, f32x4.add(v128.load(c, 16), hi), 16);
  } else {
    v128.store(c, lo);
    v128.store(c, hi, 16);
  }
}

function micro(Ap: usize, Bp: usize, kc: i32, C: usize, ldc: i32, mr: i32, nr: i32, acc: bool, tmp: usize): void {
  let c00 = f32x4.splat(0),
    c01 = f32x4.splat(0);
  let c10 = f32x4.splat(0),
    c11 = f32x4.splat(0);
  let c20 = f32x4.splat(0),
    c21 = f32x4.splat(0);
  let c30 = f32x4.splat(0),
    c31 = f32x4.splat(0);
  let a = Ap,
    b = Bp;
  for (let k = 0; k < kc; k++) {
    const b0 = v128.load(b);
    const b1 = v128.load(b, 16);
    // load32_splat: one broadcast load per row of A (unrolling k further spills in V8: slower)
    let s = v128.load32_splat(a);
    c00 = madd(s, b0, c00);
    c01 = madd(s, b1, c01);
    s = v128.load32_splat(a, 4);
    c10 = madd(s, b0, c10);
    c11 = madd(s, b1, c11);
    s = v128.load32_splat(a, 8);
    c20 = madd(s, b0, c20);
    c21 = madd(s, b1, c21);
    s = v128.load32_splat(a, 12);
    c30 = madd(s, b0, c30);
    c31 = madd(s, b1, c31);
    a += 16;
    b += 32;
  }
  const rs = (<usize>ldc) << 2;
  if (mr == 4 && nr == 8) {
    storeRow(C, c00, c01, acc);
    storeRow(C + rs, c10, c11, acc);
    storeRow(C + 2 * rs, c20, c21, acc);
    storeRow(C + 3 * rs, c30, c31, acc);
    return;
  }
  v128.store(tmp, c00);
  v128.store(tmp, c01, 16);
  v128.store(tmp, c10, 32);
  v128.store(tmp, c11, 48);
  v128.store(tmp, c20, 64);
  v128.store(tmp, c21, 80);
  v128.store(tmp, c30, 96);
  v128.store(tmp, c31, 112);
  for (let i = 0; i < mr; i++) {
    for (let j = 0; j < nr; j++) {
      const p = C + <usize>i * rs + ((<usize>j) << 2);
      const v = load<f32>(tmp + ((<usize>(i * 8 + j)) << 2));
      store<f32>(p, acc ? load<f32>(p) + v : v);
    }
  }
}

/** Take the next task index from a shared counter (atomic in the threaded build). */
// @ts-ignore: decorator
@inline export function claim(counter: usize): i32 {
  if (ASC_FEATURE_THREADS) return atomic.add<i32>(counter, 1);
  const v = load<i32>(counter);
  store<i32>(counter, v + 1);
  return v;
}

/** C[0:mc, 0:nc] (+)= packed A block (mc×kc) · packed B panel (kc×nc), micro-tile by micro-tile. */
// @ts-ignore: decorator
@inline function macro(
  Ap: usize,
  Bp: usize,
  mc: i32,
  nc: i32,
  kc: i32,
  C: usize,
  ldc: i32,
  accum: bool,
  tmp: usize,
): void {
  for (let jr = 0; jr < nc; jr += 8) {
    const nr = min(8, nc - jr);
    const bp = Bp + ((<usize>(jr * kc)) << 2);
    for (let ir = 0; ir < mc; ir += 4) {
      micro(
        Ap + ((<usize>(ir * kc)) << 2),
        bp,
        kc,
        C + ((<usize>(ir * ldc + jr)) << 2),
        ldc,
        min(4, mc - ir),
        nr,
        accum,
        tmp,
      );
    }
  }
}

/**
 * C[i0:i1, j0:j1] of op(A)·op(B) (+ C if acc). Per-element summation order depends only on K. With `geo`
 * (a convolution's geometry, colpack.ts) B is the image and op(B) its im2col matrix, packed from the image.
 */
function gemmBlock(
  transA: bool,
  transB: bool,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  acc: bool,
  work: usize,
  i0: i32,
  i1: i32,
  j0: i32,
  j1: i32,
  geo: usize = 0,
): void {
  const Ap = work;
  const Bp = work + ((<usize>(MC * KC)) << 2);
  const tmp = Bp + ((<usize>(KC * NC)) << 2);
  if (K == 0) {
    if (!acc) for (let i = i0; i < i1; i++) memory.fill(C + ((<usize>(i * ldc + j0)) << 2), 0, (<usize>(j1 - j0)) << 2);
    return;
  }
  for (let jc = j0; jc < j1; jc += NC) {
    const nc = min(NC, j1 - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const accum = acc || pc > 0;
      if (geo) packCol(B, geo, pc, kc, jc, nc, Bp, tmp);
      else packB(B, ldb, transB, pc, kc, jc, nc, Bp);
      for (let ic = i0; ic < i1; ic += MC) {
        const mc = min(MC, i1 - ic);
        packA(A, lda, transA, ic, mc, pc, kc, Ap);
        macro(Ap, Bp, mc, nc, kc, C + ((<usize>(ic * ldc + jc)) << 2), ldc, accum, tmp);
      }
    }
  }
}

/**
 * C[M×N] = op(A)·op(B) (+ C if acc). op(A)(i,k) = transA ? A[k*lda+i] : A[i*lda+k];
 * likewise B. work must hold gemmWorkBytes().
 */
export function gemm(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  acc: bool,
  work: usize,
): void {
  if (M < 4 && K > 0) {
    gemmSmallM(transA, transB, M, N, K, A, lda, B, ldb, C, ldc, acc, work);
    return;
  }
  gemmBlock(transA, transB, K, A, lda, B, ldb, C, ldc, acc, work, 0, M, 0, N);
}

/**
 * Fewer than 4 rows (batch-1 inference): no packing. Each row of op(A) is gathered once;
 * then dot products with B's rows (transB) or axpys over B's rows.
 */
function gemmSmallM(
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  acc: bool,
  work: usize,
): void {
  for (let i = 0; i < M; i++) {
    let a = A + ((<usize>(i * lda)) << 2);
    if (transA) {
      for (let k = 0; k < K; k++) store<f32>(work + ((<usize>k) << 2), load<f32>(A + ((<usize>(k * lda + i)) << 2)));
      a = work;
    }
    const c = C + ((<usize>(i * ldc)) << 2);
    if (transB) {
      for (let j = 0; j < N; j++) {
        const b = B + ((<usize>(j * ldb)) << 2);
        let s0 = f32x4.splat(0),
          s1 = f32x4.splat(0);
        let k = 0;
        for (; k + 8 <= K; k += 8) {
          const o = (<usize>k) << 2;
          s0 = madd(v128.load(a + o), v128.load(b + o), s0);
          s1 = madd(v128.load(a + o, 16), v128.load(b + o, 16), s1);
        }
        s0 = f32x4.add(s0, s1);
        let t: f32 =
          f32x4.extract_lane(s0, 0) + f32x4.extract_lane(s0, 1) + f32x4.extract_lane(s0, 2) + f32x4.extract_lane(s0, 3);
        for (; k < K; k++) t += load<f32>(a + ((<usize>k) << 2)) * load<f32>(b + ((<usize>k) << 2));
        const p = c + ((<usize>j) << 2);
        store<f32>(p, acc ? load<f32>(p) + t : t);
      }
    } else {
      if (!acc) memory.fill(c, 0, (<usize>N) << 2);
      for (let k = 0; k < K; k++) {
        const av = load<f32>(a + ((<usize>k) << 2));
        const sv = f32x4.splat(av);
        const b = B + ((<usize>(k * ldb)) << 2);
        let j = 0;
        for (; j + 4 <= N; j += 4) {
          const o = (<usize>j) << 2;
          v128.store(c + o, madd(sv, v128.load(b + o), v128.load(c + o)));
        }
        for (; j < N; j++) {
          const o = (<usize>j) << 2;
          store<f32>(c + o, load<f32>(c + o) + av * load<f32>(b + o));
        }
      }
    }
  }
}

/**
 * One thread's share of a GEMM: chunks of `chunk` columns (splitCols) or rows are claimed
 * with an atomic counter at `counter` until none is left, so fast threads take more.
 * Every thread runs this with its own tid; its packing space is work + tid·gemmWorkBytes().
 * With `geo` (a convolution's geometry) B is the image and op(B) its im2col matrix (gemmBlock).
 */
export function gemmTasks(
  counter: usize,
  splitCols: bool,
  chunk: i32,
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  acc: bool,
  work: usize,
  geo: usize,
  tid: i32,
): void {
  const w = work + <usize>tid * <usize>gemmWorkBytes();
  const extent = splitCols ? N : M;
  for (;;) {
    const lo = claim(counter) * chunk;
    if (lo >= extent) break;
    const hi = min(extent, lo + chunk);
    if (splitCols) gemmBlock(transA, transB, K, A, lda, B, ldb, C, ldc, acc, w, 0, M, lo, hi, geo);
    else gemmBlock(transA, transB, K, A, lda, B, ldb, C, ldc, acc, w, lo, hi, 0, N, geo);
  }
}

/**
 * One thread's share of a product with a long K and a small output (a first convolution's weight gradient:
 * 16×9 outputs over 43,264 pixels), cut into fixed chunks of K: chunk c, claimed from the counter, computes
 * op(A)[:, c·chunkK …]·op(B)[c·chunkK …, :] into P + c·M·N. The caller sums the chunks in order, so results
 * do not depend on the thread count.
 */
export function gemmSplitKTasks(
  counter: usize,
  chunkK: i32,
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  P: usize,
  work: usize,
  tid: i32,
): void {
  const w = work + <usize>tid * <usize>gemmWorkBytes();
  for (let c = claim(counter); c * chunkK < K; c = claim(counter)) {
    const k0 = c * chunkK;
    // Column k0 of op(A) and row k0 of op(B) in their stored layouts.
    const a = A + ((<usize>(transA ? k0 * lda : k0)) << 2),
      b = B + ((<usize>(transB ? k0 : k0 * ldb)) << 2);
    gemm(
      transA,
      transB,
      M,
      N,
      min(chunkK, K - k0),
      a,
      lda,
      b,
      ldb,
      P + ((<usize>c * <usize>(M * N)) << 2),
      N,
      false,
      w,
    );
  }
}

/**
 * One thread's share of a batch of equal GEMMs too small to split (bins of a block-circulant
 * product): whole products claimed from the counter at `counter`, product i on A + i·sa,
 * B + i·sb (sb = 0: one B for all), C + i·M·N. Each product runs as gemm() does, so results do
 * not depend on the thread count.
 */
export function gemmBatchTasks(
  counter: usize,
  batch: i32,
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  sa: i32,
  B: usize,
  sb: i32,
  C: usize,
  acc: bool,
  work: usize,
  tid: i32,
): void {
  const w = work + <usize>tid * <usize>gemmWorkBytes();
  const lda = transA ? M : K,
    ldb = transB ? K : N;
  for (let i = claim(counter); i < batch; i = claim(counter)) {
    gemm(
      transA,
      transB,
      M,
      N,
      K,
      A + ((<usize>i * <usize>sa) << 2),
      lda,
      B + ((<usize>i * <usize>sb) << 2),
      ldb,
      C + ((<usize>i * <usize>(M * N)) << 2),
      N,
      acc,
      w,
    );
  }
}

// Barrier for all threads of a gemmShared call: a monotonic counter at `bar`; phase p is
// reached when it counts p·nthreads arrivals.
// @ts-ignore: decorator
@inline function barrier(bar: usize, nthreads: i32, phase: i32): void {
  if (!ASC_FEATURE_THREADS) return;
  atomic.add<i32>(bar, 1);
  const target = phase * nthreads;
  // Spin: the other threads are microseconds behind. The cap (about a minute) only matters
  // if a thread died; the caller then reports the failed worker instead of hanging.
  for (let s: i64 = 0; atomic.load<i32>(bar) < target && s < 100_000_000_000; s++) {
    /* spin */
  }
}

/**
 * One thread's share of a large GEMM with one shared copy of each packed B panel: the
 * threads pack the panel together (8-column strips dealt round-robin), wait at a barrier,
 * then claim MC-row blocks of A from a per-iteration counter, packing their own A block.
 * ctrl: [barrier, counter of iteration 0, counter of iteration 1, …], zeroed by the caller.
 * Bp is the shared packing space (KC·NC floats); work + tid·gemmWorkBytes() the thread's own.
 * Per-element summation order is the same as gemm(): results equal the single-thread ones. With `geo` (a
 * convolution's geometry) B is the image and op(B) its im2col matrix (gemmBlock).
 */
export function gemmShared(
  ctrl: usize,
  nthreads: i32,
  transA: bool,
  transB: bool,
  M: i32,
  N: i32,
  K: i32,
  A: usize,
  lda: i32,
  B: usize,
  ldb: i32,
  C: usize,
  ldc: i32,
  acc: bool,
  Bp: usize,
  work: usize,
  geo: usize,
  tid: i32,
): void {
  const w = work + <usize>tid * <usize>gemmWorkBytes();
  const Ap = w;
  const tmp = w + ((<usize>(MC * KC + KC * NC)) << 2);
  let phase = 0,
    it = 0;
  for (let jc = 0; jc < N; jc += NC) {
    const nc = min(NC, N - jc);
    for (let pc = 0; pc < K; pc += KC) {
      const kc = min(KC, K - pc);
      const accum = acc || pc > 0;
      const strips = (nc + 7) >> 3;
      for (let p = tid; p < strips; p += nthreads) {
        const j = jc + (p << 3),
          panel = Bp + ((<usize>((p << 3) * kc)) << 2);
        if (geo) packCol(B, geo, pc, kc, j, min(8, nc - (p << 3)), panel, tmp);
        else packB(B, ldb, transB, pc, kc, j, min(8, nc - (p << 3)), panel);
      }
      barrier(ctrl, nthreads, ++phase);
      const counter = ctrl + ((<usize>(it + 1)) << 2);
      for (;;) {
        const ic = claim(counter) * MC;
        if (ic >= M) break;
        const mc = min(MC, M - ic);
        packA(A, lda, transA, ic, mc, pc, kc, Ap);
        macro(Ap, Bp, mc, nc, kc, C + ((<usize>(ic * ldc + jc)) << 2), ldc, accum, tmp);
      }
      // nobody may repack Bp while another thread still reads it
      barrier(ctrl, nthreads, ++phase);
      it++;
    }
  }
}

/** Ints of control block gemmShared needs for an N×K problem (barrier + one counter per iteration). */
export function gemmSharedCtrlInts(N: i32, K: i32): i32 {
  return 1 + ((N + NC - 1) / NC) * ((K + KC - 1) / KC);
}

/** Floats of the shared B packing space of gemmShared. */
export function gemmSharedPanelFloats(): i32 {
  return KC * NC;
}
