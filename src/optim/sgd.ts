import type { FArray } from '../core/dtype.js';
import { persistentLike } from '../core/arena.js';
import type { Tensor } from '../core/tensor.js';
import { Optimizer, type ParamGroup, type ParamState } from './optimizer.js';

export interface SgdOptions {
  lr: number;
  momentum?: number;
  dampening?: number;
  nesterov?: boolean;
  weightDecay?: number;
}

/**
 * SGD with momentum (PyTorch's formulation): g ← g + λp; b ← μb + (1−τ)g;
 * step d = nesterov ? g + μb : b; p ← p − η·d.
 */
export class SGD extends Optimizer {
  readonly momentum: number;
  readonly dampening: number;
  readonly nesterov: boolean;
  readonly weightDecay: number;
  constructor(params: Tensor[] | ParamGroup[], opts: SgdOptions) {
    super(params, opts.lr);
    this.momentum = opts.momentum ?? 0;
    this.dampening = opts.dampening ?? 0;
    this.nesterov = opts.nesterov ?? false;
    this.weightDecay = opts.weightDecay ?? 0;
    if (this.momentum < 0 || this.momentum >= 1)
      throw new Error(`SGD: momentum must be in [0, 1), got ${this.momentum}`);
    if (this.weightDecay < 0) throw new Error(`SGD: weight decay must be ≥ 0, got ${this.weightDecay}`);
    if (this.nesterov && (this.momentum === 0 || this.dampening !== 0))
      throw new Error('SGD: nesterov needs momentum > 0 and dampening 0');
  }
  protected update(p: Tensor, g: FArray, s: ParamState): void {
    const d = p.data,
      lr = this.lrOf(p),
      mu = this.momentum,
      wd = this.decayOf(p, this.weightDecay);
    if (mu === 0) {
      for (let i = 0; i < d.length; i++) d[i] -= lr * (g[i] + wd * d[i]);
      return;
    }
    const first = !s.buf;
    const b = s.buf ?? (s.buf = persistentLike(d, d.length));
    for (let i = 0; i < d.length; i++) {
      const gi = g[i] + wd * d[i];
      b[i] = first ? gi : mu * b[i] + (1 - this.dampening) * gi;
      d[i] -= lr * (this.nesterov ? gi + mu * b[i] : b[i]);
    }
  }
}
