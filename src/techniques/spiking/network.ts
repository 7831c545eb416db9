// A converted spiking network as one layer (type `spiking`): rate-coded input, time-folded simulation in
// chunks of steps, read out by output spike counts (or accumulated membrane potential), and the cost
// counts (spikes, synaptic events) that `frugal info` and `frugal snn` report.
import { Rng } from '../../core/rng.js';
import { noGrad, Tensor } from '../../core/tensor.js';
import { scopedEmpty, withScope } from '../../core/arena.js';
import { Conv2d, Flatten, Linear, Sequential } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import type { CostReport } from '../../report/profile.js';
import { IFNeuron } from './neuron.js';
import { fanOut } from './cost.js';
import { spikingKernels } from './kernels/index.js';

/** How pixel intensities p ∈ [0, 1] become input: Poisson spikes (P(spike) = p per step) or a constant current p. */
export type Coding = 'poisson' | 'constant';
/** Output by spike count of the output neurons, or by the membrane potential of a threshold-free output layer. */
export type Readout = 'spikes' | 'potential';

/**
 * Below this share of input spikes a linear layer after an IF population sums the weights of the spikes
 * (event-driven) instead of a dense product: measured by bench/snn-events.ts, where the two cross.
 */
export const EVENT_MAX_DENSITY = 0.35;

/** A linear layer on binary input s [R, K], event-driven (the spiking family's spikeLinear). */
function spikeLinear(l: Linear, s: Tensor): Tensor {
  const R = s.shape[0],
    N = l.weight.shape[0],
    out = scopedEmpty([R, N]);
  const f32 = (a: Tensor) => (a.data instanceof Float32Array ? a.data : Float32Array.from(a.data));
  spikingKernels
    .for('float32')
    .spikeLinear(f32(s), R, f32(l.weight), N, l.bias ? f32(l.bias) : null, out.data as Float32Array);
  return out;
}

/** Layer types allowed inside a spiking network. */
export const SPIKING_INNER = ['linear', 'conv2d', 'avgpool2d', 'flatten', 'if'] as const;

/** Costs of one synaptic layer per inference (mean over the samples simulated since resetCounts). */
export interface SynapticCost {
  index: number;
  type: string;
  /** Spikes (Poisson input) or non-zero input currents (constant input) arriving, per inference. */
  inputEvents: number;
  /** Σ over arriving spikes of the neuron's fan-out, counting pruned (zero) synapses out. */
  synapticEvents: number;
  /** Multiply-accumulates of the same layer in the ANN (dense), once per inference. */
  annMacs: number;
  /** The ANN's MACs with non-zero weights. */
  annEffectiveMacs: number;
}

/** The cost accounting of a spiking network (spec 07, issue 18 point 4). */
export interface SpikingCost {
  timesteps: number;
  samples: number;
  /** Spikes of every IF population (hidden and output), per inference. */
  spikesPerInference: number;
  /** Spikes per inference of each IF population, in order. */
  spikesByLayer: number[];
  /** Input spikes (Poisson) or non-zero input currents × steps (constant), per inference. */
  inputEventsPerInference: number;
  synapticEventsPerInference: number;
  annMacs: number;
  annEffectiveMacs: number;
  layers: SynapticCost[];
}

export interface SpikingOptions {
  /** Shape of one input sample (as the ANN's). */
  input: number[];
  timesteps: number;
  coding?: Coding;
  readout?: Readout;
  /** Seed of the Poisson input (the stream continues across calls; a new network restarts it). */
  seed?: number;
  /** Activation floats per chunk of steps (bounds memory: chunk = budget / (B × largest activation)). */
  chunkBudget?: number;
}

/** Checks a timestep count (T ≥ 1 integer), naming the field. */
export function checkTimesteps(T: unknown, field = 'timesteps'): number {
  if (typeof T !== 'number' || !Number.isInteger(T) || T < 1 || T > 1e6)
    throw new Error(`${field} must be an integer in [1, 1000000] (time steps of the simulation), got ${String(T)}`);
  return T;
}

/**
 * A spiking network: `input` pixels are rate-coded for `timesteps` steps, the layers (linear, conv2d,
 * avgpool2d, flatten, and `if` neuron populations) run on the time-folded batch [steps·B, …] in chunks of
 * steps, and the output is the sum over steps of the last layer's output: spike counts when it is an IF
 * population, the membrane potential T·(W·r + b) of a threshold-free layer otherwise. Equivalent to stepping
 * all layers together, since no layer feeds back: layer l's spike train depends only on layer l−1's.
 */
export class SpikingNetwork extends Module {
  readonly net: Sequential;
  readonly input: number[];
  readonly timesteps: number;
  readonly coding: Coding;
  readonly readout: Readout;
  readonly seed: number;
  readonly chunkBudget: number;
  /** Costs measured on data by `frugal snn`, stored in the model file for `frugal info`. */
  measured: SpikingCost | null = null;
  private rng: Rng;
  private inputCounts: Float64Array | null = null;
  private samples = 0;
  private readonly maxFeatures: number;

  constructor(layers: Module[], o: SpikingOptions) {
    super();
    this.timesteps = checkTimesteps(o.timesteps);
    this.coding = o.coding ?? 'poisson';
    this.readout = o.readout ?? 'spikes';
    if (this.coding !== 'poisson' && this.coding !== 'constant')
      throw new Error(`spiking: coding must be 'poisson' or 'constant', got ${JSON.stringify(this.coding)}`);
    if (this.readout !== 'spikes' && this.readout !== 'potential')
      throw new Error(`spiking: readout must be 'spikes' or 'potential', got ${JSON.stringify(this.readout)}`);
    if (layers.length === 0) throw new Error('spiking: the network has no layers');
    for (const l of layers) {
      const t = l.toSpec().type;
      if (!(SPIKING_INNER as readonly string[]).includes(t))
        throw new Error(`spiking: layer type '${t}' cannot run inside a spiking network (${SPIKING_INNER.join(', ')})`);
    }
    const last = layers[layers.length - 1];
    if (this.readout === 'spikes' && !(last instanceof IFNeuron))
      throw new Error("spiking: readout 'spikes' needs an IF population as the last layer");
    if (this.readout === 'potential' && !(last instanceof Linear || last instanceof Conv2d))
      throw new Error("spiking: readout 'potential' needs a linear or conv2d layer last (no threshold on the output)");
    this.input = [...o.input];
    this.seed = o.seed ?? 1;
    this.chunkBudget = o.chunkBudget ?? 1 << 22;
    this.rng = new Rng(this.seed);
    this.net = new Sequential(...layers);
    this.registerModule('net', this.net);
    this.maxFeatures = Math.max(...this.shapes().map((s) => s.reduce((a, b) => a * b, 1)));
  }

  /** Per-sample output shapes of the inner layers (input first). */
  shapes(): number[][] {
    const out = [this.input];
    noGrad(() =>
      withScope(() => {
        let x = Tensor.zeros([1, ...this.input]);
        for (const l of this.net.layers) {
          if (l instanceof IFNeuron) continue;
          x = l.forward(x);
          out.push(x.shape.slice(1));
        }
      }),
    );
    return out;
  }

  /** The IF populations, in order. */
  neurons(): IFNeuron[] {
    return this.net.layers.filter((l): l is IFNeuron => l instanceof IFNeuron);
  }

  /** Restart the Poisson input stream (the same seed gives the same spikes). */
  resetRng(): void {
    this.rng = new Rng(this.seed);
  }

  /** Forget the spike counts (cost accounting restarts). */
  resetCounts(): void {
    this.inputCounts = null;
    this.samples = 0;
    for (const n of this.neurons()) n.resetCounts();
  }

  /** Steps per chunk for a batch of B (at least 1). */
  chunkSteps(B: number): number {
    return Math.max(1, Math.min(this.timesteps, Math.floor(this.chunkBudget / (B * this.maxFeatures))));
  }

  /** The rate-coded input of steps [t0, t0 + steps) for a batch x [B, …input], time-major. */
  private encode(x: Tensor, steps: number): Tensor {
    const n = x.size,
      B = x.shape[0],
      feat = n / B,
      src = x.data,
      out = Tensor.zeros([steps * B, ...x.shape.slice(1)]),
      d = out.data;
    if (this.coding === 'constant') {
      for (let t = 0; t < steps; t++) d.set(src, t * n);
      this.countConstant(x, steps);
      return out;
    }
    if (!this.inputCounts) this.inputCounts = new Float64Array(feat);
    const c = this.inputCounts,
      rng = this.rng;
    for (let t = 0; t < steps; t++) {
      for (let b = 0, i = 0; b < B; b++) {
        for (let f = 0; f < feat; f++, i++) {
          // Diehl et al.'s test: a pixel spikes when rand ≤ p·(dt·max_rate), here dt·max_rate = 1.
          if (rng.random() < src[i]) {
            d[t * n + i] = 1;
            c[f]++;
          } else d[t * n + i] = 0;
        }
      }
    }
    return out;
  }

  forward(x: Tensor): Tensor {
    return this.forwardAt(x, [this.timesteps])[0];
  }

  /**
   * The output summed over the first t steps, for each t of `at` (ascending, each in [1, T]): one simulation
   * gives the whole accuracy-against-T curve, since steps after t do not change what happened before it.
   */
  forwardAt(x: Tensor, at: number[]): Tensor[] {
    if (x.shape.length !== this.input.length + 1 || x.shape.slice(1).some((d, i) => d !== this.input[i]))
      throw new Error(`spiking: input [${x.shape}] is not a batch of [${this.input}]`);
    if (
      !at.length ||
      at.some((t, i) => !Number.isInteger(t) || t < 1 || t > this.timesteps || (i > 0 && t <= at[i - 1]))
    )
      throw new Error(`spiking: checkpoints must be ascending integers in [1, ${this.timesteps}], got [${at}]`);
    const B = x.shape[0],
      tc = this.chunkSteps(B),
      layers = this.net.layers,
      T = at[at.length - 1];
    for (const n of this.neurons()) n.resetState();
    // Constant-current input: the first synaptic layer's current is the same at every step, so it is computed
    // once and repeated (the same numbers a per-step product gives).
    const first = layers[0];
    const fixed =
      this.coding === 'constant' && (first instanceof Linear || first instanceof Conv2d) ? first.forward(x) : null;
    let acc = new Float32Array(0);
    const outs: Tensor[] = [];
    let next = 0;
    for (let t0 = 0; t0 < T; t0 += tc) {
      const steps = Math.min(tc, T - t0);
      withScope(() => {
        let s: Tensor,
          from = 0;
        if (fixed) {
          this.countConstant(x, steps);
          if (layers[1] instanceof IFNeuron) {
            // The neurons read the one current at every step: no [steps·B, …] copy of it.
            s = layers[1].constantForward(fixed, steps);
            from = 2;
          } else {
            s = Tensor.zeros([steps * B, ...fixed.shape.slice(1)]);
            for (let t = 0; t < steps; t++) s.data.set(fixed.data, t * fixed.size);
            from = 1;
          }
        } else s = this.encode(x, steps);
        // Spikes seen by the next layer: the share of ones where its input is an IF population's output.
        let density = from === 2 ? (layers[1] as IFNeuron).lastSpikes / s.size : NaN;
        for (let li = from; li < layers.length; li++) {
          const l = layers[li];
          if (l instanceof IFNeuron) l.steps = steps;
          s = density < EVENT_MAX_DENSITY && l.constructor === Linear ? spikeLinear(l as Linear, s) : l.forward(s);
          if (l instanceof IFNeuron) density = l.lastSpikes / s.size;
          else if (!(l instanceof Flatten)) density = NaN;
        }
        const m = s.size / steps,
          d = s.data;
        if (acc.length !== m) acc = new Float32Array(m);
        const a = acc;
        // Sum over the chunk's steps (rows are time-major: row t·B + b), in step order.
        for (let t = 0; t < steps; t++) {
          for (let i = 0, o = t * m; i < m; i++) a[i] += d[o + i];
          if (t0 + t + 1 === at[next]) (outs.push(new Tensor(Float32Array.from(a), [B, m / B])), next++);
        }
      });
    }
    this.samples += B;
    return outs;
  }

  private countConstant(x: Tensor, steps: number): void {
    const B = x.shape[0],
      feat = x.size / B,
      src = x.data;
    if (!this.inputCounts) this.inputCounts = new Float64Array(feat);
    const c = this.inputCounts;
    for (let b = 0, i = 0; b < B; b++) for (let f = 0; f < feat; f++, i++) if (src[i] !== 0) c[f] += steps;
  }

  /** Spikes, synaptic events and the ANN's MACs per inference, from the counts since resetCounts(). */
  cost(): SpikingCost {
    const shapes = this.shapes(),
      per = Math.max(1, this.samples);
    const layers: SynapticCost[] = [];
    let src: Float64Array | null = this.inputCounts,
      k = 0;
    const spikesByLayer: number[] = [];
    this.net.layers.forEach((l, index) => {
      if (l instanceof IFNeuron) {
        src = l.counts;
        spikesByLayer.push(l.counts ? l.counts.reduce((a, b) => a + b, 0) / per : 0);
        return;
      }
      const inShape = shapes[k],
        outShape = shapes[++k];
      if (l instanceof Flatten) return;
      const { fan, macs, effective } = fanOut(l, inShape, outShape);
      let ev = 0,
        inEv = 0;
      if (src) for (let j = 0; j < src.length; j++) ((ev += src[j] * fan(j)), (inEv += src[j]));
      layers.push({
        index,
        type: l.toSpec().type,
        inputEvents: inEv / per,
        synapticEvents: ev / per,
        annMacs: macs,
        annEffectiveMacs: effective,
      });
    });
    const sum = (f: (c: SynapticCost) => number) => layers.reduce((a, c) => a + f(c), 0);
    return {
      timesteps: this.timesteps,
      samples: this.samples,
      spikesPerInference: spikesByLayer.reduce((a, b) => a + b, 0),
      spikesByLayer,
      inputEventsPerInference: this.inputCounts ? this.inputCounts.reduce((a, b) => a + b, 0) / per : 0,
      synapticEventsPerInference: sum((c) => c.synapticEvents),
      annMacs: sum((c) => c.annMacs),
      annEffectiveMacs: sum((c) => c.annEffectiveMacs),
      layers,
    };
  }

  costReport(): CostReport {
    const params = this.net.paramCount();
    let nonzero = 0;
    for (const p of this.net.parameters()) for (let i = 0; i < p.size; i++) if (p.data[i] !== 0) nonzero++;
    const c = this.cost();
    const m = this.measured;
    return {
      params,
      nonzeroParams: nonzero,
      macs: c.annMacs,
      effectiveMacs: c.annEffectiveMacs,
      extras: {
        timesteps: this.timesteps,
        ...(m
          ? { spikesPerInference: m.spikesPerInference, synapticEventsPerInference: m.synapticEventsPerInference }
          : {}),
      },
    };
  }

  toSpec(): LayerSpec {
    return {
      type: 'spiking',
      input: this.input,
      timesteps: this.timesteps,
      coding: this.coding,
      readout: this.readout,
      seed: this.seed,
      layers: this.net.layers.map((l) => l.toSpec()),
      ...(this.measured ? { measured: this.measured } : {}),
    };
  }
}
