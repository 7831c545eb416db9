// A model file's bytes without touching a filesystem (browser-safe): what saveModel writes (io/model-file.ts)
// and what a browser offers as a download, and the model back from such bytes (what loadModel reads).
import type { Sequential } from '../nn/layers.js';
import { buildModel, validateSpec, type ModelSpec } from '../nn/spec.js';
import { planLayers } from '../nn/spec-plan.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, tensorsOf } from './safetensors.js';

/**
 * A model as safetensors bytes: its state dict (float tensors), each layer's raw entries (packed bits, CSR
 * indices) under the layer's path, and the spec and training metadata in `__metadata__` (`frugal.spec`,
 * `frugal.training`), so `loadModel` (frugal/node) rebuilds it.
 *
 * @example
 * const bytes = encodeModel(model, specOf(model, [1, 28, 28]), { epochs: 1 });
 * const url = URL.createObjectURL(new Blob([bytes]));  // a download link in a page
 */
export function encodeModel(model: Sequential, spec: ModelSpec, training: Record<string, unknown> = {}): Uint8Array {
  const raw: Record<string, { shape: number[]; data: Uint8Array | Int8Array | Int32Array }> = {};
  for (const [name, m] of model.namedModules()) {
    for (const [k, a] of Object.entries(m.rawEntries()))
      raw[name ? `${name}.${k}` : k] = { shape: [a.length], data: a };
  }
  return encodeSafetensors(
    { ...model.stateDict(), ...raw },
    {
      'frugal.spec': JSON.stringify(spec),
      'frugal.training': JSON.stringify(training),
    },
  );
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
 * A model from a model file's bytes (browser-safe: a fetch() response, a file input, encodeModel's output):
 * rebuilds it from the stored spec and loads its weights, as loadModel does from a path. `path` names the bytes
 * in errors. The model is in training mode, as a newly built one is: call `.eval()` before running it by hand.
 *
 * @example
 * const { model } = decodeModel(new Uint8Array(await (await fetch('cnn.safetensors')).arrayBuffer()));
 */
export function decodeModel(
  bytes: Uint8Array,
  path = 'model',
): {
  model: Sequential;
  spec: ModelSpec;
  training: Record<string, unknown>;
  bytes: number;
} {
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
