import type { FArray } from '../core/dtype.js';
import { Tensor } from '../core/tensor.js';
import { persistentCopy, releasePersistent } from '../core/arena.js';

/** Per-parameter state arrays by name (momentum buffers, Adam moments). */
export type ParamState = Record<string, FArray>;

/**
 * Parameters with their own hyperparameters (PyTorch's param_groups). `lr` is this group's rate
 * at the optimizer's initial lr; a schedule that changes the optimizer's lr scales every group
 * alike, as PyTorch's schedulers scale each group's initial lr.
 */
export interface ParamGroup {
  params: Tensor[];
  lr?: number;
  weightDecay?: number;
}

interface Group {
  params: Tensor[];
  lrRatio: number;
  weightDecay?: number;
}

function positive(what: string, v: number): number {
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`${what} must be a positive number, got ${v}`);
  return v;
}

function toGroups(params: Tensor[] | ParamGroup[], lr: number): Group[] {
  const list = params as (Tensor | ParamGroup)[];
  const groups: Group[] =
    list.length && !(list[0] instanceof Tensor)
      ? (list as ParamGroup[]).map((g, i) => {
          if (!g || !Array.isArray(g.params)) throw new Error(`parameter group ${i} has no params array`);
          if (g.weightDecay !== undefined && !(g.weightDecay >= 0)) {
            throw new Error(`parameter group ${i}: weight decay must be ≥ 0, got ${g.weightDecay}`);
          }
          const glr = g.lr === undefined ? lr : positive(`parameter group ${i}: lr`, g.lr);
          return { params: g.params, lrRatio: glr / lr, weightDecay: g.weightDecay };
        })
      : [{ params: list as Tensor[], lrRatio: 1 }];
  const seen = new Set<Tensor>();
  for (const g of groups)
    for (const p of g.params) {
      if (!(p instanceof Tensor))
        throw new Error('optimizer: mix of tensors and parameter groups; give one or the other');
      if (seen.has(p)) throw new Error('optimizer: a parameter appears in more than one group (or twice)');
      seen.add(p);
    }
  return groups;
}

/**
 * Optimizer base: loops over parameters that have a gradient and calls one per-tensor
 * update. `lr` may be changed between steps (schedules do that). Takes a list of tensors, or
 * parameter groups with their own lr and weight decay.
 */
export abstract class Optimizer {
  lr: number;
  stepCount = 0;
  /** Every parameter, in group order (checkpoints key optimizer state by this index). */
  readonly params: Tensor[];
  protected readonly state = new Map<Tensor, ParamState>();
  private readonly groupOf = new Map<Tensor, Group>();

  constructor(params: Tensor[] | ParamGroup[], lr: number) {
    this.lr = positive('learning rate', lr);
    const groups = toGroups(params, lr);
    this.params = groups.flatMap((g) => g.params);
    if (this.params.length === 0) throw new Error('optimizer got no parameters');
    for (const g of groups) for (const p of g.params) this.groupOf.set(p, g);
  }

  protected abstract update(p: Tensor, g: FArray, state: ParamState): void;

  /** The step size this optimizer applies to parameter p now (proximal steps use it). */
  rateOf(p: Tensor): number {
    return this.lrOf(p);
  }

  /** The learning rate of parameter p: lr times its group's ratio. */
  protected lrOf(p: Tensor): number {
    return this.lr * (this.groupOf.get(p)?.lrRatio ?? 1);
  }

  /** The weight decay of parameter p: its group's, else the optimizer's. */
  protected decayOf(p: Tensor, fallback: number): number {
    return this.groupOf.get(p)?.weightDecay ?? fallback;
  }

  step(): void {
    this.stepCount++;
    for (const p of this.params) {
      if (!p.grad) continue;
      let s = this.state.get(p);
      if (!s) {
        s = {};
        this.state.set(p, s);
      }
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
    // The old arrays go back once the new are made (sd may be this optimizer's own stateDict(), sharing them).
    const old = this.stateArrays();
    this.state.clear();
    for (const [key, t] of Object.entries(sd.tensors)) {
      const [i, name] = [Number(key.slice(0, key.indexOf('.'))), key.slice(key.indexOf('.') + 1)];
      const p = this.params[i];
      if (!p || p.size !== t.size) throw new Error(`optimizer state ${key} does not match the model's parameters`);
      let s = this.state.get(p);
      if (!s) {
        s = {};
        this.state.set(p, s);
      }
      s[name] = persistentCopy(t.data.slice());
    }
    for (const a of old) releasePersistent(a);
  }

  private stateArrays(): FArray[] {
    return [...this.state.values()].flatMap((s) => Object.values(s));
  }

  /**
   * Release the state arrays' memory now (see releasePersistent) rather than when collected, and start empty:
   * for a run that trains model after model. A step after this starts the moments from zero.
   */
  dispose(): void {
    for (const a of this.stateArrays()) releasePersistent(a);
    this.state.clear();
  }
}
