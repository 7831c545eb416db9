import { readFileSync, renameSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import type { Sequential } from '../nn/layers.js';
import { buildModel, validateSpec, type ModelSpec } from '../nn/spec.js';
import { planLayers } from '../nn/spec-plan.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, tensorsOf } from './safetensors.js';

/** Write bytes to a temporary name beside `path`, then rename: a crash never leaves a half file. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
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
  const raw: Record<string, { shape: number[]; data: Uint8Array | Int8Array | Int32Array }> = {};
  for (const [name, m] of model.namedModules()) {
    for (const [k, a] of Object.entries(m.rawEntries()))
      raw[name ? `${name}.${k}` : k] = { shape: [a.length], data: a };
  }
  const bytes = encodeSafetensors(
    { ...model.stateDict(), ...raw },
    {
      'frugal.spec': JSON.stringify(spec),
      'frugal.training': JSON.stringify(training),
    },
  );
  writeFileAtomic(path, bytes);
}

function readBytes(path: string): Uint8Array {
  try {
    if (!statSync(path).isFile()) throw new Error('not a file');
    return readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read model file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
}

/** Load a model file: rebuilds the model from the stored spec and loads its weights. */
export function loadModel(path: string): {
  model: Sequential;
  spec: ModelSpec;
  training: Record<string, unknown>;
  bytes: number;
} {
  const bytes = readBytes(path);
  const { entries, metadata } = decodeSafetensors(bytes, path);
  const specText = metadata['frugal.spec'];
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
  let training: Record<string, unknown> = {};
  try {
    training = JSON.parse(metadata['frugal.training'] ?? '{}');
  } catch {
    /* metadata only */
  }
  return { model, spec, training, bytes: bytes.length };
}
