import { Tensor } from '../core/tensor.js';

/**
 * safetensors (Hugging Face's format): an 8-byte little-endian header length, a JSON header
 * `{name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}}`,
 * then the raw little-endian data. Decoding validates everything before it allocates.
 */
export type StDType = 'F32' | 'F64' | 'I32' | 'U8' | 'I8' | 'U32';
type RawArray = Float32Array | Float64Array | Int32Array | Uint8Array | Int8Array | Uint32Array;

const SIZES: Record<StDType, number> = { F32: 4, F64: 8, I32: 4, U8: 1, I8: 1, U32: 4 };
/** Headers above this are refused: real ones are kilobytes; this stops a hostile length from allocating. */
export const MAX_HEADER_BYTES = 16 * 1024 * 1024;

export class SafetensorsError extends Error {}

export interface StEntry {
  dtype: StDType;
  shape: number[];
  data: RawArray;
}

function dtypeOfArray(a: RawArray): StDType {
  if (a instanceof Float32Array) return 'F32';
  if (a instanceof Float64Array) return 'F64';
  if (a instanceof Int32Array) return 'I32';
  if (a instanceof Uint8Array) return 'U8';
  if (a instanceof Int8Array) return 'I8';
  return 'U32';
}

/** Encode tensors (or raw typed arrays with shapes) and string metadata. */
export function encodeSafetensors(
  entries: Record<string, Tensor | { shape: number[]; data: RawArray }>,
  metadata: Record<string, string> = {},
): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length) header.__metadata__ = metadata;
  let off = 0;
  const parts: { data: RawArray; off: number }[] = [];
  for (const [name, e] of Object.entries(entries)) {
    const dtype = dtypeOfArray(e.data);
    const bytes = e.data.length * SIZES[dtype];
    header[name] = { dtype, shape: [...e.shape], data_offsets: [off, off + bytes] };
    parts.push({ data: e.data, off });
    off += bytes;
  }
  let json = JSON.stringify(header);
  // Pad the header with spaces to a multiple of 8 so the data is aligned (allowed by the format).
  json += ' '.repeat((8 - ((8 + new TextEncoder().encode(json).length) % 8)) % 8);
  const hb = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + hb.length + off);
  new DataView(out.buffer).setBigUint64(0, BigInt(hb.length), true);
  out.set(hb, 8);
  const base = 8 + hb.length;
  for (const p of parts) out.set(new Uint8Array(p.data.buffer, p.data.byteOffset, p.data.byteLength), base + p.off);
  return out;
}

/** Decode and validate: header size, JSON, dtypes, shapes, offsets inside the file, no overlaps. */
export function decodeSafetensors(
  bytes: Uint8Array,
  what = 'safetensors data',
): { entries: Record<string, StEntry>; metadata: Record<string, string> } {
  if (bytes.length < 8)
    throw new SafetensorsError(`${what}: ${bytes.length} bytes is too short for a safetensors header (truncated)`);
  const n = new DataView(bytes.buffer, bytes.byteOffset, 8).getBigUint64(0, true);
  if (n > BigInt(MAX_HEADER_BYTES))
    throw new SafetensorsError(
      `${what}: header length ${n} exceeds the ${MAX_HEADER_BYTES}-byte limit (corrupt file?)`,
    );
  const hlen = Number(n);
  if (8 + hlen > bytes.length)
    throw new SafetensorsError(
      `${what}: header says ${hlen} bytes but the file has ${bytes.length - 8} after the length (truncated)`,
    );
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes.subarray(8, 8 + hlen)));
  } catch (e) {
    throw new SafetensorsError(`${what}: header is not valid JSON (${(e as Error).message})`);
  }
  if (!header || typeof header !== 'object' || Array.isArray(header))
    throw new SafetensorsError(`${what}: header must be a JSON object`);
  const dataLen = bytes.length - 8 - hlen;
  const base = 8 + hlen;
  const metadata: Record<string, string> = {};
  const entries: Record<string, StEntry> = {};
  const spans: [number, number, string][] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!raw || typeof raw !== 'object')
        throw new SafetensorsError(`${what}: __metadata__ must be an object of strings`);
      for (const [k, v] of Object.entries(raw)) {
        if (typeof v !== 'string') throw new SafetensorsError(`${what}: metadata value ${k} is not a string`);
        metadata[k] = v;
      }
      continue;
    }
    const e = raw as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (!e || typeof e !== 'object') throw new SafetensorsError(`${what}: entry ${name} is not an object`);
    if (typeof e.dtype !== 'string' || !(e.dtype in SIZES))
      throw new SafetensorsError(
        `${what}: entry ${name} has unsupported dtype ${JSON.stringify(e.dtype)} (supported: ` +
          `${Object.keys(SIZES).join(', ')})`,
      );
    const dtype = e.dtype as StDType;
    if (!Array.isArray(e.shape) || e.shape.some((d) => !Number.isSafeInteger(d) || d < 0))
      throw new SafetensorsError(`${what}: entry ${name} has an invalid shape`);
    const shape = e.shape as number[];
    const off = e.data_offsets;
    if (!Array.isArray(off) || off.length !== 2 || !off.every((v) => Number.isSafeInteger(v) && v >= 0))
      throw new SafetensorsError(`${what}: entry ${name} has invalid data_offsets`);
    const [b, end] = off as number[];
    if (b > end || end > dataLen)
      throw new SafetensorsError(
        `${what}: entry ${name} data [${b}, ${end}) lies outside the ${dataLen} data bytes (truncated or corrupt)`,
      );
    const count = shape.reduce((a, d) => a * d, 1);
    if (count * SIZES[dtype] !== end - b)
      throw new SafetensorsError(
        `${what}: entry ${name} holds ${end - b} bytes but shape [${shape}] of ${dtype} needs ${count * SIZES[dtype]}`,
      );
    spans.push([b, end, name]);
    const slice = new Uint8Array(end - b); // a copy: aligned, and detached from the file buffer
    slice.set(bytes.subarray(base + b, base + end));
    let data: RawArray;
    switch (dtype) {
      case 'F32':
        data = new Float32Array(slice.buffer);
        break;
      case 'F64':
        data = new Float64Array(slice.buffer);
        break;
      case 'I32':
        data = new Int32Array(slice.buffer);
        break;
      case 'U32':
        data = new Uint32Array(slice.buffer);
        break;
      case 'I8':
        data = new Int8Array(slice.buffer);
        break;
      default:
        data = slice;
    }
    entries[name] = { dtype, shape, data };
  }
  spans.sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < spans.length; i++) {
    if (spans[i][0] < spans[i - 1][1])
      throw new SafetensorsError(`${what}: entries ${spans[i - 1][2]} and ${spans[i][2]} overlap`);
  }
  return { entries, metadata };
}

/** Float entries as Tensors (other dtypes are left out). */
export function tensorsOf(entries: Record<string, StEntry>): Record<string, Tensor> {
  const out: Record<string, Tensor> = {};
  for (const [k, e] of Object.entries(entries)) {
    if (e.data instanceof Float32Array || e.data instanceof Float64Array) out[k] = new Tensor(e.data, e.shape);
  }
  return out;
}
