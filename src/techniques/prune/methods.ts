// One-shot pruning methods, each a mask handed to applyMask (reparam.ts).
import { Rng } from '../../core/rng.js';
import type { Tensor } from '../../core/tensor.js';
import type { Module } from '../../nn/module.js';
import { applyMask, effectiveParam, pruneEntry } from './reparam.js';

/** A fraction in [0, 1) of the entries still unpruned, or a count (an integer ≥ 1). */
export type Amount = number;

/**
 * How many of `available` entries `amount` means. A fraction (0 ≤ amount < 1) is taken of the
 * entries not pruned yet and rounded to the nearest integer, as in PyTorch; an integer ≥ 1 is
 * a count and must not exceed them. (JavaScript has one number type, so 1 is the count one.)
 */
export function amountToCount(amount: Amount, available: number): number {
  if (typeof amount !== 'number' || !Number.isFinite(amount) || amount < 0) {
    throw new Error(`prune: amount must be a fraction in [0, 1) or a count ≥ 1, got ${amount}`);
  }
  if (amount < 1) return Math.round(amount * available);
  if (!Number.isInteger(amount))
    throw new Error(`prune: amount ${amount} is neither a fraction in [0, 1) nor an integer count`);
  if (amount > available) throw new Error(`prune: cannot prune ${amount} entries, only ${available} are left unpruned`);
  return amount;
}

/** The current mask of a parameter (all ones when it is not pruned yet). */
function currentMask(m: Module, name: string): Float32Array {
  const e = pruneEntry(m, name);
  return e ? (e.mask.data as Float32Array) : new Float32Array(effectiveParam(m, name).size).fill(1);
}

/** Mask that removes, among the entries where `alive`, the `k` with the smallest score. */
function dropSmallest(score: ArrayLike<number>, alive: Float32Array, k: number): Float32Array {
  const idx: number[] = [];
  for (let i = 0; i < alive.length; i++) if (alive[i] !== 0) idx.push(i);
  // Ties go to the lower index, so the result is deterministic.
  idx.sort((a, b) => score[a] - score[b] || a - b);
  const mask = alive.slice();
  for (let j = 0; j < k; j++) mask[idx[j]] = 0;
  return mask;
}

/** Prune the `amount` entries of smallest |w| (L1 magnitude) in one layer's parameter. */
export function l1Unstructured(m: Module, opts: { amount: Amount; name?: string }): void {
  const name = opts.name ?? 'weight';
  const w = effectiveParam(m, name),
    alive = currentMask(m, name);
  const k = amountToCount(
    opts.amount,
    alive.reduce((s, v) => s + v, 0),
  );
  const score = w.data.map(Math.abs);
  applyMask(m, name, dropSmallest(score, alive, k));
}

/** Prune `amount` entries chosen uniformly at random (seeded). */
export function randomUnstructured(m: Module, opts: { amount: Amount; name?: string; seed?: number }): void {
  const name = opts.name ?? 'weight';
  const alive = currentMask(m, name);
  const k = amountToCount(
    opts.amount,
    alive.reduce((s, v) => s + v, 0),
  );
  const rng = new Rng(opts.seed ?? 0);
  const score = new Float32Array(alive.length);
  for (let i = 0; i < score.length; i++) score[i] = rng.random();
  applyMask(m, name, dropSmallest(score, alive, k));
}

/**
 * Global magnitude pruning: the `amount` smallest |w| across all the given parameters
 * together (a fraction of all their unpruned entries, or a count).
 */
export function globalUnstructured(params: [Module, string][], opts: { amount: Amount }): void {
  if (params.length === 0) throw new Error('prune: globalUnstructured needs at least one [module, name] pair');
  const ws = params.map(([m, n]) => effectiveParam(m, n)),
    alives = params.map(([m, n]) => currentMask(m, n));
  const total = ws.reduce((s, w) => s + w.size, 0);
  const score = new Float32Array(total),
    alive = new Float32Array(total);
  let o = 0;
  ws.forEach((w, j) => {
    for (let i = 0; i < w.size; i++) {
      score[o + i] = Math.abs(w.data[i]);
      alive[o + i] = alives[j][i];
    }
    o += w.size;
  });
  const k = amountToCount(
    opts.amount,
    alive.reduce((s, v) => s + v, 0),
  );
  const mask = dropSmallest(score, alive, k);
  o = 0;
  params.forEach(([m, n], j) => {
    applyMask(m, n, mask.subarray(o, o + ws[j].size));
    o += ws[j].size;
  });
}

/** Lp norm of each slice along axis 0 (an output channel or neuron). */
export function channelNorms(w: Tensor, p: 1 | 2): Float64Array {
  const rows = w.shape[0],
    per = w.size / rows,
    out = new Float64Array(rows);
  for (let r = 0; r < rows; r++) {
    let s = 0;
    for (let i = 0; i < per; i++) {
      const v = Math.abs(w.data[r * per + i]);
      s += p === 1 ? v : v * v;
    }
    out[r] = p === 1 ? s : Math.sqrt(s);
  }
  return out;
}

/**
 * Structured pruning: remove whole output channels (conv) or neurons (linear) with the
 * smallest Lp norm (`n` = 1 or 2). `amount` counts channels still alive.
 */
export function lnStructured(m: Module, opts: { amount: Amount; n?: 1 | 2; name?: string }): void {
  const name = opts.name ?? 'weight';
  const w = effectiveParam(m, name),
    rows = w.shape[0],
    per = w.size / rows;
  const cur = currentMask(m, name),
    aliveRows = new Float32Array(rows);
  for (let r = 0; r < rows; r++)
    for (let i = 0; i < per; i++)
      if (cur[r * per + i] !== 0) {
        aliveRows[r] = 1;
        break;
      }
  const k = amountToCount(
    opts.amount,
    aliveRows.reduce((s, v) => s + v, 0),
  );
  const keepRows = dropSmallest(channelNorms(w, opts.n ?? 2), aliveRows, k);
  const mask = new Float32Array(w.size);
  for (let r = 0; r < rows; r++) if (keepRows[r]) mask.fill(1, r * per, (r + 1) * per);
  applyMask(m, name, mask);
}

/** Prune with a mask the caller made (0 = pruned, 1 = kept), same shape as the parameter. */
export function customMask(m: Module, mask: Tensor | ArrayLike<number>, name = 'weight'): void {
  applyMask(m, name, mask);
}
