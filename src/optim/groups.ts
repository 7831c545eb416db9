import type { Tensor } from '../core/tensor.js';
import type { Module } from '../nn/module.js';
import type { ParamGroup } from './optimizer.js';

/** A learning-rate scale a layer asks for some of its parameters under one kind of optimizer. */
export interface GroupHint {
  params: Tensor[];
  lrScale: number;
}

/**
 * A layer whose parameters want their own rate under some optimizers: a circulant layer's
 * defining value stands for N weights, so SGD should step it at lr/N (spec 02), Adam not.
 */
export interface HasGroupHints {
  paramGroupHints(optimizer: string): GroupHint[];
}

function hasHints(m: Module): m is Module & HasGroupHints {
  return typeof (m as Partial<HasGroupHints>).paramGroupHints === 'function';
}

/**
 * The model's parameters as optimizer groups for `optimizer` ('sgd', 'adam', 'adamw', …) at base
 * rate lr: one group per scale a layer asks for, the rest in one group in model order.
 * `new SGD(paramGroups(model, 'sgd', 0.05), { lr: 0.05 })`.
 */
export function paramGroups(model: Module, optimizer: string, lr: number): ParamGroup[] {
  const scaled = new Map<Tensor, number>();
  for (const [, m] of model.namedModules()) {
    if (!hasHints(m)) continue;
    for (const h of m.paramGroupHints(optimizer)) {
      if (!(h.lrScale > 0) || !Number.isFinite(h.lrScale))
        throw new Error(`${m.constructor.name}: lrScale must be positive, got ${h.lrScale}`);
      for (const p of h.params) scaled.set(p, h.lrScale);
    }
  }
  const all = model.parameters();
  const rest = all.filter((p) => !scaled.has(p));
  const byScale = new Map<number, Tensor[]>();
  for (const p of all)
    if (scaled.has(p)) {
      const s = scaled.get(p)!;
      byScale.set(s, [...(byScale.get(s) ?? []), p]);
    }
  return [...(rest.length ? [{ params: rest }] : []), ...[...byScale].map(([s, params]) => ({ params, lr: lr * s }))];
}
