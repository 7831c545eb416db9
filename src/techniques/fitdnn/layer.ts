// The `fit-dnn` layer type: a whole Fit-DNN (one delayed neuron unfolded into L layers of N nodes, with
// readout) as a module that fit(), model files and `frugal info` treat like any other (spec 04).
import { Rng } from '../../core/rng.js';
import { isGradEnabled, Tensor } from '../../core/tensor.js';
import { uniform_ } from '../../nn/init.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { registerLayer } from '../../nn/spec.js';
import { linearPlan, registerLayerFields } from '../../nn/spec-plan.js';
import { LimitError } from '../../core/limits.js';
import type { CostReport } from '../../report/profile.js';
import { checkOffsets, configOf, diagonalEntries, type FitDnnConfig } from './config.js';
import { fitDnnMap, fitDnnStates, type FitDnnWeights, type MapOptions } from './map.js';
import { defaultSubsteps, solveDde } from './dde.js';

/** How forward computes: the equivalent network map (trainable), or the delay system integrated in time. */
export type FitDnnSimulation = { kind: 'map' } | { kind: 'dde'; substeps?: number };

/**
 * A deep network folded in time into one neuron with D delayed feedback loops (Stelzer et al., Nature
 * Communications 12:5164, 2021). Input [B, M] → logits [B, P]. Forward runs the equivalent network map
 * (fitDnnStates: x^ℓ = (1 − e^{−θ})·f(a^ℓ)·Eᵀ + x^{ℓ−1}_N e^{−θ(1..N)}, f = sin,
 * a^1 = (π/2)tanh(W^in u + b^in), a^ℓ = b^ℓ + W^ℓ x^{ℓ−1} with W^ℓ nonzero on the D diagonals
 * n − j = n'_d), so autograd gives the paper's gradient with local connections. `simulate({ kind: 'dde' })` makes
 * forward integrate the delay system instead (evaluation only).
 *
 * @example
 * const m = new FitDnn({ inFeatures: 784, hidden: 100, layers: 2, diagonals: 50, theta: 0.5, outFeatures: 10 });
 * const logits = m.forward(x); // x: [B, 784] pixels in [0, 1]
 */
export class FitDnn extends Module {
  config: FitDnnConfig;
  inputWeight: Tensor;
  inputBias: Tensor;
  hiddenWeight: Tensor | null = null;
  hiddenBias: Tensor | null = null;
  outputWeight: Tensor;
  outputBias: Tensor;
  private simulation: FitDnnSimulation = { kind: 'map' };

  constructor(
    opts: {
      inFeatures: number;
      hidden: number;
      layers: number;
      diagonals?: number;
      offsets?: number[];
      theta?: number;
      outFeatures: number;
      decoupled?: boolean;
    },
    rng: Rng = new Rng(0),
  ) {
    super();
    this.config = configOf(
      {
        in: opts.inFeatures,
        hidden: opts.hidden,
        layers: opts.layers,
        diagonals: opts.diagonals ?? opts.offsets?.length,
        theta: opts.theta,
        out: opts.outFeatures,
        offsets: opts.offsets,
        decoupled: opts.decoupled,
      },
      rng,
    );
    const { inFeatures: M, hidden: N, layers: L, outFeatures: P } = this.config,
      D = this.config.offsets.length;
    this.inputWeight = this.registerParameter('inputWeight', Tensor.zeros([N, M]));
    this.inputBias = this.registerParameter('inputBias', Tensor.zeros([N]));
    if (L > 1) {
      this.hiddenWeight = this.registerParameter('hiddenWeight', Tensor.zeros([L - 1, N, D]));
      this.hiddenBias = this.registerParameter('hiddenBias', Tensor.zeros([L - 1, N]));
    }
    this.outputWeight = this.registerParameter('outputWeight', Tensor.zeros([P, N]));
    this.outputBias = this.registerParameter('outputBias', Tensor.zeros([P]));
    this.resetParameters(rng);
  }

  /**
   * The authors' init: U(±r) with r_in = √(6/(D/2 + M + 1)) for W^in and b^in, r_out = √(6/(D/2 + P + 1)) for the
   * readout, the hidden modulations and the hidden biases (their code computes r_hidden = √(6/(D + 1)) but
   * uses r_out). Modulation entries off the matrix (n − n'_d outside 1..N) are unused and set to 0.
   */
  resetParameters(rng: Rng): void {
    const { inFeatures: M, outFeatures: P, hidden: N, offsets } = this.config,
      D = offsets.length;
    const rIn = Math.sqrt(6 / (D / 2 + M + 1)),
      rOut = Math.sqrt(6 / (D / 2 + P + 1));
    uniform_(this.inputWeight, rng, -rIn, rIn);
    uniform_(this.inputBias, rng, -rIn, rIn);
    if (this.hiddenWeight && this.hiddenBias) {
      uniform_(this.hiddenWeight, rng, -rOut, rOut);
      const v = this.hiddenWeight.data;
      for (let i = 0; i < v.length; i++) {
        const n = Math.floor(i / D) % N,
          j = n - offsets[i % D];
        if (j < 0 || j >= N) v[i] = 0;
      }
      uniform_(this.hiddenBias, rng, -rOut, rOut);
    }
    uniform_(this.outputWeight, rng, -rOut, rOut);
    uniform_(this.outputBias, rng, -rOut, rOut);
  }

  /** The weights as the map and the DDE solver take them. */
  weights(): FitDnnWeights {
    return {
      inputWeight: this.inputWeight,
      inputBias: this.inputBias,
      hiddenWeight: this.hiddenWeight,
      hiddenBias: this.hiddenBias,
      outputWeight: this.outputWeight,
      outputBias: this.outputBias,
    };
  }

  mapOptions(): MapOptions {
    return { theta: this.config.theta, offsets: this.config.offsets, decoupled: this.config.decoupled };
  }

  /** Choose how forward computes (see FitDnnSimulation); returns this. */
  simulate(s: FitDnnSimulation): this {
    if (s.kind === 'dde' && this.config.decoupled)
      throw new Error('fit-dnn: a decoupled (θ → ∞) model has no delay system to simulate; use the map');
    this.simulation = s;
    return this;
  }

  get simulating(): FitDnnSimulation {
    return this.simulation;
  }

  private checkInput(x: Tensor): void {
    if (x.rank !== 2 || x.shape[1] !== this.config.inFeatures)
      throw new Error(
        `fit-dnn expects [B, ${this.config.inFeatures}] (flatten the images first), got [${x.shape.join(', ')}]`,
      );
  }

  /** Node states x^ℓ [B, N] of every layer under the map. */
  nodeStates(x: Tensor): Tensor[] {
    this.checkInput(x);
    return fitDnnStates(x, this.weights(), this.mapOptions());
  }

  forward(x: Tensor): Tensor {
    this.checkInput(x);
    if (this.simulation.kind === 'map') return fitDnnMap(x, this.weights(), this.mapOptions());
    if (isGradEnabled() && this.parameters().some((p) => p.requiresGrad) && this.training)
      throw new Error('fit-dnn: the DDE simulation has no gradient; train on the map and simulate in eval mode');
    const r = solveDde(x.data, x.shape[0], this.weights(), this.mapOptions(), this.simulation.substeps);
    const out = Tensor.zeros([x.shape[0], this.config.outFeatures], x.dtype);
    out.data.set(r.logits);
    return out;
  }

  /** Parameters, the equivalent network's MACs, and the delay system's numbers for `frugal info`. */
  costReport(): CostReport {
    const { inFeatures: M, hidden: N, layers: L, outFeatures: P, offsets, theta, decoupled } = this.config;
    const hiddenUsed = (L - 1) * diagonalEntries(N, offsets);
    const params = this.paramCount();
    // Delay connections, plus one local (inertia) connection per node unless decoupled.
    const macs = N * M + hiddenUsed + P * N + (decoupled ? 0 : L * N);
    return {
      params,
      nonzeroParams: N * M + N + hiddenUsed + (L - 1) * N + P * N + P,
      macs,
      effectiveMacs: macs,
      extras: {
        delayLoops: offsets.length,
        nodes: N,
        fitLayers: L,
        ...(decoupled ? {} : { theta, processingTime: L * N * theta }),
        ...(this.simulation.kind === 'dde' ? { ddeSubsteps: this.simulation.substeps ?? defaultSubsteps(theta) } : {}),
      },
    };
  }

  /**
   * The offsets n'_d go into model files as an int32 entry, so a file keeps the loops it was trained with
   * even when its stored spec draws them (a spec without 'offsets' built with another seed).
   */
  override rawEntries(): Record<string, Int32Array> {
    return { offsets: Int32Array.from(this.config.offsets) };
  }

  override loadRawEntries(entries: Record<string, Uint8Array | Int8Array | Int32Array>): void {
    const { offsets, ...rest } = entries;
    if (Object.keys(rest).length)
      throw new Error(`fit-dnn has only the raw entry 'offsets', the file gives ${Object.keys(rest).join(', ')}`);
    if (!offsets) return;
    if (!(offsets instanceof Int32Array)) throw new Error("fit-dnn: the file's 'offsets' entry must be int32");
    const D = this.config.offsets.length;
    this.config = { ...this.config, offsets: checkOffsets([...offsets], this.config.hidden, D) };
  }

  toSpec(): LayerSpec {
    const c = this.config;
    return {
      type: 'fit-dnn',
      in: c.inFeatures,
      hidden: c.hidden,
      layers: c.layers,
      diagonals: c.offsets.length,
      ...(Number.isFinite(c.theta) ? { theta: c.theta } : {}),
      out: c.outFeatures,
      offsets: [...c.offsets],
      ...(c.decoupled ? { decoupled: true } : {}),
    };
  }
}

registerLayer(
  'fit-dnn',
  (s, rng) => {
    const c = configOf(s, rng);
    return new FitDnn(
      {
        inFeatures: c.inFeatures,
        hidden: c.hidden,
        layers: c.layers,
        offsets: c.offsets,
        theta: Number.isFinite(c.theta) ? c.theta : undefined,
        outFeatures: c.outFeatures,
        decoupled: c.decoupled,
      },
      rng,
    );
  },
  (s, x, f) => {
    // Sizes first, bounded, before configOf's checks of meaning (θ, offsets): no allocation here.
    const M = f.int('in', undefined, 1),
      N = f.int('hidden', undefined, 1),
      L = f.int('layers', undefined, 1),
      P = f.int('out', undefined, 1),
      D = f.int('diagonals', undefined, 1);
    if (D > 2 * N - 1)
      throw new LimitError(`layer 'fit-dnn' field 'diagonals' is ${D}, above 2N − 1 = ${2 * N - 1} (N = ${N})`);
    if (x && (x.length !== 1 || x[0] !== M))
      throw new LimitError(`layer 'fit-dnn' takes [${M}] per sample (flatten first), got [${x.join(', ')}]`);
    configOf(s, new Rng(0)); // θ, offsets, 'decoupled': refused here, naming the field, before anything is built
    return linearPlan(x, P, N * M + N + (L - 1) * (N * D + N) + P * N + P);
  },
);

/**
 * Set how every Fit-DNN layer of `model` computes (the map, or the delay system integrated with N_h
 * sub-steps per θ: `frugal eval MODEL --simulate dde`); returns how many layers it set.
 */
export function simulateFitDnn(model: Module, s: FitDnnSimulation): number {
  const layers = model.namedModules().filter((e): e is [string, FitDnn] => e[1] instanceof FitDnn);
  for (const [, l] of layers) l.simulate(s);
  return layers.length;
}

registerLayerFields('fit-dnn', {
  in: 'required (input features M)',
  hidden: 'required (nodes per layer N)',
  layers: 'required (hidden layers L)',
  out: 'required (outputs P)',
  diagonals: 'required (delay loops D, at most 2N − 1)',
  theta: 'required unless decoupled (node separation θ; the spec uses 0.5)',
  offsets: 'drawn from the seed (the D delay offsets)',
  decoupled: 'false',
});
