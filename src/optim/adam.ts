import type { FArray } from '../core/dtype.js';
import { persistentLike } from '../core/arena.js';
import type { Tensor } from '../core/tensor.js';
import { backendFor } from '../backend/index.js';
import { Optimizer, type ParamGroup, type ParamState } from './optimizer.js';

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  weightDecay?: number;
}

/**
 * Adam (Kingma & Ba 2015, Alg. 1): m ← β₁m + (1−β₁)g, v ← β₂v + (1−β₂)g²,
 * p ← p − η·m̂/(√v̂ + ε). Weight decay adds λp to g (L2), as PyTorch's Adam.
 */
export class Adam extends Optimizer {
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  protected decoupled = false;
  constructor(params: Tensor[] | ParamGroup[], opts: AdamOptions = {}) {
    super(params, opts.lr ?? 1e-3);
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    for (const [k, v] of [
      ['beta1', this.beta1],
      ['beta2', this.beta2],
    ] as const) {
      if (!(v >= 0 && v < 1)) throw new Error(`Adam: ${k} must be in [0, 1), got ${v}`);
    }
    if (!(this.eps > 0)) throw new Error(`Adam: eps must be positive, got ${this.eps}`);
    if (this.weightDecay < 0) throw new Error(`Adam: weight decay must be ≥ 0, got ${this.weightDecay}`);
  }
  protected update(p: Tensor, g: FArray, s: ParamState): void {
    const m = s.m ?? (s.m = persistentLike(p.data, p.size));
    const v = s.v ?? (s.v = persistentLike(p.data, p.size));
    const t = this.stepCount;
    backendFor(p.dtype).adam(p.data, g, m, v, {
      lr: this.lrOf(p),
      beta1: this.beta1,
      beta2: this.beta2,
      eps: this.eps,
      weightDecay: this.decayOf(p, this.weightDecay),
      bc1: 1 - Math.pow(this.beta1, t),
      bc2: 1 - Math.pow(this.beta2, t),
      decoupled: this.decoupled,
    });
  }
}

/** AdamW (Loshchilov & Hutter 2019): decoupled decay p ← p − ηλp before the Adam step. Default λ = 0.01. */
export class AdamW extends Adam {
  constructor(params: Tensor[] | ParamGroup[], opts: AdamOptions = {}) {
    super(params, { ...opts, weightDecay: opts.weightDecay ?? 0.01 });
    this.decoupled = true;
  }
}
