import { noGrad, Tensor } from '../core/tensor.js';
import { withScope } from '../core/arena.js';
import { add, crossEntropy } from '../ops/index.js';
import { Dropout, Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedule.js';
import { DataLoader, type ImageDataset } from '../data/dataset.js';
import { decodeSafetensors, encodeSafetensors, tensorsOf } from '../io/safetensors.js';
import { argmax, evaluate } from './metrics.js';
import { Progress, type ProgressSink } from './progress.js';
import { checkDistill, distillLoss, type DistillOptions } from './distill.js';

export interface EpochLog {
  epoch: number; lr: number; loss: number; accuracy: number; seconds: number; samplesPerSecond: number;
  valLoss?: number; valAccuracy?: number; valBalancedAccuracy?: number;
}

export interface Callback {
  onEpochBegin?(epoch: number): void;
  onBatchEnd?(info: { epoch: number; batch: number; loss: number }): void;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?(log: EpochLog): void | 'stop';
}

/** Where checkpoints go (a file in Node: see node.ts fileCheckpoint). */
export interface CheckpointStore {
  save(bytes: Uint8Array): void;
  load(): Uint8Array | null;
}

export interface FitOptions {
  train: ImageDataset;
  validation?: ImageDataset;
  epochs: number;
  batchSize: number;
  optimizer: Optimizer;
  seed?: number;
  /** Sample shape the model takes (e.g. [784] for an MLP); defaults to the data's. */
  inputShape?: number[];
  /** Learning rate per epoch (0-based); the optimizer's lr when omitted. */
  schedule?: Schedule;
  callbacks?: Callback[];
  earlyStopping?: { patience: number; minDelta?: number; monitor?: 'valLoss' | 'valAccuracy' };
  checkpoint?: CheckpointStore;
  /** Continue from the checkpoint's last completed epoch. */
  resume?: boolean;
  /** Progress output (stderr in the CLI); none when omitted. */
  progress?: ProgressSink;
  dropLast?: boolean;
  /** Extra scalar loss added to the cross-entropy of every step (Keras's add_loss), e.g. a pruning penalty. */
  regularizer?: () => Tensor;
  /** Knowledge distillation from a trained teacher (fine-tuning a compressed copy of it): see distillLoss. */
  distill?: DistillOptions;
}

export interface FitResult {
  history: EpochLog[];
  epochsRun: number;
  finalLoss: number;
  /** Seconds spent in training steps (evaluation excluded), summed over this call's epochs. */
  trainSeconds: number;
  samplesPerSecond: number;
  stoppedEarly: boolean;
  resumedFromEpoch: number;
}

/** Raised when the loss becomes NaN or infinite: names the step and the layer. */
export class NonFiniteLossError extends Error {}

function dropouts(model: Module): [string, Dropout][] {
  return model.namedModules().filter((e): e is [string, Dropout] => e[1] instanceof Dropout);
}

function diagnose(model: Module, x: Tensor, epoch: number, step: number, loss: number): NonFiniteLossError {
  let where = '';
  const badParam = model.namedParameters().find(([, p]) => p.data.some((v) => !Number.isFinite(v)));
  if (badParam) where = `parameter ${badParam[0]} holds non-finite values`;
  else if (model instanceof Sequential) {
    const hit = noGrad(() => model.firstNonFinite(x));
    if (hit) where = `first non-finite output at layer ${hit.index} (${hit.layer})`;
  }
  return new NonFiniteLossError(`loss became ${loss} at epoch ${epoch}, step ${step}${where ? `: ${where}` : ''}; lower the learning rate or check the input data`);
}

/**
 * Train a classifier with cross-entropy by backpropagation: seeded shuffling, callbacks,
 * early stopping, a checkpoint after every epoch, and resume with the same result as an
 * uninterrupted run (data order depends only on seed and epoch; optimizer, buffers and
 * dropout streams are restored).
 */
export function fit(model: Module, opts: FitOptions): FitResult {
  const { epochs, batchSize, optimizer } = opts;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  const seed = opts.seed ?? 0;
  const loader = new DataLoader(opts.train, { batchSize, shuffle: true, seed, dropLast: opts.dropLast, shape: opts.inputShape });
  if (loader.length === 0) throw new Error(`no training batches: ${opts.train.count} samples with batch size ${batchSize} and drop-last`);
  const history: EpochLog[] = [];
  let start = 0, best = Infinity, bad = 0;
  const monitor = opts.earlyStopping?.monitor ?? 'valLoss';
  if (opts.earlyStopping && !opts.validation) throw new Error('early stopping needs a validation set');
  if (opts.distill) checkDistill(opts.distill);

  if (opts.resume && opts.checkpoint) {
    const bytes = opts.checkpoint.load();
    if (bytes) {
      const st = restore(model, optimizer, bytes);
      start = st.epoch; history.push(...st.history); best = st.best; bad = st.bad;
    }
  }
  const progress = opts.progress ? new Progress(opts.progress, batchSize) : null;
  let trainSeconds = 0, trainSamples = 0, stoppedEarly = false;

  for (let epoch = start; epoch < epochs; epoch++) {
    if (opts.schedule) optimizer.lr = opts.schedule(epoch);
    for (const cb of opts.callbacks ?? []) cb.onEpochBegin?.(epoch);
    model.train();
    const t0 = performance.now();
    let lossSum = 0, correct = 0, seen = 0, step = 0;
    for (const { x, y } of loader.batches(epoch)) {
      // One step in a pooled scope: its activations and gradients are recycled next step.
      const lv = withScope(() => {
        const logits = model.forward(x);
        const ce = opts.distill ? distillLoss(logits, y, x, opts.distill) : crossEntropy(logits, y);
        const loss = opts.regularizer ? add(ce, opts.regularizer()) : ce;
        const v = loss.item();
        if (!Number.isFinite(v)) throw diagnose(model, x, epoch + 1, step + 1, v);
        const pred = argmax(logits);
        for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) correct++;
        optimizer.zeroGrad();
        loss.backward();
        optimizer.step();
        optimizer.zeroGrad(); // the gradients' arrays go back to the pool with the scope
        return v;
      });
      lossSum += lv * y.length; seen += y.length; step++;
      for (const cb of opts.callbacks ?? []) cb.onBatchEnd?.({ epoch, batch: step, loss: lv });
      progress?.update({ epoch: epoch + 1, epochs, batch: step, batches: loader.length, loss: lossSum / seen,
        accuracy: correct / seen, samplesPerSecond: seen / ((performance.now() - t0) / 1000) });
    }
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds; trainSamples += seen;
    const log: EpochLog = { epoch: epoch + 1, lr: optimizer.lr, loss: lossSum / seen, accuracy: correct / seen, seconds, samplesPerSecond: seen / seconds };
    if (opts.validation) {
      const v = evaluate(model, opts.validation, { shape: opts.inputShape });
      log.valLoss = v.loss; log.valAccuracy = v.accuracy; log.valBalancedAccuracy = v.balancedAccuracy;
    }
    history.push(log);
    progress?.line(`epoch ${log.epoch}/${epochs} loss ${log.loss.toFixed(4)} acc ${(100 * log.accuracy).toFixed(2)}%` +
      (log.valAccuracy !== undefined ? ` val_loss ${log.valLoss!.toFixed(4)} val_acc ${(100 * log.valAccuracy).toFixed(2)}%` : '') +
      ` ${Math.round(log.samplesPerSecond)} samples/s`);
    let stop = false;
    for (const cb of opts.callbacks ?? []) if (cb.onEpochEnd?.(log) === 'stop') stop = true;
    if (opts.earlyStopping) {
      const value = monitor === 'valLoss' ? log.valLoss! : -log.valAccuracy!;
      if (value < best - (opts.earlyStopping.minDelta ?? 0)) { best = value; bad = 0; } else if (++bad >= opts.earlyStopping.patience) stop = true;
    }
    opts.checkpoint?.save(snapshot(model, optimizer, { epoch: epoch + 1, history, best, bad }));
    if (stop) { stoppedEarly = epoch + 1 < epochs; break; }
  }
  const last = history[history.length - 1];
  return {
    history, epochsRun: history.length, finalLoss: last?.loss ?? NaN, trainSeconds,
    samplesPerSecond: trainSeconds > 0 ? trainSamples / trainSeconds : 0, stoppedEarly, resumedFromEpoch: start,
  };
}

interface TrainState { epoch: number; history: EpochLog[]; best: number; bad: number }

function snapshot(model: Module, optimizer: Optimizer, st: TrainState): Uint8Array {
  const entries: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(model.stateDict())) entries[`model.${k}`] = t;
  const os = optimizer.stateDict();
  for (const [k, t] of Object.entries(os.tensors)) entries[`optim.${k}`] = t;
  const rng = Object.fromEntries(dropouts(model).map(([n, d]) => [n, d.rngState()]));
  return encodeSafetensors(entries, {
    'frugal.checkpoint': JSON.stringify({ ...st, best: Number.isFinite(st.best) ? st.best : null, stepCount: os.stepCount, lr: os.lr, rng }),
  });
}

function restore(model: Module, optimizer: Optimizer, bytes: Uint8Array): TrainState {
  const { entries, metadata } = decodeSafetensors(bytes, 'checkpoint');
  const meta = JSON.parse(metadata['frugal.checkpoint'] ?? 'null');
  if (!meta) throw new Error('checkpoint has no frugal.checkpoint metadata');
  const tensors = tensorsOf(entries);
  const ms: Record<string, Tensor> = {}, os: Record<string, Tensor> = {};
  for (const [k, t] of Object.entries(tensors)) {
    if (k.startsWith('model.')) ms[k.slice(6)] = t; else if (k.startsWith('optim.')) os[k.slice(6)] = t;
  }
  model.loadStateDict(ms);
  optimizer.loadStateDict({ stepCount: meta.stepCount, lr: meta.lr, tensors: os });
  for (const [n, d] of dropouts(model)) if (meta.rng?.[n]) d.setRngState(meta.rng[n]);
  return { epoch: meta.epoch, history: meta.history, best: meta.best ?? Infinity, bad: meta.bad };
}
