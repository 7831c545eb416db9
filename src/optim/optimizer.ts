import type { FArray } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import { persistentCopy } from '../core/arena.js';

/** Per-parameter state arrays by name (momentum buffers, Adam moments). */
export type ParamState = Record<string, FArray>;

/**
 * Optimizer base: loops over parameters that have a gradient and calls one per-tensor
 * update. `lr` may be changed between steps (schedules do that).
 */
export abstract class Optimizer {
  lr: number;
  stepCount = 0;
  protected readonly state = new Map<Tensor, ParamState>();

  constructor(readonly params: Tensor[], lr: number) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new Error(`learning rate must be a positive number, got ${lr}`);
    if (params.length === 0) throw new Error('optimizer got no parameters');
    this.lr = lr;
  }

  protected abstract update(p: Tensor, g: FArray, state: ParamState): void;

  /** The step size this optimizer applies to parameter p now (proximal steps use it). */
  rateOf(p: Tensor): number { return this.lrOf(p); }

  /** The learning rate of parameter p: lr times its lrScale. */
  protected lrOf(p: Tensor): number {
    const s = p.lrScale;
    if (!(s > 0) || !Number.isFinite(s)) throw new Error(`a parameter's lrScale must be a positive number, got ${s}`);
    return this.lr * s;
  }

  step(): void {
    this.stepCount++;
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) { s = {}; this.state.set(p, s); }
      this.update(p, p.grad.data, s);
      p.markChanged();
    }
  }

  zeroGrad(): void {
    for (const p of this.params) p.grad = null;
  }

  /** State for checkpoints: step count, lr and every state array, keyed by parameter index. */
  stateDict(): { stepCount: number; lr: number; tensors: Record<string, Tensor> } {
    const tensors: Record<string, Tensor> = {};
    this.params.forEach((p, i) => {
      const s = this.state.get(p);
      if (s) for (const [k, a] of Object.entries(s)) tensors[`${i}.${k}`] = new Tensor(a, p.shape);
    });
    return { stepCount: this.stepCount, lr: this.lr, tensors };
  }

  loadStateDict(sd: { stepCount: number; lr: number; tensors: Record<string, Tensor> }): void {
    this.stepCount = sd.stepCount;
    this.lr = sd.lr;
    this.state.clear();
    for (const [key, t] of Object.entries(sd.tensors)) {
      const [i, name] = [Number(key.slice(0, key.indexOf('.'))), key.slice(key.indexOf('.') + 1)];
      const p = this.params[i];
      if (!p || p.size !== t.size) throw new Error(`optimizer state ${key} does not match the model's parameters`);
      let s = this.state.get(p);
      if (!s) { s = {}; this.state.set(p, s); }
      s[name] = persistentCopy(t.data.slice());
    }
  }
}
