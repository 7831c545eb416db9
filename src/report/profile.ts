import { noGrad, Tensor } from '../core/tensor.js';
import { Conv1d, Conv2d, Linear, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';

export interface LayerProfile {
  index: number; name: string; type: string; outputShape: number[];
  params: number; nonzeroParams: number;
  /** Multiply-accumulates per sample of conv and linear layers (the dominant cost; others count 0). */
  macs: number;
  /** MACs whose weight is non-zero (what a sparse kernel would do). */
  effectiveMacs: number;
  /** Bytes of parameters and buffers as stored (float32 = 4 bytes). */
  bytes: number;
  /** Circulant layers: real multiplications per sample of the FFT form. */
  fftMults?: number;
  /** Binarized layers: weights stored as 1 bit, and MACs done as XNOR-popcount (binary inputs and weights). */
  binaryParams?: number; binaryMacs?: number;
  /** Bytes once packed for inference (1-bit weights as bits; everything else as stored). */
  packedBytes?: number;
  /** Jet layers: integer additions and subtractions per sample (the jet tree plus the ±1 combinations). */
  addOps?: number;
}

/** What a layer with its own storage (sparse, binary, circulant…) reports instead of being counted. */
export interface CostReport {
  params: number; nonzeroParams: number; macs: number; effectiveMacs: number;
  /** Real multiplications per sample of an FFT form (circulant layers), beside the dense-equivalent MACs. */
  fftMults?: number;
  binaryParams?: number; binaryMacs?: number; packedBytes?: number;
  /** Jet layers: integer additions and subtractions per sample (the jet tree plus the ±1 combinations). */
  addOps?: number;
}

/** A layer that describes its own cost to profileModel (and so to `frugal info`). */
export interface Costed { costReport(outputShape: readonly number[]): CostReport }

function isCosted(m: Module): m is Module & Costed {
  return typeof (m as Partial<Costed>).costReport === 'function';
}

export interface ModelProfile {
  layers: LayerProfile[];
  params: number; nonzeroParams: number; macs: number; effectiveMacs: number; bytes: number;
  /** Per-sample multiplications counting circulant layers in their FFT form and every other layer's effective MACs (present when a layer has an FFT form). */
  fftFormMults?: number;
  /** Present when the model has binarized layers (Larq's summary): 1-bit weights, MACs done as XNOR-popcount, their share of all MACs, bytes once packed. */
  binary?: { params: number; macs: number; macShare: number; packedBytes: number };
  input: number[];
}

function countNonzero(m: Module): number {
  let n = 0;
  for (const p of m.parameters()) for (let i = 0; i < p.size; i++) if (p.data[i] !== 0) n++;
  return n;
}

function layerMacs(l: Module, inShape: readonly number[], outShape: readonly number[]): number {
  if (l instanceof Linear) return (outShape.slice(1, -1).reduce((a, b) => a * b, 1)) * l.inFeatures * l.outFeatures;
  if (l instanceof Conv2d) return l.outChannels * l.inChannels * l.kernelSize * l.kernelSize * outShape[2] * outShape[3];
  if (l instanceof Conv1d) return l.outChannels * l.inChannels * l.kernelSize * outShape[2];
  void inShape;
  return 0;
}

/**
 * Per-layer parameters, non-zero parameters, MACs per sample and bytes, found by running
 * one zero sample through the model (eval mode, no tape).
 */
export function profileModel(model: Sequential, input: number[]): ModelProfile {
  const layers: LayerProfile[] = [];
  const wasTraining = model.training;
  model.eval();
  noGrad(() => {
    let x = Tensor.zeros([1, ...input]);
    model.layers.forEach((l, i) => {
      const inShape = x.shape;
      x = l.forward(x);
      const bytes = [...l.parameters(), ...l.namedBuffers().map(([, t]) => t)].reduce((s, t) => s + t.data.byteLength, 0);
      const row = { index: i, name: String(i), type: l.toSpec().type, outputShape: x.shape.slice(1), bytes };
      if (isCosted(l)) { layers.push({ ...row, ...l.costReport(x.shape.slice(1)) }); return; }
      const params = l.paramCount();
      const nonzero = countNonzero(l);
      const macs = layerMacs(l, inShape, x.shape);
      layers.push({ ...row, params, nonzeroParams: nonzero, macs, effectiveMacs: params ? Math.round((macs * nonzero) / params) : macs });
    });
  });
  model.train(wasTraining);
  const total = (k: 'params' | 'nonzeroParams' | 'macs' | 'effectiveMacs' | 'bytes') => layers.reduce((s, l) => s + l[k], 0);
  const fft = layers.some((l) => l.fftMults !== undefined), bin = layers.some((l) => l.binaryParams !== undefined);
  const macs = total('macs'), binMacs = layers.reduce((a, l) => a + (l.binaryMacs ?? 0), 0);
  return { layers, params: total('params'), nonzeroParams: total('nonzeroParams'), macs, effectiveMacs: total('effectiveMacs'), bytes: total('bytes'),
    ...(fft ? { fftFormMults: layers.reduce((a, l) => a + (l.fftMults ?? l.effectiveMacs), 0) } : {}),
    ...(bin ? { binary: { params: layers.reduce((a, l) => a + (l.binaryParams ?? 0), 0), macs: binMacs, macShare: macs ? binMacs / macs : 0,
      packedBytes: layers.reduce((a, l) => a + (l.packedBytes ?? l.bytes), 0) } } : {}), input };
}

/** Plain-text table of a profile. */
export function formatProfile(p: ModelProfile): string {
  const fft = p.fftFormMults !== undefined;
  const head = ['#', 'layer', 'output', 'params', 'nonzero', 'MACs', 'eff. MACs', ...(fft ? ['FFT-form mults'] : []), 'bytes'];
  const bin = p.binary !== undefined;
  if (bin) head.push('1-bit params', 'binary MACs', 'packed bytes');
  const rows = p.layers.map((l) => [String(l.index), l.type, `[${l.outputShape.join('×')}]`, fmtInt(l.params), fmtInt(l.nonzeroParams), fmtInt(l.macs), fmtInt(l.effectiveMacs),
    ...(fft ? [l.fftMults !== undefined ? fmtInt(l.fftMults) : ''] : []), fmtInt(l.bytes),
    ...(bin ? [fmtInt(l.binaryParams ?? 0), fmtInt(l.binaryMacs ?? 0), fmtInt(l.packedBytes ?? l.bytes)] : [])]);
  rows.push(['', 'total', `in [${p.input.join('×')}]`, fmtInt(p.params), fmtInt(p.nonzeroParams), fmtInt(p.macs), fmtInt(p.effectiveMacs), ...(fft ? [fmtInt(p.fftFormMults!)] : []), fmtInt(p.bytes),
    ...(bin ? [fmtInt(p.binary!.params), `${fmtInt(p.binary!.macs)} (${(100 * p.binary!.macShare).toFixed(1)}%)`, fmtInt(p.binary!.packedBytes)] : [])]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
