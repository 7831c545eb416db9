// Inference layers whose weights are stored in compressed-sparse-row form and multiplied by
// the WebAssembly CSR kernel (assembly/sparse.ts). Made by compact() from pruned layers.
import { MIN_POOLED, persistentArray, scopedEmpty } from '../../core/arena.js';
import { isGradEnabled, Tensor } from '../../core/tensor.js';
import { backendFor } from '../../backend/index.js';
import { sparseKernels, type Csr } from './kernels/index.js';
import { Conv2d, Linear } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { registerLayer, specInt } from '../../nn/spec.js';
import { convPlan, linearPlan, registerLayerFields, type Fields } from '../../nn/spec-plan.js';
import { LimitError } from '../../core/limits.js';
import type { CostReport } from '../../report/profile.js';

/**
 * Below this weight density (non-zeros / entries) compact() stores a layer as CSR and runs it
 * with the sparse kernel. Measured by `npm run bench -- --only sparse` (bench/sparse.ts) on this
 * machine: see the README's pruning table for the crossover it found.
 */
export const SPARSE_MAX_DENSITY = 0.3;

/** CSR form of a dense row-major [rows × cols] matrix, keeping its non-zeros. */
export function toCsr(w: ArrayLike<number>, rows: number, cols: number): Csr {
  if (w.length !== rows * cols) throw new Error(`toCsr: ${w.length} values do not make a ${rows}×${cols} matrix`);
  const rowPtr = new Int32Array(rows + 1);
  let nnz = 0;
  for (let i = 0; i < w.length; i++) if (w[i] !== 0) nnz++;
  const colIdx = new Int32Array(nnz),
    vals = new Float32Array(nnz);
  let k = 0;
  for (let r = 0; r < rows; r++) {
    for (let c = 0; c < cols; c++) {
      const v = w[r * cols + c];
      if (v !== 0) {
        colIdx[k] = c;
        vals[k++] = v;
      }
    }
    rowPtr[r + 1] = k;
  }
  return { rows, cols, rowPtr, colIdx, vals };
}

function fromCsr(s: Csr): Float32Array {
  const d = new Float32Array(s.rows * s.cols);
  for (let r = 0; r < s.rows; r++)
    for (let k = s.rowPtr[r]; k < s.rowPtr[r + 1]; k++) d[r * s.cols + s.colIdx[k]] = s.vals[k];
  return d;
}

/** Sparse layers have no backward rule: refuse an input that needs gradients through them. */
function inferenceOnly(name: string, x: Tensor): void {
  if (isGradEnabled() && x.requiresGrad) {
    throw new Error(
      `${name} is an inference layer (no gradients through CSR weights): train the pruned model before ` +
        `compact(), or run it inside noGrad()`,
    );
  }
}

/**
 * Shared storage: the CSR arrays are buffers (`values`, `colIdx`, `rowPtr`; indices kept as
 * float32, exact below 2^24) so state dicts and model files carry them like any tensor.
 */
abstract class SparseLayer extends Module {
  protected csr: Csr;
  bias: Tensor | null;
  /** The float32 arrays whose memory the resident CSR arrays use (kept alive with the layer). */
  private backing: Float32Array[] = [];
  constructor(csr: Csr, bias: Tensor | null) {
    super();
    this.csr = this.resident(csr);
    this.bias = bias ? this.registerParameter('bias', bias) : null;
    this.registerStorage();
  }
  /** Copies of the CSR arrays in the kernels' memory, so calls read them in place instead of copying. */
  private resident(c: Csr): Csr {
    this.backing = [];
    // At least MIN_POOLED floats: smaller persistent arrays live on the JavaScript heap and would be
    // copied in on every call (a 10-row head's rowPtr). `backing` keeps the whole region alive.
    const place = (n: number): Float32Array => {
      const f = persistentArray(Math.max(n, MIN_POOLED));
      this.backing.push(f);
      return f.subarray(0, n);
    };
    const ints = (src: Int32Array): Int32Array => {
      const f = place(src.length);
      const v = new Int32Array(f.buffer, f.byteOffset, src.length);
      v.set(src);
      return v;
    };
    const vals = place(c.vals.length);
    vals.set(c.vals);
    return { rows: c.rows, cols: c.cols, rowPtr: ints(c.rowPtr), colIdx: ints(c.colIdx), vals };
  }
  private registerStorage(): void {
    this.registerBuffer('values', new Tensor(this.csr.vals, [this.csr.vals.length]));
    this.registerBuffer('colIdx', new Tensor(Float32Array.from(this.csr.colIdx), [this.csr.colIdx.length]));
    this.registerBuffer('rowPtr', new Tensor(Float32Array.from(this.csr.rowPtr), [this.csr.rows + 1]));
  }
  /** Number of stored non-zeros. */
  get nnz(): number {
    return this.csr.vals.length;
  }
  /** The dense weight [rows × cols] this layer stands for (PyTorch's to_dense()). */
  toDense(): Float32Array {
    return fromCsr(this.csr);
  }
  /** Dense-equivalent parameters and MACs, and the non-zero ones actually stored and computed. */
  costReport(out: readonly number[]): CostReport {
    const spatial = out.slice(1).reduce((a, b) => a * b, 1); // OH·OW for conv, 1 for linear on [N, F]
    const b = this.bias ? this.bias.data : new Float32Array(0);
    const dense = this.csr.rows * this.csr.cols;
    return {
      params: dense + b.length,
      nonzeroParams: this.nnz + b.filter((v) => v !== 0).length,
      macs: dense * spatial,
      effectiveMacs: this.nnz * spatial,
    };
  }
  /** The buffers were overwritten (a model file was loaded): validate them and rebuild the resident CSR arrays. */
  protected override stateLoaded(): void {
    const sd = this.stateDict();
    const v = sd.values,
      c = sd.colIdx,
      r = sd.rowPtr,
      rows = this.csr.rows,
      cols = this.csr.cols;
    const rowPtr = Int32Array.from(r.data),
      colIdx = Int32Array.from(c.data);
    if (rowPtr[0] !== 0 || rowPtr[rows] !== v.size)
      throw new Error(`sparse layer state: rowPtr must run from 0 to ${v.size}`);
    for (let i = 0; i < rows; i++)
      if (rowPtr[i + 1] < rowPtr[i]) throw new Error('sparse layer state: rowPtr must not decrease');
    for (let i = 0; i <= rows; i++)
      if (rowPtr[i] !== r.data[i]) throw new Error('sparse layer state: rowPtr must hold integers');
    for (let i = 0; i < colIdx.length; i++)
      if (!(colIdx[i] >= 0 && colIdx[i] < cols && colIdx[i] === c.data[i]))
        throw new Error(`sparse layer state: column indices must be integers in [0, ${cols})`);
    this.csr = this.resident({ rows, cols, rowPtr, colIdx, vals: Float32Array.from(v.data) });
    for (const k of ['values', 'colIdx', 'rowPtr']) this.setEntry('buffer', k, null);
    this.registerStorage();
  }
}

/** y = x·Wᵀ + b with W in CSR form; inference only. */
export class SparseLinear extends SparseLayer {
  constructor(
    readonly inFeatures: number,
    readonly outFeatures: number,
    csr: Csr,
    bias: Tensor | null,
  ) {
    super(csr, bias);
    if (csr.rows !== outFeatures || csr.cols !== inFeatures)
      throw new Error(`SparseLinear(${inFeatures}→${outFeatures}) got a ${csr.rows}×${csr.cols} CSR weight`);
  }
  static fromDense(l: Linear): SparseLinear {
    return new SparseLinear(
      l.inFeatures,
      l.outFeatures,
      toCsr(l.weight.data, l.outFeatures, l.inFeatures),
      l.bias ? new Tensor(l.bias.data.slice(), l.bias.shape) : null,
    );
  }
  forward(x: Tensor): Tensor {
    inferenceOnly('SparseLinear', x);
    if (x.rank !== 2 || x.shape[1] !== this.inFeatures)
      throw new Error(
        `SparseLinear(${this.inFeatures}→${this.outFeatures}) expects [N, ${this.inFeatures}], got [${x.shape}]`,
      );
    const be = backendFor(x.dtype),
      sk = sparseKernels.for(x.dtype),
      n = x.shape[0];
    const out = scopedEmpty([n, this.outFeatures], x.dtype);
    if (n === 1) sk.spmm(this.csr, x.data, 1, out.data);
    else {
      // Yᵀ = S·Xᵀ: the kernel streams the batch, contiguous, for each non-zero.
      const xT = scopedEmpty([this.inFeatures, n], x.dtype),
        yT = scopedEmpty([this.outFeatures, n], x.dtype);
      be.transpose(x.data, n, this.inFeatures, xT.data);
      sk.spmm(this.csr, xT.data, n, yT.data);
      be.transpose(yT.data, this.outFeatures, n, out.data);
    }
    if (this.bias) be.tileAdd(out.data, this.bias.data, out.data);
    return out;
  }
  toSpec(): LayerSpec {
    return { type: 'sparse-linear', in: this.inFeatures, out: this.outFeatures, nnz: this.nnz, bias: !!this.bias };
  }
}

/** 2-D convolution with CSR weights [Co, C·k·k]: im2col, then the CSR product; inference only. */
export class SparseConv2d extends SparseLayer {
  constructor(
    readonly inChannels: number,
    readonly outChannels: number,
    readonly kernelSize: number,
    readonly opts: { stride: number; padding: number; dilation: number },
    csr: Csr,
    bias: Tensor | null,
  ) {
    super(csr, bias);
    if (csr.rows !== outChannels || csr.cols !== inChannels * kernelSize * kernelSize) {
      throw new Error(
        `SparseConv2d(${inChannels}→${outChannels}, k=${kernelSize}) got a ${csr.rows}×${csr.cols} CSR weight`,
      );
    }
  }
  static fromDense(l: Conv2d): SparseConv2d {
    const k = l.kernelSize;
    return new SparseConv2d(
      l.inChannels,
      l.outChannels,
      k,
      { stride: l.stride, padding: l.padding, dilation: l.dilation },
      toCsr(l.weight.data, l.outChannels, l.inChannels * k * k),
      l.bias ? new Tensor(l.bias.data.slice(), l.bias.shape) : null,
    );
  }
  forward(x: Tensor): Tensor {
    inferenceOnly('SparseConv2d', x);
    if (x.rank !== 4 || x.shape[1] !== this.inChannels)
      throw new Error(`SparseConv2d expects [N, ${this.inChannels}, H, W], got [${x.shape}]`);
    const [B, C, H, W] = x.shape,
      k = this.kernelSize,
      { stride: s, padding: p, dilation: d } = this.opts;
    const OH = Math.floor((H + 2 * p - d * (k - 1) - 1) / s) + 1,
      OW = Math.floor((W + 2 * p - d * (k - 1) - 1) / s) + 1;
    if (OH < 1 || OW < 1) throw new Error(`SparseConv2d: a ${k}×${k} kernel does not fit a ${H}×${W} input`);
    const out = scopedEmpty([B, this.outChannels, OH, OW], x.dtype);
    sparseKernels
      .for(x.dtype)
      .conv2dSparse(
        x.data,
        this.csr,
        this.bias ? this.bias.data : null,
        { B, C, H, W, Co: this.outChannels, kh: k, kw: k, sh: s, sw: s, ph: p, pw: p, dh: d, dw: d, OH, OW },
        out.data,
      );
    return out;
  }
  toSpec(): LayerSpec {
    return {
      type: 'sparse-conv2d',
      in: this.inChannels,
      out: this.outChannels,
      kernel: this.kernelSize,
      ...this.opts,
      nnz: this.nnz,
      bias: !!this.bias,
    };
  }
}

/** An empty CSR of the declared size; loadStateDict fills it from the file. */
const emptyCsr = (rows: number, cols: number, nnz: number): Csr => {
  const rowPtr = new Int32Array(rows + 1);
  rowPtr[rows] = nnz;
  return { rows, cols, rowPtr, colIdx: new Int32Array(nnz), vals: new Float32Array(nnz) };
};
registerLayer(
  'sparse-linear',
  (s) =>
    new SparseLinear(
      specInt(s, 'in'),
      specInt(s, 'out'),
      emptyCsr(specInt(s, 'out'), specInt(s, 'in'), specInt(s, 'nnz')),
      s.bias === false ? null : Tensor.zeros([specInt(s, 'out')]),
    ),
  (s, x, f) => {
    const i = f.int('in', undefined, 1),
      o = f.int('out', undefined, 1);
    return linearPlan(x, o, csrCost(s, f, o, i) + (s.bias !== false ? o : 0));
  },
);
registerLayer(
  'sparse-conv2d',
  (s) => {
    const k = specInt(s, 'kernel');
    return new SparseConv2d(
      specInt(s, 'in'),
      specInt(s, 'out'),
      k,
      { stride: specInt(s, 'stride', 1), padding: specInt(s, 'padding', 0), dilation: specInt(s, 'dilation', 1) },
      emptyCsr(specInt(s, 'out'), specInt(s, 'in') * k * k, specInt(s, 'nnz')),
      s.bias === false ? null : Tensor.zeros([specInt(s, 'out')]),
    );
  },
  (s, x, f) => {
    const [i, o, k] = [f.int('in', undefined, 1), f.int('out', undefined, 1), f.int('kernel', undefined, 1)];
    const g = {
      out: o,
      kernel: k,
      stride: f.int('stride', 1, 1),
      padding: f.int('padding', 0),
      dilation: f.int('dilation', 1, 1),
    };
    return convPlan(x, 2, g, csrCost(s, f, o, i * k * k) + (s.bias !== false ? o : 0));
  },
);

/** Floats a CSR of `rows` × `cols` with the spec's nnz allocates; nnz above rows × cols is refused before that. */
function csrCost(s: LayerSpec, f: Fields, rows: number, cols: number): number {
  const nnz = f.int('nnz');
  if (nnz > rows * cols)
    throw new LimitError(
      `layer '${s.type}' field 'nnz' is ${nnz}, more non-zeros than the ${rows} × ${cols} = ${rows * cols} ` +
        `entries of its weight`,
    );
  return 2 * nnz + rows + 1; // values and column indices, and the row pointers
}

const nnz = 'required (stored non-zeros; the CSR arrays come from the weights file)';
registerLayerFields('sparse-linear', { in: 'required', out: 'required', nnz, bias: 'true' });
registerLayerFields('sparse-conv2d', {
  in: 'required',
  out: 'required',
  kernel: 'required',
  stride: '1',
  padding: '0',
  dilation: '1',
  nnz,
  bias: 'true',
});
