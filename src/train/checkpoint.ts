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

/** Where a run stopped inside an epoch: enough to continue it exactly (see fit's `signal`). */
export interface MidEpoch {
  /** Batches of the epoch done. */
  batch: number;
  /** The epoch's running sums (loss, seen, correct, …) so its log is the uninterrupted one. */
  tally: Record<string, unknown>;
  /** The feedback the sampler received during the epoch, in order (empty when it takes none). */
  feedback: { index: number[]; loss: number[]; bound?: number[] }[];
  /** The sampler's state at the epoch's start, from which the epoch's batches are drawn again. */
  samplerAtStart?: unknown;
}

/** The loop's own state: after `epoch` epochs, plus the part of the next one done when `mid` is set. */
export interface LoopState {
  epoch: number;
  history: EpochLog[];
  best: number;
  bad: number;
  mid?: MidEpoch;
  /** The run's settings (fit's `config`), compared by a resuming program. */
  config?: Record<string, unknown>;
}

/** Everything a checkpoint restores: the model, other modules a step trains, every optimizer, the sampler. */
export interface TrainingParts {
  model: Module;
  /** Modules a step trains besides the model (fit's `modules`), saved under `module:NAME.`. */
  modules: Record<string, Module>;
  optimizers: Record<string, Optimizer>;
  sampler: Sampler;
}

/**
 * Every trainable tensor, in a fixed order: the model's parameters, then each extra module's by name.
 * Optimizer state is saved by position in this list, not in the optimizer's own order, so that the
 * same model built with other parameter groups (or by an earlier version, before groups) resumes it.
 */
export function paramIndex(parts: TrainingParts): Map<Tensor, number> {
  const all = [
    ...parts.model.parameters(),
    ...Object.keys(parts.modules)
      .sort()
      .flatMap((k) => parts.modules[k].parameters()),
  ];
  return new Map(all.map((t, i) => [t, i]));
}

function dropouts(model: Module): [string, Dropout][] {
  return model.namedModules().filter((e): e is [string, Dropout] => e[1] instanceof Dropout);
}

/** Tensor-name prefix of an optimizer's state: 'optim.' for the default one, as files before named optimizers. */
function prefixOf(name: string): string {
  return name === 'default' ? 'optim.' : `optim:${name}.`;
}

/** Refuses, before training, optimizers that train tensors a checkpoint could not restore. */
export function checkCheckpointable(parts: TrainingParts): void {
  const index = paramIndex(parts);
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    if (opt.params.some((p) => !index.has(p))) {
      throw new Error(
        `optimizer '${name}' trains a tensor that is neither a parameter of the model nor of fit's \`modules\`; ` +
          'pass the module that owns it in `modules`, so checkpoints can save and restore it',
      );
    }
  }
}

export function snapshot(parts: TrainingParts, st: LoopState): Uint8Array {
  const entries: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(parts.model.stateDict())) entries[`model.${k}`] = t;
  for (const [m, mod] of Object.entries(parts.modules)) {
    for (const [k, t] of Object.entries(mod.stateDict())) entries[`module:${m}.${k}`] = t;
  }
  const index = paramIndex(parts);
  const optim: Record<string, { stepCount: number; lr: number }> = {};
  for (const [name, opt] of Object.entries(parts.optimizers)) {
    const os = opt.stateDict();
    for (const [k, t] of Object.entries(os.tensors)) {
      const dot = k.indexOf('.'),
        p = opt.params[Number(k.slice(0, dot))];
      const at = index.get(p);
      if (at === undefined) {
        throw new Error(
          `optimizer '${name}' trains a tensor that is neither a parameter of the model nor of fit's \`modules\`; ` +
            'pass the module that owns it in `modules`, so checkpoints can save and restore it',
        );
      }
      entries[`${prefixOf(name)}${at}${k.slice(dot)}`] = t;
    }
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
  for (const [m, mod] of Object.entries(parts.modules)) {
    const p = `module:${m}.`,
      sd: Record<string, Tensor> = {};
    for (const [k, t] of Object.entries(tensors)) if (k.startsWith(p)) sd[k.slice(p.length)] = t;
    if (!Object.keys(sd).length)
      throw new Error(`the checkpoint has no state for module '${m}'; it was written by another setup`);
    mod.loadStateDict(sd);
  }
  const all = [...paramIndex(parts).keys()];
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
    // Saved by position among all trainable tensors; the optimizer keys its state by its own order.
    for (const [k, t] of Object.entries(tensors)) {
      if (!k.startsWith(p)) continue;
      const rest = k.slice(p.length),
        dot = rest.indexOf('.'),
        at = Number(rest.slice(0, dot));
      const own = opt.params.indexOf(all[at]);
      if (own < 0)
        throw new Error(`optimizer '${name}' state ${rest} belongs to a tensor this optimizer does not train`);
      os[`${own}${rest.slice(dot)}`] = t;
    }
    opt.loadStateDict({ stepCount: s.stepCount, lr: s.lr, tensors: os });
  }
  if (meta.sampler !== undefined) parts.sampler.loadStateDict?.(meta.sampler);
  for (const [n, d] of dropouts(parts.model)) if (meta.rng?.[n]) d.setRngState(meta.rng[n]);
  return { epoch: meta.epoch, history: meta.history, best: meta.best ?? Infinity, bad: meta.bad, mid: meta.mid };
}

/**
 * What a checkpoint file says about its run, without building anything: epochs done, the batch of the
 * next epoch reached (0 at an epoch's end), the history and the settings fit() was given as `config`.
 */
export function checkpointInfo(bytes: Uint8Array): {
  epoch: number;
  batch: number;
  history: EpochLog[];
  config?: Record<string, unknown>;
} {
  const { metadata } = decodeSafetensors(bytes, 'checkpoint');
  const meta = JSON.parse(metadata['frugal.checkpoint'] ?? 'null');
  if (!meta) throw new Error('checkpoint has no frugal.checkpoint metadata');
  return { epoch: meta.epoch, batch: meta.mid?.batch ?? 0, history: meta.history ?? [], config: meta.config };
}
