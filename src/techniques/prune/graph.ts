// Which layers of a Sequential can be pruned, what each weight costs, and which channels
// feed which: the facts pruneToRate and compact() share.
import { noGrad, Tensor } from '../../core/tensor.js';
import {
  Activation,
  BatchNorm,
  Conv1d,
  Conv2d,
  Dropout,
  Flatten,
  GlobalPool2d,
  Linear,
  AvgPool2d,
  MaxPool1d,
  MaxPool2d,
  Sequential,
} from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { effectiveParam } from './reparam.js';

export type WeightLayer = Conv2d | Conv1d | Linear;

export function isWeightLayer(m: Module): m is WeightLayer {
  return m instanceof Conv2d || m instanceof Conv1d || m instanceof Linear;
}

/** A conv or linear layer with its cost: each weight does `spatial` MACs per sample. */
export interface PrunableLayer {
  index: number;
  module: WeightLayer;
  /** Output positions per sample (OH·OW for conv2d, L for conv1d, 1 for linear on [N, F]). */
  spatial: number;
  outChannels: number;
  inChannels: number;
  /** Weights per (output, input) channel pair: k·k, k or 1. */
  perPair: number;
}

/**
 * Output channels of `producer` feed input channels of `consumer` through layers that map
 * 0 to 0 (batch norm aside, which is masked with them). `columns` input columns of the
 * consumer belong to each channel (H·W after a flatten, else 1).
 */
export interface ChannelGroup {
  producer: number;
  bns: number[];
  consumer: number;
  columns: number;
}

export interface Structure {
  layers: PrunableLayer[];
  groups: ChannelGroup[];
  input: number[];
}

/** Layers through which a zero channel stays zero (so it can be deleted exactly). */
function zeroPreserving(m: Module): boolean {
  if (m instanceof Activation) return ['relu', 'leakyrelu', 'tanh', 'hardtanh'].includes(m.kind);
  return (
    m instanceof MaxPool2d ||
    m instanceof AvgPool2d ||
    m instanceof MaxPool1d ||
    m instanceof Dropout ||
    m instanceof Flatten ||
    m instanceof GlobalPool2d
  );
}

function inChannelsOf(m: WeightLayer): number {
  return m instanceof Linear ? m.inFeatures : m.inChannels;
}

function outChannelsOf(m: WeightLayer): number {
  return m instanceof Linear ? m.outFeatures : m.outChannels;
}

/** Find the prunable layers and channel groups of a model by tracing one sample's shapes. */
export function analyse(model: Module, input: number[]): Structure {
  if (!(model instanceof Sequential))
    throw new Error('pruning works on a Sequential model (as built from a model spec)');
  if (model.layers.some((l) => l instanceof Sequential))
    throw new Error('pruning: nested Sequential layers are not supported; flatten the spec');
  const shapes: number[][] = [];
  const was = model.training;
  model.eval();
  noGrad(() => {
    let x = Tensor.zeros([1, ...input]);
    for (const l of model.layers) {
      x = l.forward(x);
      shapes.push(x.shape.slice(1));
    }
  });
  model.train(was);
  const layers: PrunableLayer[] = [];
  model.layers.forEach((l, index) => {
    if (!isWeightLayer(l)) return;
    const out = shapes[index];
    const spatial =
      l instanceof Linear ? out.slice(0, -1).reduce((a, b) => a * b, 1) : out.slice(1).reduce((a, b) => a * b, 1);
    const w = effectiveParam(l, 'weight');
    layers.push({
      index,
      module: l,
      spatial,
      outChannels: outChannelsOf(l),
      inChannels: inChannelsOf(l),
      perPair: w.size / (outChannelsOf(l) * inChannelsOf(l)),
    });
  });
  const groups: ChannelGroup[] = [];
  for (const p of layers) {
    const bns: number[] = [];
    let ok = true,
      consumer = -1;
    for (let j = p.index + 1; j < model.layers.length; j++) {
      const l = model.layers[j];
      if (isWeightLayer(l)) {
        consumer = j;
        break;
      }
      if (l instanceof BatchNorm) {
        if (l.numFeatures !== p.outChannels) {
          ok = false;
          break;
        }
        bns.push(j);
        continue;
      }
      if (!zeroPreserving(l)) {
        ok = false;
        break;
      }
    }
    if (!ok || consumer < 0) continue;
    const c = model.layers[consumer] as WeightLayer;
    const cin = inChannelsOf(c);
    if (cin % p.outChannels !== 0) continue;
    // Channel-major flatten ([C, H, W] → C·H·W) keeps each channel's columns contiguous.
    const columns = cin / p.outChannels;
    if (columns > 1 && !(c instanceof Linear)) continue;
    groups.push({ producer: p.index, bns, consumer, columns });
  }
  return { layers, groups, input };
}

/** Parameter and MAC counts of the conv and linear weights (biases and batch norm not counted). */
export interface Counts {
  params: number;
  nonzero: number;
  macs: number;
  effectiveMacs: number;
}

/** Count weights and MACs per sample; effective counts skip zero weights (MAC = one multiply-add). */
export function countWeights(s: Structure): Counts {
  let params = 0,
    nonzero = 0,
    macs = 0,
    effectiveMacs = 0;
  for (const l of s.layers) {
    const w = effectiveParam(l.module, 'weight');
    let nz = 0;
    for (let i = 0; i < w.size; i++) if (w.data[i] !== 0) nz++;
    params += w.size;
    nonzero += nz;
    macs += w.size * l.spatial;
    effectiveMacs += nz * l.spatial;
  }
  return { params, nonzero, macs, effectiveMacs };
}
