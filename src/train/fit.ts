import { noGrad, Tensor } from '../core/tensor.js';
import { withScope } from '../core/arena.js';
import { Sequential } from '../nn/layers.js';
import type { Module } from '../nn/module.js';
import type { Optimizer } from '../optim/optimizer.js';
import type { Schedule } from '../optim/schedule.js';
import { DataLoader, type ImageDataset } from '../data/dataset.js';
import { shuffleSampler, type Sampler } from '../data/sampler.js';
import { argmax, evaluate } from './metrics.js';
import { Progress, type ProgressSink } from './progress.js';
import { backprop, type StepContext, type TrainStep } from './step.js';
import {
  checkCheckpointable,
  restore,
  snapshot,
  type CheckpointStore,
  type MidEpoch,
  type TrainingParts,
} from './checkpoint.js';
import { defaultStopSignal, TrainingInterrupted, type StopSignal } from './stop.js';

export type { CheckpointStore } from './checkpoint.js';

export interface EpochLog {
  epoch: number;
  lr: number;
  loss: number;
  accuracy: number;
  seconds: number;
  samplesPerSecond: number;
  valLoss?: number;
  valAccuracy?: number;
  valBalancedAccuracy?: number;
  /** Per-sample means of the metrics the step reported, when it reported any. */
  metrics?: Record<string, number>;
  /** The sampler's statistics for the epoch (see Sampler.epochStats). */
  sampler?: Record<string, unknown>;
}

export interface Callback {
  /** `info.batch`: batches of this epoch already done (0, or where a run stopped mid-epoch resumes). */
  onEpochBegin?(epoch: number, info?: { batch: number }): void;
  onBatchEnd?(info: { epoch: number; batch: number; loss: number }): void;
  /** Return 'stop' to end training after this epoch. */
  onEpochEnd?(log: EpochLog): void | 'stop';
}

export interface FitOptions {
  train: ImageDataset;
  validation?: ImageDataset;
  epochs: number;
  batchSize: number;
  /** The optimizer of the default step; a custom step may use it, several, or none. */
  optimizer?: Optimizer;
  /** More optimizers by name, for steps that update several modules (all are checkpointed). */
  optimizers?: Record<string, Optimizer>;
  /** Modules a step trains besides `model` (a critic, a teacher being co-trained), checkpointed with it. */
  modules?: Record<string, Module>;
  /** One training step (default: backprop(), cross-entropy → backward → optimizer step). */
  step?: TrainStep;
  /** Which rows form each batch (default: shuffleSampler(seed)); its observe() gets per-sample losses. */
  sampler?: Sampler;
  seed?: number;
  /** Sample shape the model takes (e.g. [784] for an MLP); defaults to the data's. */
  inputShape?: number[];
  /** Learning rate per epoch (0-based) of `optimizer`; its own lr when omitted. */
  schedule?: Schedule;
  callbacks?: Callback[];
  earlyStopping?: { patience: number; minDelta?: number; monitor?: 'valLoss' | 'valAccuracy' };
  checkpoint?: CheckpointStore;
  /** Continue from the checkpoint (an epoch's end, or the batch where a stopped run ended). */
  resume?: boolean;
  /**
   * Stop request, read before every step (an AbortSignal works; default: setDefaultStopSignal's).
   * When raised, fit finishes the current step, writes a checkpoint at this batch (with `checkpoint`)
   * and throws TrainingInterrupted; `resume` then continues exactly where it stopped.
   */
  signal?: StopSignal;
  /** The run's settings, kept in every checkpoint (checkpointInfo reads them) so a resume can be checked. */
  config?: Record<string, unknown>;
  /**
   * Progress output. Omitted: a bar on stderr when stderr is a terminal (Keras's verbose=1), nothing
   * otherwise (logs, tests, browsers); `false`: silent; a sink (the CLI gives stderr): always, there.
   */
  progress?: ProgressSink | false;
  dropLast?: boolean;
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

function diagnose(model: Module, x: Tensor, epoch: number, step: number, loss: number): NonFiniteLossError {
  let where = '';
  const badParam = model.namedParameters().find(([, p]) => p.data.some((v) => !Number.isFinite(v)));
  if (badParam) where = `parameter ${badParam[0]} holds non-finite values`;
  else if (model instanceof Sequential) {
    const hit = noGrad(() => model.firstNonFinite(x));
    if (hit) where = `first non-finite output at layer ${hit.index} (${hit.layer})`;
  }
  return new NonFiniteLossError(
    `loss became ${loss} at epoch ${epoch}, step ${step}${where ? `: ${where}` : ''}; lower the learning rate or ` +
      `check the input data`,
  );
}

function optimizersOf(opts: FitOptions): Record<string, Optimizer> {
  // Options of fit() before training steps: refused by name rather than silently ignored.
  const old = opts as { distill?: unknown; regularizer?: unknown };
  if (old.distill !== undefined) {
    throw new Error(
      'fit: `distill` is now a loss of the step: step: backprop({ loss: distillation({ ' + 'teacher, … }) })',
    );
  }
  if (old.regularizer !== undefined) {
    throw new Error('fit: `regularizer` is now an option of the step: step: backprop({ regularizer })');
  }
  const all: Record<string, Optimizer> = {};
  if (opts.optimizer) all.default = opts.optimizer;
  for (const [name, o] of Object.entries(opts.optimizers ?? {})) {
    if (name === 'default')
      throw new Error("fit: 'default' names the optimizer given as `optimizer`; pick another name");
    all[name] = o;
  }
  if (!opts.step && !all.default)
    throw new Error('fit: the default (backprop) step needs an optimizer; pass `optimizer`');
  if (opts.schedule && !opts.optimizer)
    throw new Error('fit: a schedule sets the lr of `optimizer`, and none was given');
  return all;
}

/** Sums over one epoch's steps. */
class EpochTally {
  loss = 0;
  seen = 0;
  correct = 0;
  counted = 0;
  steps = 0;
  metrics: Record<string, number> = {};
  add(n: number, loss: number, correct: number | null, metrics?: Record<string, number>): void {
    this.loss += loss * n;
    this.seen += n;
    this.steps++;
    if (correct !== null) {
      this.correct += correct;
      this.counted += n;
    }
    for (const [k, v] of Object.entries(metrics ?? {})) this.metrics[k] = (this.metrics[k] ?? 0) + v * n;
  }
  get accuracy(): number {
    return this.counted ? this.correct / this.counted : NaN;
  }
  meanMetrics(): Record<string, number> | undefined {
    const keys = Object.keys(this.metrics);
    return keys.length ? Object.fromEntries(keys.map((k) => [k, this.metrics[k] / this.seen])) : undefined;
  }
}

/** Pass a step's per-sample feedback to the sampler, naming the step if the sampler refuses it. */
function feed(
  sampler: Sampler,
  index: Int32Array,
  r: { perSample?: Float32Array; gradNormBound?: Float32Array },
  epoch: number,
  step: number,
): void {
  if (!sampler.observe) return;
  if (!r.perSample) {
    if (sampler.requiresFeedback) {
      throw new Error(
        `epoch ${epoch}, step ${step}: the sampler needs per-sample losses and the training step gave none; ` +
          'return perSampleLoss from the step (backprop() does) or use a sampler without feedback',
      );
    }
    return;
  }
  if (sampler.wants?.gradNormBound && !r.gradNormBound) {
    throw new Error(
      `epoch ${epoch}, step ${step}: the sampler needs gradNormBound and the training step gave none; ` +
        'return it from the step (backprop() does)',
    );
  }
  try {
    sampler.observe(index, r.perSample, r.gradNormBound ? { gradNormBound: r.gradNormBound } : undefined);
  } catch (e) {
    throw new Error(`epoch ${epoch}, step ${step}: ${(e as Error).message}`);
  }
}

function countCorrect(output: Tensor | undefined, y: Int32Array): number | null {
  if (!output || output.rank !== 2 || output.shape[0] !== y.length) return null;
  const pred = argmax(output);
  let c = 0;
  for (let i = 0; i < y.length; i++) if (pred[i] === y[i]) c++;
  return c;
}

function epochLine(log: EpochLog, epochs: number): string {
  return (
    `epoch ${log.epoch}/${epochs} loss ${log.loss.toFixed(4)}` +
    (Number.isFinite(log.accuracy) ? ` acc ${(100 * log.accuracy).toFixed(2)}%` : '') +
    (log.valAccuracy !== undefined
      ? ` val_loss ${log.valLoss!.toFixed(4)} val_acc ${(100 * log.valAccuracy).toFixed(2)}%`
      : '') +
    ` ${Math.round(log.samplesPerSecond)} samples/s`
  );
}

/**
 * Train a model by running a TrainStep on every mini-batch (default: cross-entropy by
 * backpropagation): sampler-driven batches, callbacks, validation, early stopping, a checkpoint
 * after every epoch, and resume with the same result as an uninterrupted run (data order depends
 * only on seed, epoch and the sampler's saved state; optimizers, buffers and dropout streams
 * are restored).
 */
export function fit(model: Module, opts: FitOptions): FitResult {
  const { epochs, batchSize } = opts;
  if (!Number.isInteger(epochs) || epochs < 1) throw new Error(`epochs must be a positive integer, got ${epochs}`);
  const optimizers = optimizersOf(opts),
    optimizer = opts.optimizer;
  const step = opts.step ?? backprop();
  const sampler = opts.sampler ?? shuffleSampler(opts.seed ?? 0);
  const loader = new DataLoader(opts.train, { batchSize, sampler, dropLast: opts.dropLast, shape: opts.inputShape });
  if (loader.length === 0)
    throw new Error(`no training batches: ${opts.train.count} samples with batch size ${batchSize} and drop-last`);
  if (opts.earlyStopping && !opts.validation) throw new Error('early stopping needs a validation set');
  const parts: TrainingParts = { model, modules: opts.modules ?? {}, optimizers, sampler };
  if (opts.checkpoint) checkCheckpointable(parts);
  const history: EpochLog[] = [];
  let start = 0,
    best = Infinity,
    bad = 0;
  const monitor = opts.earlyStopping?.monitor ?? 'valLoss';

  let mid: MidEpoch | undefined;
  if (opts.resume && opts.checkpoint) {
    const bytes = opts.checkpoint.load();
    if (bytes) {
      const st = restore(parts, bytes);
      start = st.epoch;
      history.push(...st.history);
      best = st.best;
      bad = st.bad;
      mid = st.mid;
    }
  }
  const signal = opts.signal ?? defaultStopSignal();
  // A run stopped mid-epoch resumes by replaying the epoch's sampler from its state at the epoch's start with
  // the feedback it had received (the batches of epoch e depend only on that: see Sampler); so a checkpointed
  // run with a learning sampler records each step's feedback during the epoch.
  const record = !!opts.checkpoint && !!sampler.observe && !!sampler.stateDict;
  const stopAt = (epoch: number, state?: MidEpoch): never => {
    opts.checkpoint?.save(snapshot(parts, { epoch, history, best, bad, config: opts.config, mid: state }));
    throw new TrainingInterrupted(epoch + 1, state?.batch ?? 0, !!opts.checkpoint);
  };
  const sink = opts.progress === undefined ? terminalStderr() : opts.progress;
  const progress = sink ? new Progress(sink, batchSize) : null;
  let trainSeconds = 0,
    trainSamples = 0,
    stoppedEarly = false;

  for (let epoch = start; epoch < epochs; epoch++) {
    if (signal?.aborted) stopAt(epoch, mid);
    if (opts.schedule && optimizer) optimizer.lr = opts.schedule(epoch);
    const skip = mid?.batch ?? 0;
    if (mid && mid.samplerAtStart !== undefined) sampler.loadStateDict?.(mid.samplerAtStart);
    const samplerAtStart = mid ? mid.samplerAtStart : record ? structuredClone(sampler.stateDict!()) : undefined;
    const feedback = mid?.feedback ?? [];
    for (const cb of opts.callbacks ?? []) cb.onEpochBegin?.(epoch, { batch: skip });
    model.train();
    const t0 = performance.now();
    const tally = new EpochTally();
    if (mid) Object.assign(tally, mid.tally);
    mid = undefined;
    let k = 0;
    for (const batch of loader.batches(epoch)) {
      if (k++ < skip) {
        // Replayed, not trained: the sampler sees again what it saw before the stop.
        const f = feedback[k - 1];
        if (sampler.observe && f)
          sampler.observe(
            Int32Array.from(f.index),
            Float32Array.from(f.loss),
            f.bound ? { gradNormBound: Float32Array.from(f.bound) } : undefined,
          );
        continue;
      }
      const ctx: StepContext = {
        epoch,
        step: tally.steps + 1,
        optimizer,
        optimizers,
        wantsPerSampleLoss: !!sampler.observe,
        wantsGradNormBound: !!sampler.wants?.gradNormBound,
        checkLoss: (v, x) => {
          if (!Number.isFinite(v)) throw diagnose(model, x, epoch + 1, tally.steps + 1, v);
        },
      };
      // One step in a pooled scope: its activations and gradients are recycled next step.
      const r = withScope(() => {
        const out = step(model, batch, ctx);
        const loss = typeof out.loss === 'number' ? out.loss : out.loss.item();
        ctx.checkLoss(loss, batch.x);
        return {
          loss,
          correct: countCorrect(out.output, batch.y),
          perSample: out.perSampleLoss?.slice(),
          gradNormBound: out.gradNormBound?.slice(),
          metrics: out.metrics,
        };
      });
      feed(sampler, batch.index, r, epoch + 1, tally.steps + 1);
      if (record && r.perSample)
        feedback.push({
          index: Array.from(batch.index),
          loss: Array.from(r.perSample),
          ...(r.gradNormBound ? { bound: Array.from(r.gradNormBound) } : {}),
        });
      tally.add(batch.y.length, r.loss, r.correct, r.metrics);
      for (const cb of opts.callbacks ?? []) cb.onBatchEnd?.({ epoch, batch: tally.steps, loss: r.loss });
      progress?.update({
        epoch: epoch + 1,
        epochs,
        batch: tally.steps,
        batches: loader.length,
        loss: tally.loss / tally.seen,
        accuracy: tally.accuracy,
        samplesPerSecond: tally.seen / ((performance.now() - t0) / 1000),
      });
      // Stop after this step; on the epoch's last step the epoch ends first (validation, its checkpoint).
      if (signal?.aborted && tally.steps < loader.length)
        stopAt(epoch, { batch: tally.steps, tally: { ...tally }, feedback: record ? feedback : [], samplerAtStart });
    }
    const seconds = (performance.now() - t0) / 1000;
    trainSeconds += seconds;
    trainSamples += tally.seen;
    const log: EpochLog = {
      epoch: epoch + 1,
      lr: optimizer ? optimizer.lr : NaN,
      loss: tally.loss / tally.seen,
      accuracy: tally.accuracy,
      seconds,
      samplesPerSecond: tally.seen / seconds,
    };
    const metrics = tally.meanMetrics();
    if (metrics) log.metrics = metrics;
    const samplerStats = sampler.epochStats?.();
    if (samplerStats) log.sampler = samplerStats;
    if (opts.validation) {
      const v = evaluate(model, opts.validation, { shape: opts.inputShape });
      log.valLoss = v.loss;
      log.valAccuracy = v.accuracy;
      log.valBalancedAccuracy = v.balancedAccuracy;
    }
    history.push(log);
    progress?.line(epochLine(log, epochs));
    let stop = false;
    for (const cb of opts.callbacks ?? []) if (cb.onEpochEnd?.(log) === 'stop') stop = true;
    if (opts.earlyStopping) {
      const value = monitor === 'valLoss' ? log.valLoss! : -log.valAccuracy!;
      if (value < best - (opts.earlyStopping.minDelta ?? 0)) {
        best = value;
        bad = 0;
      } else if (++bad >= opts.earlyStopping.patience) stop = true;
    }
    opts.checkpoint?.save(snapshot(parts, { epoch: epoch + 1, history, best, bad, config: opts.config }));
    if (stop) {
      stoppedEarly = epoch + 1 < epochs;
      break;
    }
  }
  const last = history[history.length - 1];
  return {
    history,
    epochsRun: history.length,
    finalLoss: last?.loss ?? NaN,
    trainSeconds,
    samplesPerSecond: trainSeconds > 0 ? trainSamples / trainSeconds : 0,
    stoppedEarly,
    resumedFromEpoch: start,
  };
}

/** Node's stderr when it is a terminal (undefined in browsers or when stderr is redirected). */
function terminalStderr(): ProgressSink | undefined {
  const stderr = (globalThis as { process?: { stderr?: ProgressSink } }).process?.stderr;
  return stderr?.isTTY ? stderr : undefined;
}
