import { allocArray, dtypeOf, type DType, type FArray } from './dtype.js';
import { checkShape, fmt, sizeOf, type Shape } from './shape.js';
import type { OpName } from './op.js';
import type { Rng } from './rng.js';

/** A node of the define-by-run tape: which op made a tensor, from which inputs, and what it saved. */
export interface Node {
  op: OpName;
  inputs: Tensor[];
  saved: Record<string, unknown>;
}

let gradEnabled = true;

/** Whether operations currently record the tape. */
export function isGradEnabled(): boolean {
  return gradEnabled;
}

/** Run fn without recording the tape (inference, optimizer updates). */
export function noGrad<T>(fn: () => T): T {
  const prev = gradEnabled;
  gradEnabled = false;
  try {
    return fn();
  } finally {
    gradEnabled = prev;
  }
}

type BackwardImpl = (root: Tensor, seed: FArray) => void;
let backwardImpl: BackwardImpl | null = null;

/** Installed by ops/autograd at import time; kept as a hook so core imports nothing below it. */
export function setBackwardImpl(fn: BackwardImpl): void {
  backwardImpl = fn;
}

/**
 * A dense row-major tensor. Images are NCHW. `grad` is filled by `backward()` on leaves
 * that require gradients (parameters).
 */
export class Tensor {
  readonly shape: readonly number[];
  data: FArray;
  grad: Tensor | null = null;
  requiresGrad: boolean;
  node: Node | null = null;
  /**
   * Counts in-place changes made through Frugal (optimizer steps, loadStateDict, initialisers,
   * pruning, L1): caches of values derived from a parameter (circulant layers' spectra) check
   * it. Code that writes `data` itself should call markChanged() afterwards (as PyTorch's
   * `_version`, which writes through `.data` also bypass).
   */
  version = 0;
  constructor(data: FArray, shape: Shape, requiresGrad = false) {
    checkShape(shape);
    if (data.length !== sizeOf(shape)) {
      throw new Error(`data length ${data.length} does not match shape ${fmt(shape)} (size ${sizeOf(shape)})`);
    }
    this.data = data;
    this.shape = [...shape];
    this.requiresGrad = requiresGrad;
  }

  /** Record an in-place change of `data` (see version). */
  markChanged(): this {
    this.version++;
    return this;
  }

  get dtype(): DType {
    return dtypeOf(this.data);
  }
  get size(): number {
    return this.data.length;
  }
  get rank(): number {
    return this.shape.length;
  }

  static zeros(shape: Shape, dtype: DType = 'float32'): Tensor {
    return new Tensor(allocArray(dtype, sizeOf(shape)), shape);
  }

  static full(shape: Shape, value: number, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    t.data.fill(value);
    return t;
  }

  static ones(shape: Shape, dtype: DType = 'float32'): Tensor {
    return Tensor.full(shape, 1, dtype);
  }

  /** From nested-free numbers: `Tensor.from([1,2,3,4], [2,2])`. */
  static from(values: ArrayLike<number>, shape?: Shape, dtype: DType = 'float32'): Tensor {
    const data = allocArray(dtype, values.length);
    data.set(values as ArrayLike<number>);
    return new Tensor(data, shape ?? [values.length]);
  }

  static scalar(v: number, dtype: DType = 'float32'): Tensor {
    return Tensor.from([v], [], dtype);
  }

  static randn(shape: Shape, rng: Rng, std = 1, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    for (let i = 0; i < t.size; i++) t.data[i] = rng.normal() * std;
    return t;
  }

  static rand(shape: Shape, rng: Rng, lo = 0, hi = 1, dtype: DType = 'float32'): Tensor {
    const t = Tensor.zeros(shape, dtype);
    for (let i = 0; i < t.size; i++) t.data[i] = rng.uniform(lo, hi);
    return t;
  }

  /** The single value of a one-element tensor. */
  item(): number {
    if (this.size !== 1) throw new Error(`item() needs a one-element tensor, got shape ${fmt(this.shape)}`);
    return this.data[0];
  }

  toArray(): number[] {
    return Array.from(this.data);
  }

  /** A copy that is not on the tape. */
  clone(): Tensor {
    return new Tensor(this.data.slice(), this.shape);
  }

  /** The same data, cut from the tape. */
  detach(): Tensor {
    return new Tensor(this.data, this.shape);
  }

  /** Copy to another dtype (not on the tape). */
  to(dtype: DType): Tensor {
    if (dtype === this.dtype) return this.clone();
    const d = allocArray(dtype, this.size);
    d.set(this.data);
    return new Tensor(d, this.shape, this.requiresGrad);
  }

  /**
   * Reverse-mode differentiation from this tensor. A non-scalar root needs a seed gradient
   * of the same shape. Gradients accumulate into `.grad` of leaves with requiresGrad.
   */
  backward(seed?: Tensor): void {
    if (!backwardImpl) throw new Error('autograd is not loaded: import from the frugal package entry point');
    if (!seed && this.size !== 1) {
      throw new Error(`backward() on a tensor of shape ${fmt(this.shape)} needs a seed gradient of that shape`);
    }
    let s: FArray;
    if (seed) {
      if (seed.size !== this.size)
        throw new Error(`seed gradient shape ${fmt(seed.shape)} does not match ${fmt(this.shape)}`);
      s = seed.data;
    } else {
      s = allocArray(this.dtype, 1);
      s[0] = 1;
    }
    backwardImpl(this, s);
  }

  toString(): string {
    const head = Array.from(this.data.subarray(0, 8))
      .map((v) => v.toPrecision(4))
      .join(', ');
    return `Tensor(${fmt(this.shape)}, ${this.dtype}, [${head}${this.size > 8 ? ', …' : ''}])`;
  }
}
