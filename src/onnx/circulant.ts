// Block-circulant weights as an FFT-free block product in ONNX (toOnnx's circulant: 'blocks'), and the
// importer's reading of that same pattern back into circulant layers. Only the defining vectors are stored:
// the dense weight is built in the graph by one Gather with a constant index, so the file keeps the layer's
// N× smaller storage while ONNX Runtime runs a plain Gemm / Conv on the gathered weight.
import { attr, type GraphBuilder } from './graph.js';
import type { NodeMsg } from './schema.js';
import { Attrs, OnnxImportError, type Const } from './tensors.js';

/** How toOnnx writes block-circulant layers: their dense expansion, or the defining vectors plus a Gather. */
export type CirculantExport = 'dense' | 'blocks';
export const CIRCULANT_EXPORTS: readonly CirculantExport[] = ['dense', 'blocks'];

/** idx[a·N + b] = (a − b) mod N: row a, column b of an N×N circulant block reads defining entry idx. */
export function circulantIndex(N: number): number[] {
  const idx: number[] = [];
  for (let a = 0; a < N; a++) for (let b = 0; b < N; b++) idx.push((((a - b) % N) + N) % N);
  return idx;
}

/**
 * The dense weight [out, in, ...taps] of a block-circulant layer built in the graph from its defining
 * vectors w [S, R, N, ...taps] (Frugal's layout: W[sN + a, rN + b, tap] = w[s, r, (a − b) mod N, tap]):
 * Gather(w, idx, axis 2) → [S, R, N, N, ...taps]; Transpose to [S, N, R, N, ...taps]; Reshape to
 * [S·N, R·N, ...taps]; Slice to [out, in] when the layer zero-pads its channels to whole blocks.
 * The initialisers are w (S·R·N·taps floats) and one N×N int64 index per block size.
 */
export function circulantWeight(
  g: GraphBuilder,
  stem: string,
  w: Float32Array,
  geo: { S: number; R: number; N: number; out: number; inp: number; taps: number[] },
): string {
  const { S, R, N, out, inp, taps } = geo;
  const c = g.floats(`${stem}_circ`, w, [S, R, N, ...taps]);
  const idx = g.sharedInt64s(`circ${N}`, `circulant_index_${N}`, () => ({
    values: circulantIndex(N),
    dims: [N, N],
  }));
  const blocks = g.node('Gather', [c, idx], [attr.int('axis', 2)], `${stem}_blocks`);
  const perm = [0, 2, 1, 3, ...taps.map((_, i) => 4 + i)];
  const t = g.node('Transpose', [blocks], [attr.ints('perm', perm)], `${stem}_blocksT`);
  const full = g.node('Reshape', [t, g.int64s(`${stem}_shape`, [S * N, R * N, ...taps])], [], `${stem}_full`);
  if (S * N === out && R * N === inp) return full;
  const starts = g.int64s(`${stem}_starts`, [0, 0]),
    ends = g.int64s(`${stem}_ends`, [out, inp]),
    axes = g.int64s(`${stem}_axes`, [0, 1]);
  return g.node('Slice', [full, starts, ends, axes], [], `${stem}_crop`);
}

/** What the importer needs of its graph to follow a weight back to its constants. */
export interface GraphView {
  nodes: NodeMsg[];
  producerOf(name: string): number | null;
  constant(name: string | undefined): Const | null;
  where(i: number): string;
}

/** A block-circulant weight found in the graph: defining vectors [S, R, N, ...taps] and the cropped sizes. */
export interface CirculantMatch {
  weight: Float32Array;
  S: number;
  R: number;
  N: number;
  taps: number[];
  out: number;
  inp: number;
}

const same = (a: readonly number[] | undefined, b: readonly number[]) =>
  !!a && a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * The block-circulant pattern circulantWeight writes, followed back from a weight value, or null when the
 * value is not made that way (any other computed weight is refused by the caller, naming its operator).
 */
export function matchCirculant(v: GraphView, name: string | undefined, rank: number): CirculantMatch | null {
  const op = (n: string | undefined, type: string) => {
    const i = n ? v.producerOf(n) : null;
    return i !== null && v.nodes[i].opType === type ? { i, n: v.nodes[i] } : null;
  };
  let crop: number[] | null = null,
    top = name;
  const slice = op(top, 'Slice');
  if (slice) {
    const [, s, e, a, st] = (slice.n.input ?? []).map((x) => (x ? v.constant(x)?.ints : undefined));
    if (!same(s, [0, 0]) || !same(a, [0, 1]) || !e || e.length !== 2 || (st && !same(st, [1, 1]))) return null;
    crop = e;
    top = slice.n.input?.[0];
  }
  const reshape = op(top, 'Reshape');
  const transpose = op(reshape?.n.input?.[0], 'Transpose');
  const gather = op(transpose?.n.input?.[0], 'Gather');
  if (!reshape || !transpose || !gather) return null;
  const taps = rank - 2;
  const perm = new Attrs(v.where(transpose.i), transpose.n).ints('perm');
  if (!same(perm, [0, 2, 1, 3, ...Array.from({ length: taps }, (_, i) => 4 + i)])) return null;
  if (new Attrs(v.where(gather.i), gather.n).int('axis', 0) !== 2) return null;
  const c = v.constant(gather.n.input?.[0]),
    idx = v.constant(gather.n.input?.[1]);
  if (!c?.floats || c.dims.length !== 3 + taps || !idx?.ints) return null;
  const [S, R, N] = c.dims,
    tapDims = c.dims.slice(3);
  if (!same(idx.dims, [N, N]) || !same(idx.ints, circulantIndex(N))) return null;
  const shape = v.constant(reshape.n.input?.[1])?.ints;
  if (!same(shape, [S * N, R * N, ...tapDims])) return null;
  const [out, inp] = crop ?? [S * N, R * N];
  // Frugal's padded layers hold ⌈out/N⌉ × ⌈in/N⌉ blocks: any other crop is not one of its layers.
  if (!(out >= 1 && inp >= 1 && Math.ceil(out / N) === S && Math.ceil(inp / N) === R)) return null;
  return { weight: c.floats, S, R, N, taps: tapDims, out, inp };
}

/** The block size of a matched weight, refused (naming the node) when Frugal's circulant layers cannot take it. */
export function checkCirculantBlock(where: string, m: CirculantMatch): void {
  if (m.N < 1 || (m.N & (m.N - 1)) !== 0)
    throw new OnnxImportError(
      `${where}: its block-circulant weight (Gather by (i − j) mod ${m.N}) has block size ${m.N}; ` +
        "Frugal's circulant layers take a power of two",
    );
}
