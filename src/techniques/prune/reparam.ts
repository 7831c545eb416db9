// Pruning as a reparametrisation (the shape of PyTorch's torch.nn.utils.prune): the layer keeps
// its code; its parameter `name` becomes `${name}Orig` (trained) times `${name}Mask` (a 0/1 buffer),
// recomputed before every forward. The product's gradient is g ⊙ mask, so masked entries get zero.
import { persistentCopy } from '../../core/arena.js';
import { fmt, shapeEq } from '../../core/shape.js';
import { noGrad, Tensor } from '../../core/tensor.js';
import * as F from '../../ops/index.js';
import type { HookHandle, Module } from '../../nn/module.js';

interface Pruned {
  orig: Tensor;
  mask: Tensor;
}
interface State {
  entries: Map<string, Pruned>;
  /** The product made for the forward in progress, with the versions of orig and mask it was made from. */
  live: Map<string, { value: Tensor; orig: number; mask: number }>;
  hooks: HookHandle[];
}

const STATE = new WeakMap<Module, State>();

function paramOf(m: Module, name: string): Tensor {
  const t = (m as unknown as Record<string, unknown>)[name];
  if (!(t instanceof Tensor) || !m.namedParameters().some(([n, p]) => n === name && p === t)) {
    const names = m
      .namedParameters()
      .filter(([n]) => !n.includes('.'))
      .map(([n]) => n);
    throw new Error(`prune: ${m.toSpec().type} has no parameter '${name}' (it has: ${names.join(', ') || 'none'})`);
  }
  return t;
}

function install(m: Module): State {
  let st = STATE.get(m);
  if (st) return st;
  const s: State = { entries: new Map(), live: new Map(), hooks: [] };
  STATE.set(m, s);
  // The masked weight is computed on the tape for each forward; read outside forward it is a fresh product.
  s.hooks.push(
    m.registerForwardPreHook(() => {
      for (const [name, e] of s.entries) {
        s.live.set(name, { value: F.mul(e.orig, e.mask), orig: e.orig.version, mask: e.mask.version });
      }
    }),
  );
  s.hooks.push(
    m.registerForwardHook(() => {
      s.live.clear();
    }),
  );
  return s;
}

function defineMasked(m: Module, name: string, st: State): void {
  Object.defineProperty(m, name, {
    configurable: true,
    enumerable: true,
    // Inside forward, the product on the tape; otherwise (or after a forward that threw, whose post-hook
    // never ran, once orig or mask changed) a fresh product.
    get: () => {
      const e = st.entries.get(name)!,
        l = st.live.get(name);
      return l && l.orig === e.orig.version && l.mask === e.mask.version ? l.value : maskedValue(e);
    },
    set: () => {
      throw new Error(
        `prune: '${name}' is computed from ${name}Orig and ${name}Mask; change those, or call removePruning() first`,
      );
    },
  });
}

function maskedValue(e: Pruned): Tensor {
  const d = new Float32Array(e.orig.size);
  for (let i = 0; i < d.length; i++) d[i] = e.orig.data[i] * e.mask.data[i];
  return new Tensor(d, e.orig.shape);
}

function toMaskArray(mask: Tensor | ArrayLike<number>, like: Tensor, name: string): Float32Array {
  const src = mask instanceof Tensor ? mask.data : mask;
  if (mask instanceof Tensor && !shapeEq(mask.shape, like.shape))
    throw new Error(`prune: mask for '${name}' has shape ${fmt(mask.shape)}, the parameter has ${fmt(like.shape)}`);
  if (src.length !== like.size)
    throw new Error(`prune: mask for '${name}' has ${src.length} entries, the parameter has ${like.size}`);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) {
    const v = src[i];
    if (v !== 0 && v !== 1) throw new Error(`prune: a mask holds only 0 and 1, found ${v} at ${i}`);
    out[i] = v;
  }
  return out;
}

/**
 * Apply a 0/1 mask to parameter `name` of `m`. The first call turns the parameter into
 * `${name}Orig` (the same tensor object, so optimizers keep it) and a `${name}Mask` buffer;
 * later calls multiply the new mask into the existing one (pruned entries stay pruned),
 * as PyTorch's prune does.
 */
export function applyMask(m: Module, name: string, mask: Tensor | ArrayLike<number>): void {
  const st = STATE.get(m);
  const e = st?.entries.get(name);
  if (e) {
    const add = toMaskArray(mask, e.orig, name);
    for (let i = 0; i < add.length; i++) e.mask.data[i] *= add[i];
    e.mask.markChanged();
    return;
  }
  const orig = paramOf(m, name);
  const maskT = new Tensor(persistentCopy(toMaskArray(mask, orig, name)), orig.shape);
  const s = install(m);
  m.setEntry('parameter', name, null);
  m.setEntry('parameter', `${name}Orig`, orig);
  m.setEntry('buffer', `${name}Mask`, maskT);
  s.entries.set(name, { orig, mask: maskT });
  defineMasked(m, name, s);
}

/** Names of the pruned parameters of a module (empty when it is not pruned). */
export function prunedNames(m: Module): string[] {
  return [...(STATE.get(m)?.entries.keys() ?? [])];
}

export function isPruned(m: Module, name?: string): boolean {
  const st = STATE.get(m);
  return !!st && (name ? st.entries.has(name) : st.entries.size > 0);
}

/** The mask and the trained tensor behind a pruned parameter. */
export function pruneEntry(m: Module, name: string): Pruned | null {
  return STATE.get(m)?.entries.get(name) ?? null;
}

/** The parameter as the layer sees it (masked when pruned), as a plain tensor. */
export function effectiveParam(m: Module, name: string): Tensor {
  const e = pruneEntry(m, name);
  return e ? maskedValue(e) : paramOf(m, name);
}

/**
 * Zero the pruned entries of every `…Orig` tensor below `model`. Call after each optimizer
 * step: momentum and Adam moments would otherwise move them (harmlessly, since the mask
 * hides them, but the trained tensor should show the pruning too).
 */
export function reapplyMasks(model: Module): void {
  for (const [, m] of model.namedModules()) {
    const st = STATE.get(m);
    if (!st) continue;
    for (const e of st.entries.values()) {
      for (let i = 0; i < e.mask.size; i++) if (e.mask.data[i] === 0) e.orig.data[i] = 0;
      e.orig.markChanged();
    }
  }
}

/**
 * Make pruning permanent: each pruned parameter becomes a plain parameter holding
 * orig ⊙ mask (same name, same outputs), and the mask buffers and the forward hooks go.
 * With `name`, only that parameter. Returns the number of parameters made permanent.
 */
export function removePruning(model: Module, name?: string): number {
  let n = 0;
  for (const [, m] of model.namedModules()) {
    const st = STATE.get(m);
    if (!st) continue;
    for (const [k, e] of [...st.entries]) {
      if (name && k !== name) continue;
      const w = noGrad(() => maskedValue(e));
      m.setEntry('parameter', `${k}Orig`, null);
      m.setEntry('buffer', `${k}Mask`, null);
      st.entries.delete(k);
      delete (m as unknown as Record<string, unknown>)[k];
      w.data = persistentCopy(w.data);
      (m as unknown as Record<string, unknown>)[k] = w;
      m.setEntry('parameter', k, w);
      n++;
    }
    if (st.entries.size === 0) {
      for (const h of st.hooks) h.remove();
      STATE.delete(m);
    }
  }
  return n;
}
