import type { FArray } from '../core/dtype.js';
import type { OpName } from '../core/op.js';
import { isGradEnabled, Tensor, type Node } from '../core/tensor.js';

/** A backward rule: from the output gradient, the gradient of each input (null where not needed). */
export type Rule = (node: Node, out: Tensor, gy: FArray) => (FArray | null)[];

/**
 * Put `out` on the tape when recording and some input needs a gradient. Core ops pass their
 * OPS name; techniques' ops are recorded by defineOp (ops/registry.ts) under their own name.
 */
export function record(out: Tensor, op: OpName, inputs: Tensor[], saved: Record<string, unknown> = {}): Tensor {
  if (isGradEnabled() && inputs.some((t) => t.requiresGrad)) {
    out.requiresGrad = true;
    out.node = { op, inputs, saved };
  }
  return out;
}

/** Whether input i of a node needs a gradient. */
export function needs(node: Node, i: number): boolean {
  return node.inputs[i].requiresGrad;
}
