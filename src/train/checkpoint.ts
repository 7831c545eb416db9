import type { Tensor } from '../core/tensor.js';
import { Dropout } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Sampler } from '../data/sampler.js';
import { decodeSafetensors, encodeSafetensors, tensorsOf } from '../io/safetensors.js';
import type { EpochLog } from './fit.js';

/** Where checkpoints go (a file in Node: see node.ts fileCheckpoint). */
export interface CheckpointStore {
  save(bytes: Uint8Array): void;
  load(): Uint8Array | null;
}

/** The loop's own state at an epoch boundary. */
export interface LoopState {
  epoch: number;
  history: EpochLog[];
  best: number;
  bad: number;
}

/** Everything a checkpoint restores: the model, every optimizer, the sampler, dropout streams. */
export interface TrainingParts {
  model: Module;
  optimizers: Record<string, Optimizer>;
  sampler: Sampler;
}

function dropouts(model: Module): [string, Dropout][] {
  return model.namedModules().filter((e): e is [string, Dropout] => e[1] instanceof Dropout);
}

/** Tensor-name prefix of an optimizer's state: 'optim.' for the default one, as files before named optimizers. */
function prefixOf(name: string): string {
  return name === 'default' ? 'optim.' : `optim:${name}.`;
}

export function snapshot(parts: TrainingParts, st: LoopState): Uint8Array {
  const entries: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(parts.model.stateDict())) entries[`model.${k}`] = t;
  const optim: Record<string, { stepCount: number; lr: number }> = {};
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    const os = opt.stateDict();
    for (const [k, t] of Object.entries(os.tensors)) entries[`${prefixOf(name)}${k}`] = t;
    optim[name] = { stepCount: os.stepCount, lr: os.lr };
  }
  const rng = Object.fromEntries(dropouts(parts.model).map(([n, d]) => [n, d.rngState()]));
  const def = optim.default;
  const meta = {
    ...st,
    best: Number.isFinite(st.best) ? st.best : null,
    rng,
    optim,
    // Kept at the top level as before named optimizers, so older readers still find them.
    ...(def ? { stepCount: def.stepCount, lr: def.lr } : {}),
    ...(parts.sampler.stateDict ? { sampler: parts.sampler.stateDict() } : {}),
  };
  return encodeSafetensors(entries, { 'frugal.checkpoint': JSON.stringify(meta) });
}

export function restore(parts: TrainingParts, bytes: Uint8Array): LoopState {
  const { entries, metadata } = decodeSafetensors(bytes, 'checkpoint');
  const meta = JSON.parse(metadata['frugal.checkpoint'] ?? 'null');
  if (!meta) throw new Error('checkpoint has no frugal.checkpoint metadata');
  const tensors = tensorsOf(entries);
  const ms: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) if (k.startsWith('model.')) ms[k.slice(6)] = t;
  parts.model.loadStateDict(ms);
  const saved: Record<string, { stepCount: number; lr: number }> =
    meta.optim ?? (meta.stepCount !== undefined ? { default: { stepCount: meta.stepCount, lr: meta.lr } } : {});
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    const s = saved[name];
    if (!s)
      throw new Error(
        `the checkpoint has no state for optimizer '${name}'; it was written by a different training setup`,
      );
    const p = prefixOf(name),
      os: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith(p)) os[k.slice(p.length)] = t;
    opt.loadStateDict({ stepCount: s.stepCount, lr: s.lr, tensors: os });
  }
  if (meta.sampler !== undefined) parts.sampler.loadStateDict?.(meta.sampler);
  for (const [n, d] of dropouts(parts.model)) if (meta.rng?.[n]) d.setRngState(meta.rng[n]);
  return { epoch: meta.epoch, history: meta.history, best: meta.best ?? Infinity, bad: meta.bad };
}
