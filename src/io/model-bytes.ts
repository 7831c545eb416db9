// A model file's bytes without touching a filesystem (browser-safe): what saveModel writes (io/model-file.ts)
// and what a browser offers as a download.
import type { Sequential } from '../nn/layers.js';
import type { ModelSpec } from '../nn/spec.js';
import { encodeSafetensors } from './safetensors.js';

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
