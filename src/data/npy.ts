/**
 * NumPy's .npy format (version 1–3): the magic `\x93NUMPY`, a version, a little-endian header length, a
 * Python-literal header `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 28, 28), }`, then the values
 * in C order. parseNpy checks every part before it allocates.
 */
export interface NpyArray {
  shape: number[];
  data: Float32Array;
  /** The stored values were integers (uint8 pixels, labels, counts), not floats. */
  integer: boolean;
}

export class NpyError extends Error {}

const DTYPES: Record<string, { size: number; integer: boolean }> = {
  u1: { size: 1, integer: true },
  i1: { size: 1, integer: true },
  u2: { size: 2, integer: true },
  i2: { size: 2, integer: true },
  i4: { size: 4, integer: true },
  u4: { size: 4, integer: true },
  i8: { size: 8, integer: true },
  f4: { size: 4, integer: false },
  f8: { size: 8, integer: false },
};

/** Read a .npy file's bytes into float32 values with the stored shape; `what` names the file in errors. */
export function parseNpy(bytes: Uint8Array, what = '.npy data', maxElements = 2 ** 28): NpyArray {
  const magic = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59];
  if (bytes.length < 10 || magic.some((b, i) => bytes[i] !== b))
    throw new NpyError(`${what}: not a .npy file (it does not start with \\x93NUMPY)`);
  const major = bytes[6];
  if (major < 1 || major > 3) throw new NpyError(`${what}: .npy version ${major} is not 1, 2 or 3`);
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? dv.getUint16(8, true) : bytes.length >= 12 ? dv.getUint32(8, true) : -1;
  const start = major === 1 ? 10 : 12;
  if (headerLen < 0 || start + headerLen > bytes.length) throw new NpyError(`${what}: the header is truncated`);
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr'\s*:\s*'([<>|=])([a-z])(\d+)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shapeText)
    throw new NpyError(`${what}: header ${JSON.stringify(header.trim())} is malformed`);
  const dtype = DTYPES[descr[2] + descr[3]];
  if (!dtype)
    throw new NpyError(
      `${what}: dtype ${descr[1]}${descr[2]}${descr[3]} is not supported; save as float32, float64 or an integer type`,
    );
  if (fortran[1] === 'True')
    throw new NpyError(`${what}: the array is in Fortran order; save it with np.ascontiguousarray(x) first`);
  const little = descr[1] !== '>';
  const shape = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.length > 0)
    .map(Number);
  if (shape.some((d) => !Number.isInteger(d) || d < 0)) throw new NpyError(`${what}: bad shape (${shapeText[1]})`);
  const count = shape.reduce((a, b) => a * b, 1);
  if (count > maxElements) throw new NpyError(`${what}: ${count} values is more than the ${maxElements} read at once`);
  const body = start + headerLen;
  if (bytes.length - body < count * dtype.size)
    throw new NpyError(
      `${what}: shape [${shape}] needs ${count * dtype.size} bytes of values, the file has ${bytes.length - body} ` +
        '(truncated)',
    );
  const out = new Float32Array(count);
  const k = descr[2] + descr[3];
  for (let i = 0; i < count; i++) {
    const o = body + i * dtype.size;
    out[i] =
      k === 'u1'
        ? bytes[o]
        : k === 'i1'
          ? dv.getInt8(o)
          : k === 'u2'
            ? dv.getUint16(o, little)
            : k === 'i2'
              ? dv.getInt16(o, little)
              : k === 'i4'
                ? dv.getInt32(o, little)
                : k === 'u4'
                  ? dv.getUint32(o, little)
                  : k === 'i8'
                    ? Number(dv.getBigInt64(o, little))
                    : k === 'f4'
                      ? dv.getFloat32(o, little)
                      : dv.getFloat64(o, little);
  }
  return { shape, data: out, integer: dtype.integer };
}

/** Encode float32 values as a version-1 .npy file (little-endian '<f4'); tests and users' fixtures. */
export function encodeNpyF32(shape: number[], data: Float32Array): Uint8Array {
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  // The header is padded with spaces and a newline so that the values start on a 64-byte boundary.
  const pad = 64 - ((10 + header.length + 1) % 64);
  header += ' '.repeat(pad % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.length * 4);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0]);
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  const dv = new DataView(out.buffer, 10 + header.length);
  data.forEach((v, i) => dv.setFloat32(4 * i, v, true));
  return out;
}
