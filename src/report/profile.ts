import { noGrad, Tensor } from '../core/tensor.js';
import { Conv1d, Conv2d, Linear, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';

export interface LayerProfile {
  index: number;
  name: string;
  type: string;
  outputShape: number[];
  params: number;
  nonzeroParams: number;
  /** Multiply-accumulates per sample of conv and linear layers (the dominant cost; others count 0). */
  macs: number;
  /** MACs whose weight is non-zero (what a sparse kernel would do). */
  effectiveMacs: number;
  /** Bytes of parameters and buffers as stored (float32 = 4 bytes). */
  bytes: number;
  /** A technique's own counts for this layer (FFT multiplications, 1-bit weights, …), by name. */
  extras?: Record<string, number>;
}

/** What a layer with its own storage (sparse, binary, circulant…) reports instead of being counted. */
export interface CostReport {
  params: number;
  nonzeroParams: number;
  macs: number;
  effectiveMacs: number;
  /** The technique's own counts (see LayerProfile.extras); a registered ProfileExtension sums them up. */
  extras?: Record<string, number>;
}

/** A layer that describes its own cost to profileModel (and so to `frugal info`). */
export interface Costed {
  costReport(outputShape: readonly number[]): CostReport;
}

function isCosted(m: Module): m is Module & Costed {
  return typeof (m as Partial<Costed>).costReport === 'function';
}

export interface ModelProfile {
  layers: LayerProfile[];
  params: number;
  nonzeroParams: number;
  macs: number;
  effectiveMacs: number;
  bytes: number;
  /** What registered extensions make of the layers' extras (e.g. circulant's fftFormMults), by name. */
  summary: Record<string, unknown>;
  input: number[];
}

/** A column a technique adds to formatProfile's table: before the bytes column or at the end. */
export interface ProfileColumn {
  head: string;
  at: 'beforeBytes' | 'end';
  cell(l: LayerProfile): string;
  total: string;
}

/**
 * How a technique summarises its layers' extras for a whole model, and shows them in the table.
 * Registered once by the technique (registerProfileExtension), so the core names no technique.
 */
export interface ProfileExtension {
  /** Fields for ModelProfile.summary; undefined when the model has none of this technique's layers. */
  summarize(layers: LayerProfile[]): Record<string, unknown> | undefined;
  columns?(p: ModelProfile): ProfileColumn[];
}

const EXTENSIONS = new Map<string, ProfileExtension>();

/** Register a technique's profile extension under its name (a second registration replaces the first). */
export function registerProfileExtension(name: string, ext: ProfileExtension): void {
  EXTENSIONS.set(name, ext);
}

/** The layer's extra count `key`, or undefined. */
export function extra(l: LayerProfile, key: string): number | undefined {
  return l.extras?.[key];
}

/** A profile as JSON: each layer's extras and the model's summary flattened into their objects. */
export function profileJson(p: ModelProfile): Record<string, unknown> {
  const { layers, summary, input, ...rest } = p;
  return { layers: layers.map(({ extras, ...l }) => ({ ...l, ...extras })), ...rest, ...summary, input };
}

function countNonzero(m: Module): number {
  let n = 0;
  for (const p of m.parameters()) for (let i = 0; i < p.size; i++) if (p.data[i] !== 0) n++;
  return n;
}

function layerMacs(l: Module, inShape: readonly number[], outShape: readonly number[]): number {
  if (l instanceof Linear) return outShape.slice(1, -1).reduce((a, b) => a * b, 1) * l.inFeatures * l.outFeatures;
  if (l instanceof Conv2d)
    return l.outChannels * l.inChannels * l.kernelSize * l.kernelSize * outShape[2] * outShape[3];
  if (l instanceof Conv1d) return l.outChannels * l.inChannels * l.kernelSize * outShape[2];
  void inShape;
  return 0;
}

/** MACs of the layers inside a `sequential` layer (nested ones too), run on its input `x`. */
function sequentialMacs(s: Sequential, x: Tensor): number {
  let macs = 0;
  for (const l of s.layers) {
    const y = l.forward(x);
    if (isCosted(l)) macs += l.costReport(y.shape.slice(1)).macs;
    else macs += l instanceof Sequential ? sequentialMacs(l, x) : layerMacs(l, x.shape, y.shape);
    x = y;
  }
  return macs;
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
      const input = x;
      const inShape = x.shape;
      x = l.forward(x);
      // Parameters and buffers, and the raw entries (packed bit strings, CSR indices) of it and its sub-layers.
      let bytes = [...l.parameters(), ...l.namedBuffers().map(([, t]) => t)].reduce((s, t) => s + t.data.byteLength, 0);
      for (const [, m] of l.namedModules()) for (const a of Object.values(m.rawEntries())) bytes += a.byteLength;
      const row = { index: i, name: String(i), type: l.toSpec().type, outputShape: x.shape.slice(1), bytes };
      if (isCosted(l)) {
        const { extras, ...cost } = l.costReport(x.shape.slice(1));
        layers.push({ ...row, ...cost, ...(extras ? { extras } : {}) });
        return;
      }
      const params = l.paramCount();
      const nonzero = countNonzero(l);
      const macs = l instanceof Sequential ? sequentialMacs(l, input) : layerMacs(l, inShape, x.shape);
      layers.push({
        ...row,
        params,
        nonzeroParams: nonzero,
        macs,
        effectiveMacs: params ? Math.round((macs * nonzero) / params) : macs,
      });
    });
  });
  model.train(wasTraining);
  const total = (k: 'params' | 'nonzeroParams' | 'macs' | 'effectiveMacs' | 'bytes') =>
    layers.reduce((s, l) => s + l[k], 0);
  const summary: Record<string, unknown> = {};
  for (const ext of EXTENSIONS.values()) Object.assign(summary, ext.summarize(layers) ?? {});
  return {
    layers,
    params: total('params'),
    nonzeroParams: total('nonzeroParams'),
    macs: total('macs'),
    effectiveMacs: total('effectiveMacs'),
    bytes: total('bytes'),
    summary,
    input,
  };
}

/** Plain-text table of a profile. */
export function formatProfile(p: ModelProfile): string {
  const cols = [...EXTENSIONS.values()].flatMap((e) => e.columns?.(p) ?? []);
  const before = cols.filter((c) => c.at === 'beforeBytes'),
    after = cols.filter((c) => c.at === 'end');
  const head = [
    '#',
    'layer',
    'output',
    'params',
    'nonzero',
    'MACs',
    'eff. MACs',
    ...before.map((c) => c.head),
    'bytes',
    ...after.map((c) => c.head),
  ];
  const rows = p.layers.map((l) => [
    String(l.index),
    l.type,
    `[${l.outputShape.join('×')}]`,
    fmtInt(l.params),
    fmtInt(l.nonzeroParams),
    fmtInt(l.macs),
    fmtInt(l.effectiveMacs),
    ...before.map((c) => c.cell(l)),
    fmtInt(l.bytes),
    ...after.map((c) => c.cell(l)),
  ]);
  rows.push([
    '',
    'total',
    `in [${p.input.join('×')}]`,
    fmtInt(p.params),
    fmtInt(p.nonzeroParams),
    fmtInt(p.macs),
    fmtInt(p.effectiveMacs),
    ...before.map((c) => c.total),
    fmtInt(p.bytes),
    ...after.map((c) => c.total),
  ]);
  const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i < 3 ? c.padEnd(w[i]) : c.padStart(w[i]))).join('  ');
  return [line(head), w.map((n) => '-'.repeat(n)).join('  '), ...rows.map(line)].join('\n');
}

export function fmtInt(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
