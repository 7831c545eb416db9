// Compressed-sparse-row (CSR) matrix times dense matrix, for pruned weights at inference.
import { claim } from "./gemm";

/**
 * Rows [r0, r1) of Y = S·X, S in CSR form (rowPtr: i32[rows+1], colIdx: i32[nnz], vals: f32[nnz]),
 * X dense [cols × n], Y dense [rows × n]. Sixteen output columns are kept in registers
 * while a row's non-zeros stream past; the tail is done four and one at a time.
 */
function spmmRange(rowPtr: usize, colIdx: usize, vals: usize, X: usize, n: i32, Y: usize, r0: i32, r1: i32): void {
  const ldx = <usize>n << 2;
  for (let r = r0; r < r1; r++) {
    const k0 = load<i32>(rowPtr + (<usize>r << 2)), k1 = load<i32>(rowPtr + (<usize>(r + 1) << 2));
    const y = Y + <usize>r * ldx;
    if (n == 1) {
      let s0: f32 = 0, s1: f32 = 0;
      let k = k0;
      for (; k + 2 <= k1; k += 2) {
        const o = <usize>k << 2;
        s0 += load<f32>(vals + o) * load<f32>(X + (<usize>load<i32>(colIdx + o) << 2));
        s1 += load<f32>(vals + o + 4) * load<f32>(X + (<usize>load<i32>(colIdx + o + 4) << 2));
      }
      if (k < k1) s0 += load<f32>(vals + (<usize>k << 2)) * load<f32>(X + (<usize>load<i32>(colIdx + (<usize>k << 2)) << 2));
      store<f32>(y, s0 + s1);
      continue;
    }
    let j = 0;
    for (; j + 16 <= n; j += 16) {
      let a0 = f32x4.splat(0), a1 = f32x4.splat(0), a2 = f32x4.splat(0), a3 = f32x4.splat(0);
      const xj = X + (<usize>j << 2);
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        const w = f32x4.splat(load<f32>(vals + o));
        const xr = xj + <usize>load<i32>(colIdx + o) * ldx;
        a0 = f32x4.add(a0, f32x4.mul(w, v128.load(xr)));
        a1 = f32x4.add(a1, f32x4.mul(w, v128.load(xr, 16)));
        a2 = f32x4.add(a2, f32x4.mul(w, v128.load(xr, 32)));
        a3 = f32x4.add(a3, f32x4.mul(w, v128.load(xr, 48)));
      }
      const yj = y + (<usize>j << 2);
      v128.store(yj, a0); v128.store(yj, a1, 16); v128.store(yj, a2, 32); v128.store(yj, a3, 48);
    }
    for (; j + 4 <= n; j += 4) {
      let a = f32x4.splat(0);
      const xj = X + (<usize>j << 2);
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        a = f32x4.add(a, f32x4.mul(f32x4.splat(load<f32>(vals + o)), v128.load(xj + <usize>load<i32>(colIdx + o) * ldx)));
      }
      v128.store(y + (<usize>j << 2), a);
    }
    for (; j < n; j++) {
      let s: f32 = 0;
      const xj = X + (<usize>j << 2);
      for (let k = k0; k < k1; k++) {
        const o = <usize>k << 2;
        s += load<f32>(vals + o) * load<f32>(xj + <usize>load<i32>(colIdx + o) * ldx);
      }
      store<f32>(y + (<usize>j << 2), s);
    }
  }
}

/** Y[rows × n] = S·X with S in CSR form. */
export function spmm(rowPtr: usize, colIdx: usize, vals: usize, rows: i32, X: usize, n: i32, Y: usize): void {
  spmmRange(rowPtr, colIdx, vals, X, n, Y, 0, rows);
}

/** Threaded spmm: tasks of `chunk` rows claimed from a shared counter (each row is summed by one thread). */
export function spmmTasks(counter: usize, chunk: i32, rowPtr: usize, colIdx: usize, vals: usize, rows: i32, X: usize, n: i32, Y: usize, tid: i32): void {
  for (let t = claim(counter); t * chunk < rows; t = claim(counter)) spmmRange(rowPtr, colIdx, vals, X, n, Y, t * chunk, min(rows, (t + 1) * chunk));
  if (tid < 0) unreachable();
}

/** out[c × r] = in[r × c] (row-major), in 4×4 blocks. */
export function transpose(inp: usize, r: i32, c: i32, out: usize): void {
  for (let i0 = 0; i0 < r; i0 += 4) {
    for (let j0 = 0; j0 < c; j0 += 4) {
      const i1 = min(r, i0 + 4), j1 = min(c, j0 + 4);
      for (let i = i0; i < i1; i++) {
        for (let j = j0; j < j1; j++) store<f32>(out + ((<usize>j * <usize>r + <usize>i) << 2), load<f32>(inp + ((<usize>i * <usize>c + <usize>j) << 2)));
      }
    }
  }
}
