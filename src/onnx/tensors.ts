// Reading ONNX tensors and attributes with every size checked before anything is allocated: a file
// can claim 10^12 elements or negative dimensions; the claim is compared with the bytes it holds first.
import { LIMITS } from '../core/limits.js';
import { AT, DT, type AttrMsg, type NodeMsg, type TensorMsg } from './schema.js';

export class OnnxImportError extends Error {}

const TYPE_NAMES: Record<number, string> = {
  0: 'UNDEFINED',
  1: 'FLOAT',
  2: 'UINT8',
  3: 'INT8',
  6: 'INT32',
  7: 'INT64',
  8: 'STRING',
  9: 'BOOL',
  10: 'FLOAT16',
  11: 'DOUBLE',
  16: 'BFLOAT16',
};
export const typeName = (t: number | undefined): string => TYPE_NAMES[t ?? 0] ?? `type ${t}`;

/** A decoded constant: float values (float and double tensors) or integers (int32/int64), with its dims. */
export interface Const {
  dims: number[];
  floats?: Float32Array;
  ints?: number[];
}

/** Dims of a tensor, each a non-negative integer, their product within LIMITS.maxTensorElements. */
export function checkDims(what: string, dims: unknown[] | undefined): { dims: number[]; count: number } {
  const d = (dims ?? []) as number[];
  if (d.length > 8) throw new OnnxImportError(`${what}: ${d.length} dimensions; Frugal reads tensors of rank ≤ 8`);
  let count = 1;
  d.forEach((v, i) => {
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)
      throw new OnnxImportError(`${what}: dims[${i}] is ${v}; dimensions must be non-negative integers`);
    count *= v;
  });
  if (count > LIMITS.maxTensorElements)
    throw new OnnxImportError(
      `${what}: dims [${d.join(', ')}] make ${count.toLocaleString('en-US')} elements, above the limit of ` +
        `${LIMITS.maxTensorElements.toLocaleString('en-US')} (maxTensorElements, core/limits.ts)`,
    );
  return { dims: d, count };
}

/** Decode a TensorProto (float, double, int32, int64; raw_data or typed fields), sizes checked first. */
export function readTensor(t: TensorMsg, what: string): Const {
  const name = `${what} '${t.name ?? ''}'`;
  if (t.dataLocation === 1 || (t.externalData?.length ?? 0) > 0)
    throw new OnnxImportError(`${name}: its data is in an external file; Frugal reads self-contained .onnx files`);
  const { dims, count } = checkDims(name, t.dims);
  const type = t.dataType ?? 0;
  const size = type === DT.FLOAT || type === DT.INT32 ? 4 : type === DT.INT64 || type === DT.DOUBLE ? 8 : 0;
  if (!size)
    throw new OnnxImportError(`${name}: element type ${typeName(type)} is not supported (FLOAT, DOUBLE, INT32, INT64)`);
  const raw = t.rawData;
  const typed =
    type === DT.FLOAT ? t.floatData : type === DT.DOUBLE ? t.doubleData : type === DT.INT32 ? t.int32Data : t.int64Data;
  const held = raw && raw.length ? raw.length / size : (typed?.length ?? 0);
  if (held !== count)
    throw new OnnxImportError(
      `${name}: dims [${dims.join(', ')}] declare ${count.toLocaleString('en-US')} elements but the tensor holds ` +
        `${raw && raw.length ? `${raw.length} bytes of ${typeName(type)}` : `${typed?.length ?? 0} values`} ` +
        '(truncated or corrupt)',
    );
  if (raw && raw.length) {
    const copy = new Uint8Array(raw); // a copy: aligned, detached from the file buffer (a Buffer slice would share it)
    const dv = new DataView(copy.buffer, copy.byteOffset, copy.byteLength);
    if (type === DT.FLOAT) return { dims, floats: new Float32Array(copy.buffer, copy.byteOffset, count) };
    if (type === DT.DOUBLE)
      return { dims, floats: Float32Array.from({ length: count }, (_, i) => dv.getFloat64(8 * i, true)) };
    if (type === DT.INT32) return { dims, ints: Array.from({ length: count }, (_, i) => dv.getInt32(4 * i, true)) };
    return { dims, ints: Array.from({ length: count }, (_, i) => Number(dv.getBigInt64(8 * i, true))) };
  }
  if (type === DT.FLOAT || type === DT.DOUBLE) return { dims, floats: Float32Array.from(typed ?? []) };
  return { dims, ints: (typed ?? []).map(Number) };
}

/** Typed access to a node's attributes, with messages naming the node, operator and attribute. */
export class Attrs {
  private byName = new Map<string, AttrMsg>();
  constructor(
    readonly where: string,
    node: NodeMsg,
  ) {
    for (const a of node.attribute ?? []) this.byName.set(a.name ?? '', a);
  }
  has(name: string): boolean {
    return this.byName.has(name);
  }
  private get(name: string, type: number, kind: string): AttrMsg | undefined {
    const a = this.byName.get(name);
    if (a && a.type !== undefined && a.type !== type)
      throw new OnnxImportError(`${this.where}: attribute '${name}' must be ${kind}`);
    return a;
  }
  int(name: string, dflt: number): number {
    const v = this.get(name, AT.INT, 'an integer')?.i ?? dflt;
    if (!Number.isSafeInteger(v)) throw new OnnxImportError(`${this.where}: attribute '${name}' is ${v}`);
    return v;
  }
  float(name: string, dflt: number): number {
    const v = this.get(name, AT.FLOAT, 'a float')?.f ?? dflt;
    if (!Number.isFinite(v)) throw new OnnxImportError(`${this.where}: attribute '${name}' is not finite`);
    return v;
  }
  ints(name: string): number[] | undefined {
    const a = this.get(name, AT.INTS, 'a list of integers');
    if (!a) return undefined;
    const v = (a.ints ?? []).map(Number);
    if (v.length > 16 || v.some((x) => !Number.isSafeInteger(x)))
      throw new OnnxImportError(`${this.where}: attribute '${name}' [${v.slice(0, 16).join(', ')}] is not valid`);
    return v;
  }
  string(name: string, dflt: string): string {
    const a = this.get(name, AT.STRING, 'a string');
    return a?.s ? new TextDecoder().decode(a.s) : dflt;
  }
  tensor(name: string): TensorMsg | undefined {
    return this.get(name, AT.TENSOR, 'a tensor')?.t;
  }
}
