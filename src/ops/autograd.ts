import type { FArray } from '../core/dtype.js';
import { scopedLike } from '../core/arena.js';
import type { Op, OpName } from '../core/op.js';
import { setBackwardImpl, Tensor } from '../core/tensor.js';
import { convRules } from './conv.js';
import { binaryRules, unaryRules } from './elementwise.js';
import { matmulRules } from './matmul.js';
import { nnRules } from './nn.js';
import { reduceRules } from './reduce.js';
import { shapeRules } from './shape.js';
import type { Rule } from './tape.js';
import { addBackwardTime, profiler } from './profile.js';
import { registeredRule } from './registry.js';

/**
 * THE table of backward rules: one per core primitive op; a missing op is a compile error.
 * Techniques' ops keep their rules beside their forward (defineOp); ruleFor finds either.
 */
export const backwardRules: { [K in Op]: Rule } = {
  ...binaryRules,
  ...unaryRules,
  ...reduceRules,
  ...shapeRules,
  ...matmulRules,
  ...nnRules,
  ...convRules,
};

/** The backward rule of a core op (the table) or of an op a technique registered (defineOp). */
export function ruleFor(op: OpName): Rule {
  const rule = Object.hasOwn(backwardRules, op) ? backwardRules[op as Op] : registeredRule(op);
  if (!rule) throw new Error(`backward(): no backward rule for op '${op}'; register the op with defineOp`);
  return rule;
}

/** Nodes reachable from root, in topological order (inputs before outputs). */
function topoOrder(root: Tensor): Tensor[] {
  const order: Tensor[] = [];
  const seen = new Set<Tensor>();
  // Iterative DFS: deep networks unrolled in time would overflow the JS stack.
  const stack: [Tensor, boolean][] = [[root, false]];
  while (stack.length) {
    const [t, done] = stack.pop()!;
    if (done) {
      order.push(t);
      continue;
    }
    if (seen.has(t)) continue;
    seen.add(t);
    stack.push([t, true]);
    if (t.node) for (const i of t.node.inputs) if (i.requiresGrad && !seen.has(i)) stack.push([i, false]);
  }
  return order;
}

function accumulate(map: Map<Tensor, FArray>, t: Tensor, g: FArray): void {
  const prev = map.get(t);
  if (!prev) {
    map.set(t, g);
    return;
  }
  // Never add into an array a rule may have passed through unchanged (e.g. reshape's gy).
  const sum = scopedLike(prev, prev.length);
  for (let i = 0; i < sum.length; i++) sum[i] = prev[i] + g[i];
  map.set(t, sum);
}

function runBackward(root: Tensor, seed: FArray): void {
  if (!root.requiresGrad)
    throw new Error('backward(): this tensor does not depend on any tensor that requires a gradient');
  const order = topoOrder(root);
  const grads = new Map<Tensor, FArray>([[root, seed]]);
  for (let i = order.length - 1; i >= 0; i--) {
    const t = order[i];
    const gy = grads.get(t);
    if (!gy) continue;
    grads.delete(t);
    if (!t.node) {
      // A leaf: accumulate into .grad like PyTorch.
      if (!t.grad)
        t.grad = new Tensor(gy === seed ? gy.slice() : gy, t.shape); // never alias the caller's seed
      else {
        const d = t.grad.data;
        for (let k = 0; k < d.length; k++) d[k] += gy[k];
      }
      continue;
    }
    const t0 = profiler.enabled ? performance.now() : 0;
    const gxs = ruleFor(t.node.op)(t.node, t, gy);
    if (profiler.enabled) addBackwardTime(t.node.op, performance.now() - t0);
    t.node.inputs.forEach((inp, k) => {
      const g = gxs[k];
      if (g && inp.requiresGrad) accumulate(grads, inp, g);
    });
    // Free the graph as we go: activations are released as soon as they are used.
    t.node = null;
  }
}

setBackwardImpl(runBackward);

export { runBackward as backward };
