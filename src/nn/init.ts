import { Rng } from '../core/rng.js';
import { Tensor } from '../core/tensor.js';

/** Fan-in and fan-out of a weight [out, in, ...kernel] (PyTorch's convention). */
export function fans(shape: readonly number[]): { fanIn: number; fanOut: number } {
  if (shape.length < 2) return { fanIn: shape[0] ?? 1, fanOut: shape[0] ?? 1 };
  const rf = shape.slice(2).reduce((a, b) => a * b, 1);
  return { fanIn: shape[1] * rf, fanOut: shape[0] * rf };
}

/** Fill with U(lo, hi). */
export function uniform_(t: Tensor, rng: Rng, lo: number, hi: number): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(lo, hi);
  return t.markChanged();
}

/** Fill with N(mean, std²). */
export function normal_(t: Tensor, rng: Rng, mean = 0, std = 1): Tensor {
  for (let i = 0; i < t.size; i++) t.data[i] = mean + std * rng.normal();
  return t.markChanged();
}

/** He et al. 2015: U(−b, b), b = gain·√(3/fan_in), gain = √(2/(1+a²)). a = √5 gives PyTorch's layer default. */
export function kaimingUniform_(t: Tensor, rng: Rng, a = 0): Tensor {
  const gain = Math.sqrt(2 / (1 + a * a));
  const b = gain * Math.sqrt(3 / fans(t.shape).fanIn);
  return uniform_(t, rng, -b, b);
}

/** He et al. 2015: N(0, gain²/fan_in). */
export function kaimingNormal_(t: Tensor, rng: Rng, a = 0): Tensor {
  const gain = Math.sqrt(2 / (1 + a * a));
  return normal_(t, rng, 0, gain / Math.sqrt(fans(t.shape).fanIn));
}

/** Glorot & Bengio 2010: U(−b, b), b = gain·√(6/(fan_in + fan_out)). */
export function xavierUniform_(t: Tensor, rng: Rng, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  const b = gain * Math.sqrt(6 / (fanIn + fanOut));
  return uniform_(t, rng, -b, b);
}

/** Glorot & Bengio 2010: N(0, gain²·2/(fan_in + fan_out)). */
export function xavierNormal_(t: Tensor, rng: Rng, gain = 1): Tensor {
  const { fanIn, fanOut } = fans(t.shape);
  return normal_(t, rng, 0, gain * Math.sqrt(2 / (fanIn + fanOut)));
}

/**
 * Saxe et al. 2014: a (semi-)orthogonal matrix from the QR decomposition of a Gaussian
 * matrix (modified Gram–Schmidt, signs fixed so the result is uniformly distributed),
 * viewed as [rows = shape[0], cols = rest]. Rows (or columns, whichever are fewer) are orthonormal, times gain.
 */
export function orthogonal_(t: Tensor, rng: Rng, gain = 1): Tensor {
  const rows = t.shape[0],
    cols = t.size / rows;
  const tall = rows >= cols;
  const n = tall ? rows : cols,
    k = tall ? cols : rows; // k orthonormal vectors of length n
  const q = new Float64Array(n * k);
  for (let i = 0; i < q.length; i++) q[i] = rng.normal();
  for (let j = 0; j < k; j++) {
    for (let p = 0; p < j; p++) {
      let d = 0;
      for (let i = 0; i < n; i++) d += q[j * n + i] * q[p * n + i];
      for (let i = 0; i < n; i++) q[j * n + i] -= d * q[p * n + i];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += q[j * n + i] ** 2;
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[j * n + i] /= norm;
  }
  for (let r = 0; r < rows; r++)
    for (let c = 0; c < cols; c++) {
      t.data[r * cols + c] = gain * (tall ? q[c * n + r] : q[r * n + c]);
    }
  return t.markChanged();
}
