// PNG and JPEG images read into model inputs (Node: pngjs needs Node's zlib; jpeg-js is pure JS). An image is
// decoded to RGBA, flattened onto black (Fashion-MNIST's background), reduced to gray or kept as RGB, and
// resized by area averaging to the model's [C, H, W].
import { readFileSync } from 'node:fs';
import pngjs from 'pngjs';
import jpeg from 'jpeg-js';
import { fileReason } from '../io/fs-reason.js';

/** A decoded image: width × height RGBA bytes, row-major. */
export interface RgbaImage {
  width: number;
  height: number;
  rgba: Uint8Array;
}

/** 64 megapixels: far above any picture a small classifier sees, small enough to decode in memory. */
export const MAX_IMAGE_PIXELS = 2 ** 26;

export class ImageError extends Error {}

/** Which image format the bytes are, from their signature (null: neither PNG nor JPEG). */
export function imageKind(bytes: Uint8Array): 'png' | 'jpeg' | null {
  if (bytes.length >= 8 && bytes[0] === 0x89 && bytes[1] === 0x50 && bytes[2] === 0x4e && bytes[3] === 0x47)
    return 'png';
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  return null;
}

/** Decode PNG or JPEG bytes to RGBA; `what` names the file in errors. */
export function decodeImage(bytes: Uint8Array, what = 'image'): RgbaImage {
  const kind = imageKind(bytes);
  if (kind === 'png') {
    // The size is in the IHDR chunk (bytes 16–23): refuse a huge image before inflating it.
    const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    if (bytes.length < 24) throw new ImageError(`${what}: PNG file is truncated`);
    const w = dv.getUint32(16),
      h = dv.getUint32(20);
    if (w * h > MAX_IMAGE_PIXELS)
      throw new ImageError(`${what}: ${w}×${h} pixels is more than the ${MAX_IMAGE_PIXELS} an image may have`);
    try {
      const png = pngjs.PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, rgba: new Uint8Array(png.data) };
    } catch (e) {
      throw new ImageError(`${what}: PNG data is corrupt (${(e as Error).message})`);
    }
  }
  if (kind === 'jpeg') {
    try {
      const j = jpeg.decode(bytes, {
        useTArray: true,
        formatAsRGBA: true,
        maxResolutionInMP: MAX_IMAGE_PIXELS / 2 ** 20,
        maxMemoryUsageInMB: 1024,
      });
      return { width: j.width, height: j.height, rgba: j.data };
    } catch (e) {
      throw new ImageError(`${what}: JPEG data is corrupt or unsupported (${(e as Error).message})`);
    }
  }
  throw new ImageError(`${what}: not a PNG or JPEG image`);
}

/** Read and decode a PNG or JPEG file. */
export function readImageFile(path: string): RgbaImage {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new ImageError(`cannot read image ${path}: ${fileReason(e)}`);
  }
  return decodeImage(bytes, path);
}

/** True when some pixel's red, green and blue differ (the image is not gray). */
export function hasColour(img: RgbaImage): boolean {
  const p = img.rgba;
  for (let i = 0; i < p.length; i += 4) if (p[i] !== p[i + 1] || p[i + 1] !== p[i + 2]) return true;
  return false;
}

/**
 * Area resampling of one plane (w × h → W × H): each output pixel is the mean of the source area it
 * covers, partial pixels weighted by their overlap (OpenCV's INTER_AREA when shrinking; when enlarging
 * it is nearest-neighbour with a blend at the seams).
 */
export function resizeArea(src: Float32Array, w: number, h: number, W: number, H: number): Float32Array {
  if (w === W && h === H) return src.slice();
  const taps = (n: number, N: number): { i: number; w: number }[][] =>
    Array.from({ length: N }, (_, o) => {
      const a = (o * n) / N,
        b = ((o + 1) * n) / N,
        t: { i: number; w: number }[] = [];
      for (let i = Math.floor(a); i < Math.min(n, Math.ceil(b)); i++) {
        const wgt = Math.min(b, i + 1) - Math.max(a, i);
        if (wgt > 0) t.push({ i, w: wgt / (b - a) });
      }
      return t;
    });
  const tx = taps(w, W),
    ty = taps(h, H);
  const out = new Float32Array(W * H);
  for (let Y = 0; Y < H; Y++)
    for (let X = 0; X < W; X++) {
      let s = 0;
      for (const a of ty[Y]) for (const b of tx[X]) s += a.w * b.w * src[a.i * w + b.i];
      out[Y * W + X] = s;
    }
  return out;
}

/**
 * An image as one sample of shape [C, H, W] with values in [0, 1] (pixel / 255, as training batches
 * scale bytes): transparent parts over black; C = 1 takes the luma 0.299 R + 0.587 G + 0.114 B
 * (ITU-R BT.601), C = 3 the RGB planes; each plane resized by area averaging (the aspect ratio is not
 * kept: the image is stretched to H × W). `invert` maps v to 1 − v (dark drawings on white paper).
 */
export function imageToSample(img: RgbaImage, shape: number[], invert = false): Float32Array {
  if (shape.length !== 3 || (shape[0] !== 1 && shape[0] !== 3))
    throw new ImageError(`an image becomes a [1, H, W] or [3, H, W] sample; the model takes [${shape.join(', ')}]`);
  const [C, H, W] = shape;
  const n = img.width * img.height,
    p = img.rgba;
  const out = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    const plane = new Float32Array(n);
    for (let i = 0; i < n; i++) {
      const a = p[4 * i + 3] / 255;
      const v = C === 1 ? 0.299 * p[4 * i] + 0.587 * p[4 * i + 1] + 0.114 * p[4 * i + 2] : p[4 * i + c];
      plane[i] = (v * a) / 255;
    }
    const r = resizeArea(plane, img.width, img.height, W, H);
    for (let i = 0; i < H * W; i++) out[c * H * W + i] = invert ? 1 - r[i] : r[i];
  }
  return out;
}
