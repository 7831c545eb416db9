// Technique-owned ops: a technique defines its differentiable primitives (forward and backward
// together) in its own folder, and the tape finds their backward rules here. The core table
// (ops/autograd.ts) stays exhaustive over the core OPS; this registry holds everything else.
import { OPS } from '../core/op.js';
import type { Tensor } from '../core/tensor.js';
import { profiled } from './profile.js';
import { record, type Rule } from './tape.js';

/** What a registered op's forward returns: the output and what the tape keeps for backward. */
export interface OpRecord {
  out: Tensor;
  /** The tensors the output depends on, in the order the backward rule returns their gradients. */
  inputs: Tensor[];
  /** Anything backward needs besides the inputs (shapes, options). */
  saved?: Record<string, unknown>;
}

/** A technique's differentiable primitive: its name on the tape, its forward and its backward rule. */
export interface OpDefinition<A extends unknown[]> {
  /** Unique op name (not a core op): the tape, the profiler and error messages use it. */
  name: string;
  /** Computes the output; the op records it on the tape under `name` when gradients are on. */
  forward: (...args: A) => OpRecord;
  /** From the output gradient, each input's gradient (null where not needed); see ops/tape.ts. */
  backward: Rule;
}

const registered = new Map<string, Rule>();
const core = new Set<string>(OPS);

/**
 * Register a technique's primitive op (in the spirit of jax-js's custom primitives and Larq's
 * custom gradients) and get its public function back, profiled under its name. The core op
 * table stays closed; a technique adds its ops from its own folder.
 *
 * @example
 * const twice = defineOp({ name: 'twice', forward: (x: Tensor) => ({ out: mul(x, 2).detach(), inputs: [x] }),
 *   backward: (_n, _o, gy) => [gy.map((v) => 2 * v)] });
 * twice(x).backward(); // x.grad = 2
 */
export function defineOp<A extends unknown[]>(def: OpDefinition<A>): (...args: A) => Tensor {
  const { name, forward, backward } = def;
  if (!name) throw new Error('defineOp: the op needs a name');
  if (core.has(name)) throw new Error(`defineOp: '${name}' is a core op; pick another name for the technique's op`);
  if (registered.has(name)) throw new Error(`defineOp: an op named '${name}' is already registered`);
  registered.set(name, backward);
  return profiled(name, (...args: A): Tensor => {
    const r = forward(...args);
    return record(r.out, name, r.inputs, r.saved);
  });
}

/** Names of the ops techniques have registered so far (in registration order). */
export function registeredOps(): string[] {
  return [...registered.keys()];
}

/** The backward rule of a registered op, or undefined. */
export function registeredRule(name: string): Rule | undefined {
  return registered.get(name);
}
