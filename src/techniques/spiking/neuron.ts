// Integrate-and-fire neurons over a time-folded batch: the synaptic layers before them see every time
// step of a chunk at once ([steps·B, …], time-major), so their accumulation is one GEMM or convolution
// on the engine's kernels, and only the membrane update below walks the steps in order.
import { Tensor } from '../../core/tensor.js';
import { persistentArray, scopedEmpty } from '../../core/arena.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { spikingKernels } from './kernels/index.js';

export { ifStep } from './kernels/reference.js';

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
  /** Membrane potentials, in the kernels' memory (a pooled array) so no call copies them. */
  private v: Float32Array | null = null;
  /** Spikes in the output of the last forward call (all rows). */
  lastSpikes = 0;
  /** Spikes per feature since resetCounts() (summed over samples and steps). */
  counts: Float64Array | null = null;

  constructor(opts: IFOptions = {}) {
    super();
    this.options = checkIFOptions(opts);
  }
  /** Membrane potentials to 0 (a new input). */
  resetState(): void {
    // Zeroed in place: a new pooled array per batch would only come back when garbage-collected.
    this.v?.fill(0);
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
    return this.run(x, rows / T, T, false);
  }

  /** `steps` time steps driven by the same current x [B, …features] at every step: spikes [steps·B, …]. */
  constantForward(x: Tensor, steps: number): Tensor {
    return this.run(x, x.shape[0], steps, true);
  }

  private run(x: Tensor, B: number, T: number, constant: boolean): Tensor {
    const n = constant ? x.size : x.size / T,
      feat = n / B;
    if (!this.v || this.v.length !== n) this.v = persistentArray(n);
    if (!this.counts || this.counts.length !== feat) this.counts = new Float64Array(feat);
    const cur = x.data instanceof Float32Array ? x.data : Float32Array.from(x.data),
      y = scopedEmpty([T * B, ...x.shape.slice(1)]),
      out = y.data as Float32Array,
      k = spikingKernels.for('float32'),
      c = this.counts;
    // Counts are float32 in the kernels: a call of at most 2²⁴ rows keeps them exact.
    const per = Math.max(1, Math.floor((1 << 24) / B));
    this.lastSpikes = 0;
    for (let t0 = 0; t0 < T; t0 += per) {
      const steps = Math.min(per, T - t0),
        part = new Float32Array(feat);
      const src = constant ? cur : cur.subarray(t0 * n, (t0 + steps) * n);
      k.ifSteps(this.v, src, constant, out.subarray(t0 * n, (t0 + steps) * n), part, steps, B, this.options);
      for (let f = 0; f < feat; f++) ((c[f] += part[f]), (this.lastSpikes += part[f]));
    }
    return y;
  }

  toSpec(): LayerSpec {
    return { type: 'if', threshold: this.options.threshold, reset: this.options.reset, leak: this.options.leak };
  }
}
