import { Tensor } from '../core/tensor.js';
import { disposeTensor, persistentCopy } from '../core/arena.js';
import { fmt, shapeEq } from '../core/shape.js';

/** A layer spec entry: `{ type: 'conv2d', in: 1, out: 16, kernel: 3 }`. */
export interface LayerSpec {
  type: string;
  [key: string]: unknown;
}

/** Runs before a module's forward (PyTorch's forward pre-hook); may return a replacement input. */
export type ForwardPreHook = (module: Module, x: Tensor) => Tensor | void;
/** Runs after a module's forward (PyTorch's forward hook); may return a replacement output. */
export type ForwardHook = (module: Module, x: Tensor, y: Tensor) => Tensor | void;
/** Removes the hook it was returned for. */
export interface HookHandle {
  remove(): void;
}

/**
 * Base class of layers and models (PyTorch's nn.Module, kept small): parameters,
 * buffers and child modules by name; train/eval; state dicts.
 */
export abstract class Module {
  training = true;
  private readonly _params = new Map<string, Tensor>();
  private readonly _buffers = new Map<string, Tensor>();
  private readonly _children = new Map<string, Module>();
  private _preHooks: ForwardPreHook[] = [];
  private _hooks: ForwardHook[] = [];
  private _hooked?: (x: Tensor) => Tensor;
  private _ownForward?: (x: Tensor) => Tensor;

  abstract forward(x: Tensor): Tensor;

  /** The JSON spec that rebuilds this layer (see nn/spec.ts). */
  abstract toSpec(): LayerSpec;

  /** Alias of forward. */
  call(x: Tensor): Tensor {
    return this.forward(x);
  }

  /**
   * Run `hook` before every forward of this module (PyTorch's register_forward_pre_hook): how a
   * technique wraps a layer without editing it (pruning recomputes weight = weightOrig ⊙ mask here).
   */
  registerForwardPreHook(hook: ForwardPreHook): HookHandle {
    this._preHooks = [...this._preHooks, hook];
    this.dispatchHooks();
    return {
      remove: () => {
        this._preHooks = this._preHooks.filter((h) => h !== hook);
        this.dispatchHooks();
      },
    };
  }

  /** Run `hook` after every forward of this module (PyTorch's register_forward_hook); it may replace the output. */
  registerForwardHook(hook: ForwardHook): HookHandle {
    this._hooks = [...this._hooks, hook];
    this.dispatchHooks();
    return {
      remove: () => {
        this._hooks = this._hooks.filter((h) => h !== hook);
        this.dispatchHooks();
      },
    };
  }

  /**
   * Callers invoke `forward` directly, so a module with hooks gets an own `forward` that runs
   * them around its class's; without hooks it has none, and forward costs nothing extra.
   */
  private dispatchHooks(): void {
    const self = this as { forward?: unknown };
    if (!this._preHooks.length && !this._hooks.length) {
      // Put back what was there before the first hook: an instance's own forward, or the class's.
      if (this._hooked && self.forward === this._hooked) {
        if (this._ownForward) self.forward = this._ownForward;
        else delete self.forward;
      }
      this._hooked = this._ownForward = undefined;
      return;
    }
    if (this._hooked) return;
    // An instance may carry its own forward (assigned by user code): hooks wrap that one.
    const own = Object.prototype.hasOwnProperty.call(this, 'forward')
      ? (this.forward as (x: Tensor) => Tensor)
      : undefined;
    this._ownForward = own;
    const base = own ?? (Object.getPrototypeOf(this).forward as (x: Tensor) => Tensor);
    const hooked = (x: Tensor): Tensor => {
      for (const h of this._preHooks) x = h(this, x) ?? x;
      let y = base.call(this, x);
      for (const h of this._hooks) y = h(this, x, y) ?? y;
      return y;
    };
    this._hooked = hooked;
    Object.defineProperty(this, 'forward', { value: hooked, configurable: true, writable: true, enumerable: false });
  }

  protected registerParameter(name: string, t: Tensor): Tensor {
    t.requiresGrad = true;
    t.data = persistentCopy(t.data); // in the kernels' memory: used in place, never copied per call
    this._params.set(name, t);
    return t;
  }

  protected registerBuffer(name: string, t: Tensor): Tensor {
    this._buffers.set(name, t);
    return t;
  }

  protected registerModule<M extends Module>(name: string, m: M): M {
    this._children.set(name, m);
    return m;
  }

  /** Replace a registered parameter's tensor (used by techniques that reparametrise). */
  protected setParameter(name: string, t: Tensor | null): void {
    if (t) this.registerParameter(name, t);
    else this._params.delete(name);
  }

  /**
   * For techniques that wrap a layer without editing it (pruning's `weightOrig` + `weightMask`):
   * add, replace or drop a named parameter or buffer. The tensor is used as it is (no copy), so
   * an optimizer that already holds it keeps working.
   */
  setEntry(kind: 'parameter' | 'buffer', name: string, t: Tensor | null): void {
    const map = kind === 'parameter' ? this._params : this._buffers;
    if (!t) {
      map.delete(name);
      return;
    }
    if (kind === 'parameter') t.requiresGrad = true;
    map.set(name, t);
  }

  children(): [string, Module][] {
    return [...this._children];
  }

  /** All modules below and including this one, with dotted names ('' for this one). */
  namedModules(prefix = ''): [string, Module][] {
    const out: [string, Module][] = [[prefix, this]];
    for (const [n, c] of this._children) out.push(...c.namedModules(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._params) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this._children) out.push(...c.namedParameters(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = [];
    for (const [n, t] of this._buffers) out.push([prefix ? `${prefix}.${n}` : n, t]);
    for (const [n, c] of this._children) out.push(...c.namedBuffers(prefix ? `${prefix}.${n}` : n));
    return out;
  }

  /** Number of parameter elements. */
  paramCount(): number {
    return this.parameters().reduce((s, t) => s + t.size, 0);
  }

  train(mode = true): this {
    for (const [, m] of this.namedModules()) m.training = mode;
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  zeroGrad(): void {
    for (const p of this.parameters()) p.grad = null;
  }

  /**
   * Release the parameters' and buffers' memory now rather than when collected (TensorFlow.js's dispose): for a
   * run that trains model after model, as a search does. Any later use of this module's tensors throws.
   */
  dispose(): void {
    for (const [, t] of [...this.namedParameters(), ...this.namedBuffers()]) disposeTensor(t);
  }

  /** Parameters and buffers by dotted name (the tensors themselves, not copies). */
  stateDict(): Record<string, Tensor> {
    const sd: Record<string, Tensor> = {};
    for (const [n, t] of this.namedParameters()) sd[n] = t;
    for (const [n, t] of this.namedBuffers()) sd[n] = t;
    return sd;
  }

  /** Copy values in; with strict, missing or unexpected names and shape mismatches are errors. */
  loadStateDict(sd: Record<string, Tensor>, strict = true): void {
    const own = this.stateDict();
    const missing = Object.keys(own).filter((k) => !(k in sd));
    const extra = Object.keys(sd).filter((k) => !(k in own));
    if (strict && (missing.length || extra.length)) {
      throw new Error(
        `state dict does not match the model: missing [${missing.join(', ')}], unexpected [${extra.join(', ')}]`,
      );
    }
    for (const [k, t] of Object.entries(own)) {
      const src = sd[k];
      if (!src) continue;
      if (!shapeEq(src.shape, t.shape))
        throw new Error(`state dict entry ${k} has shape ${fmt(src.shape)}, the model expects ${fmt(t.shape)}`);
      t.data.set(src.data);
      t.markChanged();
    }
    for (const [, m] of this.namedModules()) m.stateLoaded();
  }

  /** Called on every module after loadStateDict copied values in: layers that derive state from their buffers rebuild
   * it here. */
  protected stateLoaded(): void {}

  /**
   * Arrays a layer stores in model files besides its float tensors (packed bits, small integers),
   * by name; model files save them under the module's path. Default: none.
   */
  rawEntries(): Record<string, Uint8Array | Int8Array | Int32Array> {
    return {};
  }
  /** Receives this module's raw entries from a model file (names as rawEntries gave them). */
  loadRawEntries(entries: Record<string, Uint8Array | Int8Array | Int32Array>): void {
    const names = Object.keys(entries);
    if (names.length)
      throw new Error(`${this.constructor.name} has no raw entries, the file gives ${names.join(', ')}`);
  }
}
