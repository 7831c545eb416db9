// GDHP's three approximators and their helpers: MLPs (or, for the LQR check, a quadratic critic and
// linear costate/actor maps), Polyak target copies, gradient-norm clipping and the replay buffer.
import { Rng } from '../../core/rng.js';
import { Tensor } from '../../core/tensor.js';
import { mul, sub, sum } from '../../ops/index.js';
import { Activation, Linear, Sequential } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';

/** 'linear': quadratic critic V = ‖Wx‖², costate Λ = Wx and actor π = Wx, all without bias (test A). */
export type Architecture = 'linear' | number[];
export type ActivationName = 'tanh' | 'relu' | 'leakyrelu';

/** V(x) = ‖Lx‖² (L n×n, no bias): the critic that can represent an LQR value xᵀPx exactly. */
export class QuadraticCritic extends Module {
  readonly lin: Linear;
  constructor(n: number, rng: Rng) {
    super();
    this.lin = this.registerModule('lin', new Linear(n, n, { bias: false, rng }));
  }
  forward(x: Tensor): Tensor {
    const y = this.lin.forward(x);
    return sum(mul(y, y), [1], true);
  }
  toSpec(): LayerSpec {
    return { type: 'quadratic-critic', n: this.lin.inFeatures };
  }
}

/** An MLP in → hidden… → out, or one Linear without bias for the 'linear' architecture. */
export function network(inp: number, out: number, arch: Architecture, act: ActivationName, rng: Rng): Module {
  if (arch === 'linear') return new Linear(inp, out, { bias: false, rng });
  const layers: Module[] = [];
  let w = inp;
  for (const h of arch) {
    layers.push(new Linear(w, h, { rng }), new Activation(act));
    w = h;
  }
  layers.push(new Linear(w, out, { rng }));
  return new Sequential(...layers);
}

/**
 * V(x) = N(x) − N(x_ref): with γ = 1 the Bellman target r + V(x') fixes V only up to a constant, so
 * the critic is pinned to 0 at the cost's reference state (the equilibrium of tests A and B).
 */
export class AnchoredCritic extends Module {
  readonly net: Module;
  readonly anchor: Tensor;
  constructor(net: Module, anchor: number[]) {
    super();
    this.net = this.registerModule('net', net);
    this.anchor = this.registerBuffer('anchor', Tensor.from(anchor, [1, anchor.length]));
  }
  forward(x: Tensor): Tensor {
    return sub(this.net.forward(x), this.net.forward(this.anchor));
  }
  toSpec(): LayerSpec {
    return { type: 'anchored-critic', net: this.net.toSpec() };
  }
}

/**
 * The critic V: R^n → R: a quadratic form for 'linear' (V(0) = 0), else an MLP, anchored to
 * V(x_ref) = 0 when `anchor` is given (γ = 1).
 */
export function criticNetwork(n: number, arch: Architecture, act: ActivationName, rng: Rng, anchor?: number[]): Module {
  if (arch === 'linear') return new QuadraticCritic(n, rng);
  const net = network(n, 1, arch, act, rng);
  return anchor ? new AnchoredCritic(net, anchor) : net;
}

/** θ_tgt ← τθ + (1 − τ)θ_tgt (Polyak averaging; τ = 1 copies). */
export function polyak(target: Module, source: Module, tau: number): void {
  const t = target.parameters(),
    s = source.parameters();
  for (let i = 0; i < t.length; i++) {
    const a = t[i].data,
      b = s[i].data;
    for (let j = 0; j < a.length; j++) a[j] = tau * b[j] + (1 - tau) * a[j];
    t[i].markChanged();
  }
}

/** Scales the module's gradients so their global L2 norm is at most maxNorm; returns the norm before. */
export function clipGradNorm(m: Module, maxNorm: number): number {
  let q = 0;
  for (const p of m.parameters()) if (p.grad) for (const v of p.grad.data) q += v * v;
  const norm = Math.sqrt(q);
  if (norm > maxNorm && norm > 0) {
    const s = maxNorm / norm;
    for (const p of m.parameters()) if (p.grad) for (let i = 0; i < p.grad.size; i++) p.grad.data[i] *= s;
  }
  return norm;
}

/** All parameters as one flat copy (for the weight-drift check ‖W_t − W_{t−100}‖). */
export function flatParams(m: Module): Float64Array {
  const ps = m.parameters(),
    out = new Float64Array(ps.reduce((s, p) => s + p.size, 0));
  let o = 0;
  for (const p of ps) {
    out.set(p.data, o);
    o += p.size;
  }
  return out;
}

/**
 * A ring buffer of transitions (x, u, x') as a Module buffer, so training checkpoints carry it
 * through the same safetensors file as the networks.
 */
export class ReplayBuffer extends Module {
  readonly data: Tensor;
  /** [size, next write position]. */
  readonly meta: Tensor;
  readonly width: number;
  constructor(
    readonly capacity: number,
    readonly n: number,
    readonly m: number,
  ) {
    super();
    if (!Number.isInteger(capacity) || capacity < 1)
      throw new Error(`replay buffer: capacity must be a positive integer, got ${capacity}`);
    this.width = 2 * n + m;
    this.data = this.registerBuffer(
      'data',
      new Tensor(new Float64Array(capacity * this.width), [capacity, this.width]),
    );
    this.meta = this.registerBuffer('meta', new Tensor(new Float64Array(2), [2]));
  }
  get size(): number {
    return this.meta.data[0];
  }
  push(x: ArrayLike<number>, u: ArrayLike<number>, next: ArrayLike<number>): void {
    const at = this.meta.data[1],
      d = this.data.data,
      o = at * this.width;
    for (let i = 0; i < this.n; i++) d[o + i] = x[i];
    for (let i = 0; i < this.m; i++) d[o + this.n + i] = u[i];
    for (let i = 0; i < this.n; i++) d[o + this.n + this.m + i] = next[i];
    this.meta.data[1] = (at + 1) % this.capacity;
    this.meta.data[0] = Math.min(this.capacity, this.size + 1);
  }
  /** B rows drawn uniformly with replacement: x [B·n], u [B·m], x' [B·n]. */
  sample(B: number, rng: Rng): { x: Float64Array; u: Float64Array; next: Float64Array } {
    const { n, m } = this,
      x = new Float64Array(B * n),
      u = new Float64Array(B * m),
      next = new Float64Array(B * n),
      d = this.data.data;
    for (let b = 0; b < B; b++) {
      const o = rng.int(this.size) * this.width;
      for (let i = 0; i < n; i++) x[b * n + i] = d[o + i];
      for (let i = 0; i < m; i++) u[b * m + i] = d[o + n + i];
      for (let i = 0; i < n; i++) next[b * n + i] = d[o + n + m + i];
    }
    return { x, u, next };
  }
  forward(x: Tensor): Tensor {
    return x;
  }
  toSpec(): LayerSpec {
    return { type: 'replay-buffer', capacity: this.capacity };
  }
}
