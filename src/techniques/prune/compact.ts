// compact(): delete pruned channels and neurons for real, with the batch-norm entries and the
// next layer's input channels that depend on them, and store very sparse layers as CSR.
import { noGrad, Tensor } from '../../core/tensor.js';
import { Rng } from '../../core/rng.js';
import { BatchNorm, BatchNorm1d, BatchNorm2d, Conv1d, Conv2d, Linear, Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { buildLayer } from '../../nn/spec.js';
import { analyse, type ChannelGroup, type WeightLayer } from './graph.js';
import { effectiveParam, isPruned } from './reparam.js';
import { SparseConv2d, SparseLinear, SPARSE_MAX_DENSITY } from './sparse.js';

export interface CompactOptions {
  /**
   * Store layers as CSR (SparseLinear / SparseConv2d, inference only): 'auto' when their weight
   * density is below SPARSE_MAX_DENSITY, true for every conv2d/linear, false never. Default 'auto'.
   */
  sparse?: boolean | 'auto';
}

export interface CompactReport {
  /** Per producer layer index: output channels before and after. */
  removed: { layer: number; type: string; before: number; after: number }[];
  /** Layer indices stored as CSR. */
  sparseLayers: number[];
}

const param = (m: Module, name: string): Tensor | null => {
  const own = m.namedParameters().some(([n]) => n === name || n === `${name}Orig`);
  return own ? effectiveParam(m, name) : null;
};

/** A channel is dead when the value leaving its group is exactly 0 whatever the input. */
function deadChannels(model: Sequential, g: ChannelGroup): boolean[] {
  const p = model.layers[g.producer] as WeightLayer;
  const w = effectiveParam(p, 'weight'),
    b = param(p, 'bias');
  const rows = w.shape[0],
    per = w.size / rows;
  const dead: boolean[] = [];
  const lastBn = g.bns.length ? (model.layers[g.bns[g.bns.length - 1]] as BatchNorm) : null;
  const gamma = lastBn ? param(lastBn, 'weight')! : null,
    beta = lastBn ? param(lastBn, 'bias')! : null;
  for (let c = 0; c < rows; c++) {
    if (gamma && beta) {
      dead.push(gamma.data[c] === 0 && beta.data[c] === 0);
      continue;
    }
    let zero = !b || b.data[c] === 0;
    for (let i = 0; zero && i < per; i++) if (w.data[c * per + i] !== 0) zero = false;
    dead.push(zero);
  }
  // Keep one channel so the next layer still has an input.
  if (dead.every(Boolean)) dead[0] = false;
  return dead;
}

const keptIndices = (dead: boolean[]): number[] => dead.flatMap((d, i) => (d ? [] : [i]));

/** Copy the [outs × ins × per] block of a weight laid out [out, in·cols·per]. */
function sliceWeight(w: Tensor, outs: number[], ins: number[], inChannels: number): Float32Array {
  const rows = w.shape[0],
    perIn = w.size / rows / inChannels;
  const out = new Float32Array(outs.length * ins.length * perIn);
  let k = 0;
  for (const o of outs)
    for (const i of ins) for (let j = 0; j < perIn; j++) out[k++] = w.data[(o * inChannels + i) * perIn + j];
  return out;
}

function rebuild(l: WeightLayer, outs: number[], ins: number[], columns: number): WeightLayer {
  const w = effectiveParam(l, 'weight'),
    b = param(l, 'bias');
  // Input channels expand to their `columns` flattened features.
  const inCols = columns > 1 ? ins.flatMap((c) => Array.from({ length: columns }, (_, j) => c * columns + j)) : ins;
  const inTotal = l instanceof Linear ? l.inFeatures : l.inChannels;
  let n: WeightLayer;
  if (l instanceof Linear) n = new Linear(inCols.length, outs.length, { bias: !!b, rng: new Rng(0) });
  else {
    const o = { stride: l.stride, padding: l.padding, dilation: l.dilation, bias: !!b, rng: new Rng(0) };
    n =
      l instanceof Conv2d
        ? new Conv2d(inCols.length, outs.length, l.kernelSize, o)
        : new Conv1d(inCols.length, outs.length, l.kernelSize, o);
  }
  n.weight.data.set(sliceWeight(w, outs, inCols, inTotal));
  if (b && n.bias) n.bias.data.set(outs.map((o) => b.data[o]));
  return n;
}

function rebuildBn(bn: BatchNorm, keep: number[]): BatchNorm {
  const n =
    bn.dims === 1
      ? new BatchNorm1d(keep.length, bn.momentum, bn.eps)
      : new BatchNorm2d(keep.length, bn.momentum, bn.eps);
  const src = [param(bn, 'weight')!, param(bn, 'bias')!, bn.runningMean, bn.runningVar];
  [n.weight, n.bias, n.runningMean, n.runningVar].forEach((t, j) => t.data.set(keep.map((c) => src[j].data[c])));
  return n;
}

/**
 * Physically shrink a pruned model: dead output channels (conv) and neurons (linear), their
 * batch-norm entries and the matching inputs of the next layer are deleted; with `sparse`,
 * very sparse layers become CSR layers. Works on masked models and on models whose pruning
 * was made permanent (dead = exactly zero). The result has no pruning wrappers, is in eval
 * mode, and its outputs equal the input model's up to float rounding.
 */
export function compact(
  model: Module,
  input: number[],
  opts: CompactOptions = {},
): { model: Sequential; report: CompactReport } {
  const s = analyse(model, input);
  const seq = model as Sequential;
  const keepOut = new Map<number, number[]>(),
    keepIn = new Map<number, { ins: number[]; columns: number }>();
  const bnKeep = new Map<number, number[]>();
  const report: CompactReport = { removed: [], sparseLayers: [] };
  noGrad(() => {
    for (const g of s.groups) {
      const dead = deadChannels(seq, g),
        keep = keptIndices(dead);
      keepOut.set(g.producer, keep);
      keepIn.set(g.consumer, { ins: keep, columns: g.columns });
      for (const i of g.bns) bnKeep.set(i, keep);
      report.removed.push({
        layer: g.producer,
        type: seq.layers[g.producer].toSpec().type,
        before: dead.length,
        after: keep.length,
      });
    }
  });
  const sparse = opts.sparse ?? 'auto';
  const layers = seq.layers.map((l, i): Module => {
    if (l instanceof Conv2d || l instanceof Conv1d || l instanceof Linear) {
      const all = (n: number) => Array.from({ length: n }, (_, j) => j);
      const outN = l instanceof Linear ? l.outFeatures : l.outChannels,
        inN = l instanceof Linear ? l.inFeatures : l.inChannels;
      const kin = keepIn.get(i) ?? { ins: all(inN), columns: 1 };
      const dense = rebuild(l, keepOut.get(i) ?? all(outN), kin.ins, kin.columns);
      if (dense instanceof Conv1d || sparse === false) return dense;
      let nz = 0;
      for (let j = 0; j < dense.weight.size; j++) if (dense.weight.data[j] !== 0) nz++;
      if (sparse === true || nz / dense.weight.size < SPARSE_MAX_DENSITY) {
        report.sparseLayers.push(i);
        return dense instanceof Linear ? SparseLinear.fromDense(dense) : SparseConv2d.fromDense(dense);
      }
      return dense;
    }
    if (l instanceof BatchNorm) {
      const keep = bnKeep.get(i) ?? Array.from({ length: l.numFeatures }, (_, j) => j);
      return rebuildBn(l, keep);
    }
    if (isPruned(l))
      throw new Error(
        `compact: layer ${i} (${l.toSpec().type}) is pruned but compact() only shrinks conv, linear and batch ` +
          `norm layers`,
      );
    // A fresh copy, so the compacted model shares nothing with the original.
    const copy = buildLayer(l.toSpec(), new Rng(0));
    copy.loadStateDict(l.stateDict());
    return copy;
  });
  const out = new Sequential(...layers);
  out.eval();
  return { model: out, report };
}
