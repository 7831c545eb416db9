// Integrate-and-fire neurons over a time-folded batch: the synaptic layers before them see every time
// step of a chunk at once ([steps·B, …], time-major), so their accumulation is one GEMM or convolution
// on the engine's kernels, and only the membrane update below walks the steps in order.
import { Tensor } from '../../core/tensor.js';
import { Module, type LayerSpec } from '../../nn/module.js';

/** How a neuron's membrane potential is reset after a spike. */
export type ResetMode = 'subtract' | 'zero';

/** Parameters of an integrate-and-fire population (threshold θ, reset, leak). */
export interface IFOptions {
  /** θ: a neuron spikes when V ≥ θ (default 1, as after data-based normalisation). */
  threshold?: number;
  /**
   * 'subtract' (V ← V − θ, Rueckauer et al. 2017; keeps the residual charge) or 'zero' (V ← 0, Diehl et al.).
   */
  reset?: ResetMode;
  /** Fraction of V lost per step before integrating (0: pure IF; 0 < leak < 1: leaky IF, V ← (1 − leak)·V + I). */
  leak?: number;
}

/** Checks IF options, naming the bad field. */
export function checkIFOptions(o: IFOptions): Required<IFOptions> {
  const threshold = o.threshold ?? 1,
    reset = o.reset ?? 'subtract',
    leak = o.leak ?? 0;
  if (!(threshold > 0) || !Number.isFinite(threshold))
    throw new Error(`IF neuron: threshold must be a finite number > 0, got ${threshold}`);
  if (reset !== 'subtract' && reset !== 'zero')
    throw new Error(`IF neuron: reset must be 'subtract' or 'zero', got ${JSON.stringify(reset)}`);
  if (!(leak >= 0 && leak < 1)) throw new Error(`IF neuron: leak must be in [0, 1), got ${leak}`);
  return { threshold, reset, leak };
}

/**
 * One IF update of n neurons at one time step, in float32 (V is a Float32Array, so the reference and the
 * fast simulation round alike): V ← (1 − leak)·V + I; spike s = [V ≥ θ]; after a spike V ← V − θ or 0.
 * Writes spikes (0/1) to `out` and returns how many fired.
 */
export function ifStep(
  v: Float32Array,
  current: ArrayLike<number>,
  cOff: number,
  out: Float32Array,
  oOff: number,
  o: Required<IFOptions>,
): number {
  const n = v.length,
    keep = 1 - o.leak,
    th = o.threshold;
  let fired = 0;
  for (let i = 0; i < n; i++) {
    const x = o.leak === 0 ? v[i] + current[cOff + i] : keep * v[i] + current[cOff + i];
    v[i] = x;
    if (v[i] >= th) {
      out[oOff + i] = 1;
      v[i] = o.reset === 'subtract' ? v[i] - th : 0;
      fired++;
    } else out[oOff + i] = 0;
  }
  return fired;
}

/**
 * A population of integrate-and-fire neurons (layer type `if`). Its input is the synaptic current of
 * `steps` consecutive time steps of a batch of B samples, rows time-major ([steps·B, …features]); its
 * output is the spikes (0/1) of the same shape. The membrane potential persists across calls until
 * resetState(), so a long simulation can run in chunks of steps. Spike counts per feature are kept for
 * cost accounting (summed over the batch and time).
 */
export class IFNeuron extends Module {
  readonly options: Required<IFOptions>;
  /** Time steps in the current input (set by SpikingNetwork before each chunk; rows = steps·B). */
  steps = 1;
  private v: Float32Array | null = null;
  /** Spikes per feature since resetCounts() (summed over samples and steps). */
  counts: Float64Array | null = null;

  constructor(opts: IFOptions = {}) {
    super();
    this.options = checkIFOptions(opts);
  }
  /** Membrane potentials to 0 (a new input). */
  resetState(): void {
    this.v = null;
  }
  resetCounts(): void {
    this.counts = null;
  }
  /** The membrane potential of the last step, [B·features] (null before the first step). */
  get potential(): Float32Array | null {
    return this.v;
  }
  forward(x: Tensor): Tensor {
    const rows = x.shape[0],
      T = this.steps;
    if (rows % T !== 0) throw new Error(`IF neuron: ${rows} rows are not ${T} time steps of one batch`);
    const B = rows / T,
      feat = x.size / rows,
      n = B * feat;
    if (!this.v || this.v.length !== n) this.v = new Float32Array(n);
    if (!this.counts || this.counts.length !== feat) this.counts = new Float64Array(feat);
    const out = new Float32Array(x.size),
      c = this.counts;
    for (let t = 0; t < T; t++) {
      ifStep(this.v, x.data, t * n, out, t * n, this.options);
      for (let b = 0, i = t * n; b < B; b++) for (let f = 0; f < feat; f++, i++) c[f] += out[i];
    }
    return new Tensor(out, x.shape);
  }
  toSpec(): LayerSpec {
    return { type: 'if', threshold: this.options.threshold, reset: this.options.reset, leak: this.options.leak };
  }
}
