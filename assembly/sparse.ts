// Compressed-sparse-row (CSR) matrix times dense matrix, for pruned weights at inference.
import { claim, madd, storeT4 } from './gemm';

/**
 * Rows [r0, r1) of Y = S·X, S in CSR form (rowPtr: i32[rows+1], colIdx: i32[nnz], vals: f32[nnz]),
 * X dense [cols × n], Y dense [rows × n]. Thirty-two output columns are kept in registers
 * while a row's non-zeros stream past; the tail is done four and one at a time.
 */
function spmmRange(rowPtr: usize, colIdx: usize, vals: usize, X: usize, n: i32, Y: usize, r0: i32, r1: i32): void {
  // Column panels: the rows of X a panel touches stay in cache while every row of S passes
  // (with im2col operands n is B·OH·OW, and whole rows of X would be streamed once per row of S).
  const ld = (<usize>n) << 2;
  for (let j0 = 0; j0 < n; j0 += PANEL) {
    const off = (<usize>j0) << 2;
    spmmPanel(rowPtr, colIdx, vals, X + off, min(PANEL, n - j0), ld, Y + off, r0, r1);
  }
}

const PANEL = 256;

/** Rows [r0, r1) of Y = S·X over `n` columns, X and Y with row stride ldx bytes. */
function spmmPanel(
  rowPtr: usize,
  colIdx: usize,
  vals: usize,
  X: usize,
  n: i32,
  ldx: usize,
  Y: usize,
  r0: i32,
  r1: i32,
): void {
  for (let r = r0; r < r1; r++) {
    const k0 = load<i32>(rowPtr + ((<usize>r) << 2)),
      k1 = load<i32>(rowPtr + ((<usize>(r + 1)) << 2));
    const y = Y + <usize>r * ldx;
    if (n == 1) {
      // A gathered dot product; four independent sums keep the loads in flight.
      let s0: f32 = 0,
        s1: f32 = 0,
        s2: f32 = 0,
        s3: f32 = 0;
      let k = k0;
      for (; k + 4 <= k1; k += 4) {
        const o = (<usize>k) << 2;
        s0 += load<f32>(vals + o) * load<f32>(X + ((<usize>load<i32>(colIdx + o)) << 2));
        s1 += load<f32>(vals + o, 4) * load<f32>(X + ((<usize>load<i32>(colIdx + o, 4)) << 2));
        s2 += load<f32>(vals + o, 8) * load<f32>(X + ((<usize>load<i32>(colIdx + o, 8)) << 2));
        s3 += load<f32>(vals + o, 12) * load<f32>(X + ((<usize>load<i32>(colIdx + o, 12)) << 2));
      }
      for (; k < k1; k++)
        s0 +=
          load<f32>(vals + ((<usize>k) << 2)) * load<f32>(X + ((<usize>load<i32>(colIdx + ((<usize>k) << 2))) << 2));
      store<f32>(y, s0 + s1 + (s2 + s3));
      continue;
    }
    let j = 0;
    // 32 columns in eight registers: the index and value of a non-zero are loaded once per 32 outputs.
    for (; j + 32 <= n; j += 32) {
      let a0 = f32x4.splat(0),
        a1 = f32x4.splat(0),
        a2 = f32x4.splat(0),
        a3 = f32x4.splat(0);
      let a4 = f32x4.splat(0),
        a5 = f32x4.splat(0),
        a6 = f32x4.splat(0),
        a7 = f32x4.splat(0);
      const xj = X + ((<usize>j) << 2);
      for (let k = k0; k < k1; k++) {
        const o = (<usize>k) << 2;
        const w = v128.load32_splat(vals + o);
        const xr = xj + <usize>load<i32>(colIdx + o) * ldx;
        a0 = madd(w, v128.load(xr), a0);
        a1 = madd(w, v128.load(xr, 16), a1);
        a2 = madd(w, v128.load(xr, 32), a2);
        a3 = madd(w, v128.load(xr, 48), a3);
        a4 = madd(w, v128.load(xr, 64), a4);
        a5 = madd(w, v128.load(xr, 80), a5);
        a6 = madd(w, v128.load(xr, 96), a6);
        a7 = madd(w, v128.load(xr, 112), a7);
      }
      const yj = y + ((<usize>j) << 2);
      v128.store(yj, a0);
      v128.store(yj, a1, 16);
      v128.store(yj, a2, 32);
      v128.store(yj, a3, 48);
      v128.store(yj, a4, 64);
      v128.store(yj, a5, 80);
      v128.store(yj, a6, 96);
      v128.store(yj, a7, 112);
    }
    for (; j + 4 <= n; j += 4) {
      let a = f32x4.splat(0);
      const xj = X + ((<usize>j) << 2);
      for (let k = k0; k < k1; k++) {
        const o = (<usize>k) << 2;
        a = madd(v128.load32_splat(vals + o), v128.load(xj + <usize>load<i32>(colIdx + o) * ldx), a);
      }
      v128.store(y + ((<usize>j) << 2), a);
    }
    for (; j < n; j++) {
      let s: f32 = 0;
      const xj = X + ((<usize>j) << 2);
      for (let k = k0; k < k1; k++) {
        const o = (<usize>k) << 2;
        s += load<f32>(vals + o) * load<f32>(xj + <usize>load<i32>(colIdx + o) * ldx);
      }
      store<f32>(y + ((<usize>j) << 2), s);
    }
  }
}

/** Y[rows × n] = S·X with S in CSR form. */
export function spmm(rowPtr: usize, colIdx: usize, vals: usize, rows: i32, X: usize, n: i32, Y: usize): void {
  spmmRange(rowPtr, colIdx, vals, X, n, Y, 0, rows);
}

/** Threaded spmm: tasks of `chunk` rows claimed from a shared counter (each row is summed by one thread). */
export function spmmTasks(
  counter: usize,
  chunk: i32,
  rowPtr: usize,
  colIdx: usize,
  vals: usize,
  rows: i32,
  X: usize,
  n: i32,
  Y: usize,
  tid: i32,
): void {
  for (let t = claim(counter); t * chunk < rows; t = claim(counter))
    spmmRange(rowPtr, colIdx, vals, X, n, Y, t * chunk, min(rows, (t + 1) * chunk));
  if (tid < 0) unreachable();
}

/** out[c × r] = in[r × c] (row-major): full 4×4 blocks with SIMD shuffles, the edges one by one. */
export function transpose(inp: usize, r: i32, c: i32, out: usize): void {
  const r4 = r & ~3,
    c4 = c & ~3;
  const rs = (<usize>c) << 2,
    os = (<usize>r) << 2;
  for (let i = 0; i < r4; i += 4) {
    const src = inp + <usize>i * rs;
    for (let j = 0; j < c4; j += 4) {
      const s = src + ((<usize>j) << 2);
      storeT4(
        v128.load(s),
        v128.load(s + rs),
        v128.load(s + 2 * rs),
        v128.load(s + 3 * rs),
        out + <usize>j * os + ((<usize>i) << 2),
        os,
      );
    }
  }
  for (let i = 0; i < r; i++) {
    for (let j = i < r4 ? c4 : 0; j < c; j++)
      store<f32>(out + <usize>j * os + ((<usize>i) << 2), load<f32>(inp + <usize>i * rs + ((<usize>j) << 2)));
  }
}
