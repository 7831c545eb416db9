import { readFileSync, renameSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import type { Sequential } from '../nn/layers.js';
import { buildModel, validateSpec, type ModelSpec } from '../nn/spec.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, tensorsOf } from './safetensors.js';

/** Write bytes to a temporary name beside `path`, then rename: a crash never leaves a half file. */
export function writeFileAtomic(path: string, bytes: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    writeFileSync(tmp, bytes);
    renameSync(tmp, path);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}

/** Save a model's state with its spec and training metadata in `__metadata__`. */
export function saveModel(path: string, model: Sequential, spec: ModelSpec, training: Record<string, unknown> = {}): void {
  const bytes = encodeSafetensors(model.stateDict(), {
    'frugal.spec': JSON.stringify(spec),
    'frugal.training': JSON.stringify(training),
  });
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
export function loadModel(path: string): { model: Sequential; spec: ModelSpec; training: Record<string, unknown>; bytes: number } {
  const bytes = readBytes(path);
  const { entries, metadata } = decodeSafetensors(bytes, path);
  const specText = metadata['frugal.spec'];
  if (!specText) throw new SafetensorsError(`${path}: no frugal.spec in the metadata; it is not a Frugal model file`);
  let spec: ModelSpec;
  try { spec = validateSpec(JSON.parse(specText)); } catch (e) { throw new SafetensorsError(`${path}: stored model spec is invalid (${(e as Error).message})`); }
  const model = buildModel(spec);
  model.loadStateDict(tensorsOf(entries));
  let training: Record<string, unknown> = {};
  try { training = JSON.parse(metadata['frugal.training'] ?? '{}'); } catch { /* metadata only */ }
  return { model, spec, training, bytes: bytes.length };
}
