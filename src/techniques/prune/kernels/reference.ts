// Reference CSR kernels: row by row (the test oracle), float32 or float64.
import { allocLike } from '../../../core/dtype.js';
import { channelsFirstToBatchFirst, reference } from '../../../backend/reference.js';
import type { Csr, SparseKernels } from './index.js';

export const sparseReference: SparseKernels = {
  spmm(s: Csr, X, n, Y) {
    for (let r = 0; r < s.rows; r++) {
      const y = r * n;
      for (let j = 0; j < n; j++) Y[y + j] = 0;
      for (let k = s.rowPtr[r]; k < s.rowPtr[r + 1]; k++) {
        const v = s.vals[k],
          x = s.colIdx[k] * n;
        for (let j = 0; j < n; j++) Y[y + j] += v * X[x + j];
      }
    }
  },
  conv2dSparse(x, w: Csr, bias, g, out) {
    const ckk = g.C * g.kh * g.kw,
      n = g.B * g.OH * g.OW;
    if (w.rows !== g.Co || w.cols !== ckk)
      throw new Error(`conv2dSparse: CSR weight is ${w.rows}×${w.cols}, expected ${g.Co}×${ckk}`);
    const col = allocLike(x, ckk * n),
      tmp = allocLike(x, g.Co * n);
    reference.im2col(x, g, col);
    this.spmm(w, col, n, tmp);
    channelsFirstToBatchFirst(tmp, g, bias, out);
  },
};
