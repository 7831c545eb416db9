// ANN → SNN conversion (Diehl et al., IJCNN 2015; percentile variant of Rueckauer et al. 2017): batch norm
// and input standardisation folded into the synaptic layer next to them, ReLUs become IF populations, and
// each layer's weights are rescaled by data-based normalisation so that no neuron needs to fire faster
// than once per step.
import { Tensor, noGrad } from '../../core/tensor.js';
import { withScope } from '../../core/arena.js';
import { relu } from '../../ops/index.js';
import {
  Activation,
  AvgPool2d,
  BatchNorm,
  Conv2d,
  Dropout,
  Flatten,
  GlobalPool2d,
  Linear,
  Normalize,
  Sequential,
} from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { DataLoader, type ImageDataset } from '../../data/dataset.js';
import { IFNeuron, checkIFOptions, type ResetMode } from './neuron.js';
import { SpikingNetwork, checkTimesteps, type Coding, type Readout } from './network.js';

/** How the layer scale λ_l is taken from the ANN's activations on training data. */
export type Normalization = 'max' | 'percentile' | 'none';

export interface ToSpikingOptions {
  timesteps: number;
  /**
   * 'max' (Diehl et al.: λ_l = max(max positive weight of W_l, max activation)), 'percentile' (Rueckauer et
   * al.: the p-th percentile of the positive activations), or 'none' (λ_l = 1: the un-normalised ablation).
   */
  normalization?: Normalization;
  /** p for 'percentile' (default 99.9), 0 < p ≤ 100. */
  percentile?: number;
  reset?: ResetMode;
  leak?: number;
  coding?: Coding;
  readout?: Readout;
  seed?: number;
  /** Training data for the activations (not needed with normalization 'none'); pixels in [0, 1]. */
  data?: ImageDataset;
  /** Samples of `data` used (the first ones; default all, at most 10,000). */
  calibrationSamples?: number;
  /** Shape of one input sample (the model spec's input). */
  input: number[];
}

/** The converted network and the layer scales used (λ_0 = 1 for the input). */
export interface Conversion {
  net: SpikingNetwork;
  /** λ_l of each synaptic (linear/conv) layer, in order. */
  lambdas: number[];
}

type Syn = Linear | Conv2d;
type Item = { kind: 'syn'; layer: Syn } | { kind: 'relu' } | { kind: 'pool'; layer: AvgPool2d } | { kind: 'flatten' };

function flat(m: Module): Module[] {
  return m instanceof Sequential ? m.layers.flatMap(flat) : [m];
}

/** A copy of a linear/conv layer, with a bias when `bias` (zeros when the source has none). */
function copySyn(l: Syn, bias: boolean): Syn {
  const c =
    l instanceof Linear
      ? new Linear(l.inFeatures, l.outFeatures, { bias })
      : new Conv2d(l.inChannels, l.outChannels, l.kernelSize, {
          stride: l.stride,
          padding: l.padding,
          dilation: l.dilation,
          bias,
        });
  c.weight.data.set(l.weight.data);
  c.bias?.data.fill(0);
  if (l.bias && c.bias) c.bias.data.set(l.bias.data);
  return c;
}

/** Weights per output unit (row length of W viewed as [out, rest]). */
const rowLen = (l: Syn) => l.weight.size / l.weight.shape[0];

/**
 * Fold y = γ·(x − μ)/√(σ² + ε) + β into the layer before it: W ← W·k, b ← (b − μ)·k + β
 * with k = γ/√(σ² + ε).
 */
function foldBatchNorm(l: Syn, bn: BatchNorm): Syn {
  const c = copySyn(l, true),
    n = rowLen(c);
  for (let o = 0; o < c.weight.shape[0]; o++) {
    const k = bn.weight.data[o] / Math.sqrt(bn.runningVar.data[o] + bn.eps);
    for (let i = 0; i < n; i++) c.weight.data[o * n + i] *= k;
    c.bias!.data[o] = (c.bias!.data[o] - bn.runningMean.data[o]) * k + bn.bias.data[o];
  }
  return c;
}

/**
 * Fold the input standardisation (x − m)/s into the first layer: W ← W/s, b ← b − W·(m/s) (exact without
 * padding).
 */
function foldNormalize(norm: Normalize, l: Syn): Syn {
  if (l instanceof Conv2d && l.padding !== 0)
    throw new Error(
      'toSpiking: a normalize layer before a padded conv2d cannot be folded (the zero padding of the standardised ' +
        'input is not a pixel value); remove the normalize layer and retrain, or use padding 0',
    );
  const C = l instanceof Linear ? 1 : l.inChannels;
  if (norm.mean.length !== 1 && norm.mean.length !== C)
    throw new Error(`toSpiking: normalize has ${norm.mean.length} channels, the layer after it ${C}`);
  const c = copySyn(l, true),
    n = rowLen(c),
    per = n / C;
  for (let o = 0; o < c.weight.shape[0]; o++)
    for (let i = 0; i < n; i++) {
      const ch = Math.floor(i / per),
        m = norm.mean[norm.mean.length === 1 ? 0 : ch],
        s = norm.std[norm.std.length === 1 ? 0 : ch];
      c.weight.data[o * n + i] /= s;
      c.bias!.data[o] -= c.weight.data[o * n + i] * m;
    }
  return c;
}

const NO_SPIKING: Record<string, string> = {
  maxpool2d:
    'max pooling has no spiking equivalent here: the max over spike trains is not the spike train of the ' +
    'largest rate (it needs gating by rate estimates, Rueckauer et al. 2017); retrain with avgpool2d',
  maxpool1d: 'max pooling has no spiking equivalent here; retrain with average pooling',
  sigmoid: 'a sigmoid has no IF-rate equivalent (IF rates are ReLU-shaped); use relu',
  tanh: 'tanh has no IF-rate equivalent (rates cannot be negative); use relu',
  hardtanh: 'hardtanh has no IF-rate equivalent (rates cannot be negative); use relu',
  leakyrelu: 'a leaky relu needs negative rates, which IF neurons cannot have; use relu',
  softmax: 'a softmax inside the network has no spiking equivalent (only as the last layer, where argmax ignores it)',
  logsoftmax: 'a log-softmax inside the network has no spiking equivalent (only last, where argmax ignores it)',
  conv1d: 'conv1d is not simulated by the spiking network (conv2d and linear are)',
};

/** The ANN as folded items (batch norm and normalize folded, dropout dropped), refusing what cannot spike. */
export function foldForSpiking(model: Module, readout: Readout = 'spikes'): Item[] {
  const src = flat(model).filter((l) => !(l instanceof Dropout));
  while (src.length && src[src.length - 1] instanceof Activation) {
    const k = (src[src.length - 1] as Activation).kind;
    if (k === 'softmax' || k === 'logsoftmax' || (k === 'relu' && readout === 'potential')) src.pop();
    else break;
  }
  const items: Item[] = [];
  for (let i = 0; i < src.length; i++) {
    const l = src[i],
      type = l.toSpec().type;
    if (l instanceof Normalize) {
      const next = src[i + 1];
      if (!(next instanceof Linear || next instanceof Conv2d))
        throw new Error(`toSpiking: layer ${i} (normalize) must come right before a linear or conv2d layer`);
      items.push({ kind: 'syn', layer: foldNormalize(l, next) });
      i++;
    } else if (l instanceof Linear || l instanceof Conv2d) items.push({ kind: 'syn', layer: copySyn(l, !!l.bias) });
    else if (l instanceof BatchNorm) {
      const prev = items[items.length - 1];
      if (prev?.kind !== 'syn')
        throw new Error(
          `toSpiking: layer ${i} (batch norm) does not follow a linear or conv2d layer, so it cannot be folded`,
        );
      items[items.length - 1] = { kind: 'syn', layer: foldBatchNorm(prev.layer, l) };
    } else if (l instanceof Activation && l.kind === 'relu') items.push({ kind: 'relu' });
    else if (l instanceof AvgPool2d) {
      if (l.padding !== 0)
        throw new Error(`toSpiking: layer ${i} (avgpool2d) has padding; only unpadded pooling converts`);
      items.push({ kind: 'pool', layer: new AvgPool2d(l.kernelSize, l.stride, 0) });
    } else if (l instanceof GlobalPool2d) {
      throw new Error(`toSpiking: layer ${i} (globalpool2d): use avgpool2d with the feature map's size, then flatten`);
    } else if (l instanceof Flatten) items.push({ kind: 'flatten' });
    else
      throw new Error(
        `toSpiking: layer ${i} (${type}) has no spiking equivalent: ` +
          (NO_SPIKING[type] ??
            'it is not a conv2d, linear, relu, avgpool2d, flatten, batch norm, normalize or dropout layer'),
      );
  }
  if (!items.some((it) => it.kind === 'syn'))
    throw new Error('toSpiking: the model has no linear or conv2d layer to convert');
  return items;
}

/** Positive activations seen at one normalisation point: the running max and a strided sample for percentiles. */
class Gather {
  max = 0;
  values: number[] = [];
  /** Keep one positive value in every `stride` (about 10⁶ per point, for the percentile). */
  stride = 1;
  private seen = 0;
  add(d: ArrayLike<number>): void {
    for (let i = 0; i < d.length; i++) {
      const v = d[i];
      if (v > this.max) this.max = v;
      if (v > 0 && this.seen++ % this.stride === 0) this.values.push(v);
    }
  }
  percentile(p: number): number {
    if (!this.values.length) return 0;
    const s = Float64Array.from(this.values).sort();
    return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
  }
}

/**
 * Convert a ReLU network to an IF spiking network (spec 07, step 4). Data-based normalisation: with the
 * activations a_l of the folded ANN on training data, λ_l = max(max positive weight of W_l, max a_l) (or the
 * p-th percentile of a_l), then W_l ← W_l·λ_{l−1}/λ_l and b_l ← b_l/λ_l (λ_0 = 1 for inputs in [0, 1]);
 * biases then enter every step as a constant current. Average pooling keeps λ (an average of rates in
 * [0, 1] stays there) and is followed by an IF population when its input is spikes.
 *
 * ```ts
 * const { net } = toSpiking(model, { timesteps: 200, data: train, input: [784] });
 * evaluate(new Sequential(net), test);  // argmax of output spike counts
 * ```
 */
export function toSpiking(model: Module, o: ToSpikingOptions): Conversion {
  checkTimesteps(o.timesteps);
  const normalization = o.normalization ?? 'max',
    p = o.percentile ?? 99.9,
    readout = o.readout ?? 'spikes';
  if (!['max', 'percentile', 'none'].includes(normalization))
    throw new Error(
      `toSpiking: normalization must be 'max', 'percentile' or 'none', got ${JSON.stringify(normalization)}`,
    );
  if (!(p > 0 && p <= 100)) throw new Error(`toSpiking: percentile must be in (0, 100], got ${p}`);
  const ifo = checkIFOptions({ threshold: 1, reset: o.reset, leak: o.leak });
  const items = foldForSpiking(model, readout);
  const synIdx = items.flatMap((it, i) => (it.kind === 'syn' ? [i] : []));
  // The normalisation point of each synaptic layer: the next relu if it comes before the next synaptic layer
  // (pooling and flatten between are linear), else the layer's own output (the output layer).
  const point = synIdx.map((s, k) => {
    const end = k + 1 < synIdx.length ? synIdx[k + 1] : items.length;
    const r = items.slice(s + 1, end).findIndex((it) => it.kind === 'relu');
    return r >= 0 ? s + 1 + r : s;
  });
  let lambdas = synIdx.map(() => 1);
  if (normalization !== 'none') {
    if (!o.data) throw new Error(`toSpiking: normalization '${normalization}' needs training data (data)`);
    const n = Math.min(o.data.count, o.calibrationSamples ?? 10000);
    if (n < 1) throw new Error('toSpiking: the calibration data is empty');
    const gathers = synIdx.map(() => new Gather()),
      flatten = new Flatten();
    const loader = new DataLoader({ ...o.data, count: n }, { batchSize: 100, shape: o.input });
    noGrad(() => {
      let first = true;
      for (const { x } of loader.batches()) {
        withScope(() => {
          let h: Tensor = x;
          items.forEach((it, i) => {
            h = it.kind === 'relu' ? relu(h) : it.kind === 'flatten' ? flatten.forward(h) : it.layer.forward(h);
            const k = point.indexOf(i);
            if (k < 0) return;
            if (first) gathers[k].stride = Math.max(1, Math.ceil(((h.size / h.shape[0]) * n) / 1e6));
            gathers[k].add(h.data);
          });
          first = false;
        });
      }
    });
    lambdas = synIdx.map((s, k) => {
      const w = (items[s] as { layer: Syn }).layer.weight.data;
      let maxW = 0;
      for (let i = 0; i < w.length; i++) if (w[i] > maxW) maxW = w[i];
      const a = normalization === 'max' ? Math.max(maxW, gathers[k].max) : gathers[k].percentile(p);
      return a > 0 ? a : 1;
    });
  }
  const layers: Module[] = [];
  let prevLambda = 1,
    k = 0,
    spikesIn = true;
  items.forEach((it, i) => {
    if (it.kind === 'syn') {
      const l = it.layer,
        lam = lambdas[k++],
        s = prevLambda / lam;
      for (let j = 0; j < l.weight.size; j++) l.weight.data[j] *= s;
      if (l.bias) for (let j = 0; j < l.bias.size; j++) l.bias.data[j] /= lam;
      l.weight.markChanged();
      l.bias?.markChanged();
      prevLambda = lam;
      layers.push(l);
      spikesIn = false;
      const isLast = !synIdx.some((s2) => s2 > i);
      if (isLast && readout === 'spikes' && !items.slice(i + 1).some((x) => x.kind === 'relu'))
        layers.push(new IFNeuron(ifo));
    } else if (it.kind === 'relu') {
      layers.push(new IFNeuron(ifo));
      spikesIn = true;
    } else if (it.kind === 'pool') {
      layers.push(it.layer);
      if (spikesIn) layers.push(new IFNeuron(ifo));
    } else layers.push(new Flatten());
  });
  const net = new SpikingNetwork(layers, {
    input: o.input,
    timesteps: o.timesteps,
    coding: o.coding,
    readout,
    seed: o.seed,
  });
  return { net, lambdas };
}
