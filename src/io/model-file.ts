import {
  existsSync,
  mkdirSync,
  readFileSync,
  renameSync,
  writeFileSync,
  unlinkSync,
  statSync,
  type Stats,
} from 'node:fs';
import { dirname, resolve } from 'node:path';
import type { Sequential } from '../nn/layers.js';
import type { ModelSpec } from '../nn/spec.js';
import { decodeModel, encodeModel } from './model-bytes.js';
import { fileReason } from './fs-reason.js';

export { sniffNonModel } from './model-bytes.js';

/** Create `dir` and its missing parents, one level at a time (Node's recursive mkdir loops on ENOENT in /proc). */
export function makeDirs(dir: string): void {
  const missing: string[] = [];
  for (let d = resolve(dir); !existsSync(d) && dirname(d) !== d; d = dirname(d)) missing.unshift(d);
  for (const d of missing) mkdirSync(d);
}

/**
 * Write bytes to a temporary name beside `path`, then rename: a crash never leaves a half file. A missing
 * directory is created here, at the first write (a default runs/ is not made by a run that fails before it).
 */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  makeDirs(dirname(path));
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try {
      unlinkSync(tmp);
    } catch {
      /* already gone */
    }
    throw e;
  }
}

/** Save a model's state with its spec and training metadata in `__metadata__`. */
export function saveModel(
  path: string,
  model: Sequential,
  spec: ModelSpec,
  training: Record<string, unknown> = {},
): void {
  writeFileAtomic(path, encodeModel(model, spec, training));
}

function kindOf(st: Stats): string {
  if (st.isFIFO()) return 'a named pipe';
  if (st.isSocket()) return 'a socket';
  if (st.isCharacterDevice() || st.isBlockDevice()) return 'a device';
  return 'of an unknown kind';
}

function readBytes(path: string): Uint8Array {
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw Object.assign(new Error('a directory'), { code: 'EISDIR' });
    // A FIFO or a device would block or never end: refused by what it is.
    if (!st.isFile()) throw new Error(`it is not a regular file (${kindOf(st)})`);
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read model file ${path}: ${fileReason(e)}`);
  }
}

/**
 * Load a model file: rebuilds the model from the stored spec and loads its weights (decodeModel on the file's
 * bytes). The model is in training mode, as a newly built one is (PyTorch's convention): call `.eval()` before
 * running it by hand; evaluate(), predict() and fit() set the mode they need themselves.
 */
export function loadModel(path: string): ReturnType<typeof decodeModel> {
  return decodeModel(readBytes(path), path);
}
