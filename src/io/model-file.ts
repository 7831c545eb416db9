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
import { buildModel, validateSpec, type ModelSpec } from '../nn/spec.js';
import { planLayers } from '../nn/spec-plan.js';
import { decodeSafetensors, SafetensorsError, tensorsOf } from './safetensors.js';
import { encodeModel } from './model-bytes.js';
import { fileReason } from './fs-reason.js';

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
 * What a file that is not a model is, from its first bytes, with the likely intent: a model spec, an image,
 * text, a training checkpoint. Null when it looks like safetensors (then decoding says what is wrong).
 */
export function sniffNonModel(path: string, bytes: Uint8Array): string | null {
  const head = new TextDecoder().decode(bytes.subarray(0, 4096)).trimStart();
  if (head.startsWith('{') || head.startsWith('[')) {
    let spec = false;
    try {
      spec = (JSON.parse(new TextDecoder().decode(bytes)) as { format?: unknown })?.format === 'frugal-model';
    } catch {
      /* not whole JSON */
    }
    return spec
      ? `${path} is a JSON model spec, not a trained model file; did you mean \`frugal train --model ${path}\`?`
      : `${path} is a JSON file, not a model file (.safetensors written by frugal train)`;
  }
  if (bytes[0] === 0x89 && head.slice(1, 4) === 'PNG')
    return `${path} is a PNG image, not a model file; give a .safetensors model written by frugal train`;
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff)
    return `${path} is a JPEG image, not a model file; give a .safetensors model written by frugal train`;
  const sample = bytes.subarray(0, 512);
  if (sample.length >= 8 && sample.every((b) => b === 9 || b === 10 || b === 13 || (b >= 32 && b !== 127) || b >= 128))
    return `${path} is a text file, not a model file; give a .safetensors model written by frugal train`;
  return null;
}

/** The model inside a training checkpoint whose run settings hold its spec (frugal train's do). */
function checkpointModel(
  path: string,
  metaText: string,
  all: ReturnType<typeof decodeSafetensors>['entries'],
): { entries: typeof all; specText: string; fromCheckpoint: Record<string, unknown> } {
  let meta: { epoch?: number; mid?: { batch?: number }; config?: Record<string, unknown> } | null = null;
  try {
    meta = JSON.parse(metaText);
  } catch {
    throw new SafetensorsError(`${path}: the checkpoint's frugal.checkpoint metadata is not JSON; it is damaged`);
  }
  const spec = meta?.config?.spec;
  if (!spec || typeof spec !== 'object')
    throw new SafetensorsError(
      `${path} is a training checkpoint that does not keep its model spec; the model it trains is saved without ` +
        '.ckpt when the run ends (continue the run with --resume to get it)',
    );
  const entries: typeof all = {};
  for (const [k, e] of Object.entries(all)) if (k.startsWith('model.')) entries[k.slice(6)] = e;
  const { spec: _s, ...settings } = meta!.config!;
  void _s;
  const at = { epoch: meta!.epoch ?? 0, batch: meta!.mid?.batch ?? 0 };
  return { entries, specText: JSON.stringify(spec), fromCheckpoint: { ...settings, checkpoint: at } };
}

/**
 * Load a model file: rebuilds the model from the stored spec and loads its weights. The model is in training mode,
 * as a newly built one is (PyTorch's convention): call `.eval()` before running it by hand; evaluate(), predict()
 * and fit() set the mode they need themselves.
 */
export function loadModel(path: string): {
  model: Sequential;
  spec: ModelSpec;
  training: Record<string, unknown>;
  bytes: number;
} {
  const bytes = readBytes(path);
  const what = sniffNonModel(path, bytes);
  if (what) throw new SafetensorsError(what);
  const decoded = decodeSafetensors(bytes, path);
  const { metadata } = decoded;
  let entries = decoded.entries,
    specText = metadata['frugal.spec'];
  let fromCheckpoint: Record<string, unknown> | undefined;
  if (!specText && metadata['frugal.checkpoint']) {
    // A checkpoint of `frugal train` keeps the spec in its run settings: its model.* tensors are the model as it
    // stood after the last finished step, so eval, info and export can read it like a model file.
    const ck = checkpointModel(path, metadata['frugal.checkpoint'], entries);
    ({ entries, specText, fromCheckpoint } = ck);
  }
  if (!specText) throw new SafetensorsError(`${path}: no frugal.spec in the metadata; it is not a Frugal model file`);
  let spec: ModelSpec;
  try {
    spec = validateSpec(JSON.parse(specText));
  } catch (e) {
    throw new SafetensorsError(`${path}: stored model spec is invalid (${(e as Error).message})`);
  }
  // Building allocates every parameter the spec declares (up to maxModelParams): refuse first a file that
  // cannot hold them. No stored form is denser than one bit per parameter (packed binary weights).
  const planned = planLayers(spec.layers, spec.input).params;
  const stored = Object.values(entries).reduce((a, e) => a + e.data.byteLength, 0);
  if (stored * 8 < planned)
    throw new SafetensorsError(
      `${path}: the stored spec declares ${planned.toLocaleString('en-US')} parameters and buffers, but the file ` +
        `holds ${stored.toLocaleString('en-US')} bytes of tensors (at least one bit each is needed): it is ` +
        'truncated or its weights are missing; save the model again',
    );
  const model = buildModel(spec);
  model.loadStateDict(tensorsOf(entries));
  // Raw (non-float) entries go to the module whose path prefixes them.
  const modules = new Map(model.namedModules());
  const rawFor = new Map<string, Record<string, Uint8Array | Int8Array | Int32Array>>();
  for (const [k, e] of Object.entries(entries)) {
    if (e.data instanceof Float32Array || e.data instanceof Float64Array) continue;
    const dot = k.lastIndexOf('.'),
      owner = dot < 0 ? '' : k.slice(0, dot);
    if (
      !modules.has(owner) ||
      !(e.data instanceof Uint8Array || e.data instanceof Int8Array || e.data instanceof Int32Array)
    )
      throw new SafetensorsError(`${path}: entry ${k} (${e.dtype}) belongs to no layer of the stored spec`);
    rawFor.set(owner, { ...(rawFor.get(owner) ?? {}), [k.slice(dot + 1)]: e.data });
  }
  for (const [name, m] of modules) {
    try {
      m.loadRawEntries(rawFor.get(name) ?? {});
    } catch (err) {
      throw new SafetensorsError(`${path}: layer ${name || '(model)'}: ${(err as Error).message}`);
    }
  }
  let training: Record<string, unknown> = fromCheckpoint ?? {};
  try {
    if (!fromCheckpoint) training = JSON.parse(metadata['frugal.training'] ?? '{}');
  } catch {
    /* metadata only */
  }
  return { model, spec, training, bytes: bytes.length };
}
