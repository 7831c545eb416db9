/**
 * IDX files (LeCun's MNIST format): magic 0x0000, a type byte, a rank byte, big-endian
 * int32 dimensions, then the values. parseIdx validates every part before allocating.
 */
export interface IdxArray {
  dims: number[];
  /** Values as stored: Uint8Array for ubyte files, otherwise a matching typed array. */
  data: Uint8Array | Int8Array | Int16Array | Int32Array | Float32Array | Float64Array;
}

const TYPES: Record<number, { name: string; size: number }> = {
  0x08: { name: 'ubyte', size: 1 },
  0x09: { name: 'byte', size: 1 },
  0x0b: { name: 'short', size: 2 },
  0x0c: { name: 'int', size: 4 },
  0x0d: { name: 'float', size: 4 },
  0x0e: { name: 'double', size: 8 },
};

export class IdxError extends Error {}

export function parseIdx(bytes: Uint8Array, what = 'IDX data'): IdxArray {
  if (bytes.length < 4)
    throw new IdxError(`${what}: file is ${bytes.length} bytes, too short for an IDX header (truncated?)`);
  if (bytes[0] !== 0 || bytes[1] !== 0)
    throw new IdxError(
      `${what}: bad magic number (first bytes ${bytes[0]}, ${bytes[1]}; expected 0, 0): not an IDX file`,
    );
  const type = TYPES[bytes[2]];
  if (!type) throw new IdxError(`${what}: unknown IDX element type 0x${bytes[2].toString(16)}`);
  const rank = bytes[3];
  if (rank < 1 || rank > 8) throw new IdxError(`${what}: IDX rank ${rank} is not between 1 and 8`);
  const header = 4 + 4 * rank;
  if (bytes.length < header)
    throw new IdxError(`${what}: header needs ${header} bytes, file has ${bytes.length} (truncated)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  let count = 1;
  for (let i = 0; i < rank; i++) {
    const d = view.getInt32(4 + 4 * i, false);
    if (d < 0) throw new IdxError(`${what}: dimension ${i} is negative (${d})`);
    dims.push(d);
    count *= d;
  }
  const need = count * type.size;
  const have = bytes.length - header;
  if (have < need)
    throw new IdxError(
      `${what}: dimensions [${dims}] need ${need} bytes of ${type.name} values, the file has ${have} (truncated)`,
    );
  if (have > need)
    throw new IdxError(`${what}: ${have - need} unexpected bytes after the [${dims}] values (corrupt or wrong file)`);
  const body = bytes.subarray(header);
  let data: IdxArray['data'];
  switch (bytes[2]) {
    case 0x08:
      data = body.slice();
      break;
    case 0x09:
      data = new Int8Array(body.slice().buffer);
      break;
    default: {
      // Multi-byte IDX values are big-endian.
      const n = count;
      const dv = new DataView(body.buffer, body.byteOffset, body.byteLength);
      if (bytes[2] === 0x0b) {
        const a = new Int16Array(n);
        for (let i = 0; i < n; i++) a[i] = dv.getInt16(2 * i, false);
        data = a;
      } else if (bytes[2] === 0x0c) {
        const a = new Int32Array(n);
        for (let i = 0; i < n; i++) a[i] = dv.getInt32(4 * i, false);
        data = a;
      } else if (bytes[2] === 0x0d) {
        const a = new Float32Array(n);
        for (let i = 0; i < n; i++) a[i] = dv.getFloat32(4 * i, false);
        data = a;
      } else {
        const a = new Float64Array(n);
        for (let i = 0; i < n; i++) a[i] = dv.getFloat64(8 * i, false);
        data = a;
      }
    }
  }
  return { dims, data };
}

/** Encode a ubyte IDX file (used to write the shipped subset and test fixtures). */
export function encodeIdxU8(dims: number[], data: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + 4 * dims.length + data.length);
  out[2] = 0x08;
  out[3] = dims.length;
  const dv = new DataView(out.buffer);
  dims.forEach((d, i) => dv.setInt32(4 + 4 * i, d, false));
  out.set(data, 4 + 4 * dims.length);
  return out;
}
