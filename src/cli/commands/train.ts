import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  buildModel,
  evaluate,
  fileCheckpoint,
  fit,
  loadModel,
  locateFashionMnist,
  referenceCnn,
  referenceMlp,
  ecgModelSpec,
  ECG_PAPER_BEST,
  saveModel,
  proximalL1,
  profiler,
  profileRows,
  validateSpec,
  backendName,
  profileModel,
  trainHtml,
  writeFileAtomic,
  type EpochLog,
  kfScorer,
  lossScorer,
  samplerByName,
  type ModelSpec,
  type Module,
  type Sequential,
} from '../../node.js';
import { choice, DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { checkDataFitsModel, dataMetadata, fitBuiltinOutputs, trainingData } from '../data.js';
import { HSIC_OPTIONS, HSIC_USAGE, refuseHsicFlags, runHsic } from './train-hsic.js';
import {
  DATA,
  DATA_DEFAULTS,
  SAMPLING,
  TRAINING,
  groupOptions,
  groupUsage,
  makeOptimizer,
  makeSchedule,
  readDataset,
  readLimit,
  readSampling,
  readTraining,
} from '../option-groups.js';
import { checkOutputDir, modelName, runOutput } from '../output.js';
import { storeRun } from '../store.js';
import { gitCommit } from '../../reproduce/results.js';
import { checkResume } from '../resume.js';

/** The data and training flags `train` takes (all of them; the others are its own). */
const FLAGS = [...Object.keys(DATA), ...Object.keys(TRAINING), ...Object.keys(SAMPLING)] as (
  keyof typeof DATA | keyof typeof TRAINING | keyof typeof SAMPLING
)[];
const OPTIMIZERS = ['sgd', 'adam', 'adamw'] as const;

export const usage = `${groupUsage('frugal train --model cnn|mlp|ecg|SPEC.json [--out PATH]', FLAGS, OPTIMIZERS, [
  '[--l1 LAMBDA]',
  '[--profile]',
  '[--keep-best]',
  '[--report DIR]',
  '[--store PATH]',
  '[--trainer backprop|hsic]',
  '[--sigma S]',
  '[--beta B]',
  '[--format-epochs E]',
  '[--format-lr X]',
  '[--json]',
])}
  Train a classifier; prints test accuracy. --dataset: fashion-mnist; idx:DIR (an IDX pair NAME-images-idx3-ubyte
  + NAME-labels-idx1-ubyte, a t10k/test pair as the test set, names in DIR/classes.txt); csv:FILE (one row per
  sample: the label column, --label-column K, and numeric features used as given; a header row is detected or
  set by --csv-header); folder:DIR (a sub-folder of PNG/JPEG images per class, resized by area averaging to the
  first image's size, gray unless some image has colour; DIR/train and DIR/test when both exist); digits
  (scikit-learn's 8x8 digits, from Debian's python3-sklearn). Without a test part, a seeded 20% is held out
  (the same rows every time: eval finds it again). The model file keeps the dataset and its class names.
  Trained by backprop, --model cnn|mlp end in one output per class (10 for Fashion-MNIST); a SPEC.json is kept.
  --limit N trains on the first N training images (before --val-split takes its part of them); the test set
  stays whole. Without --out the model goes to a new file
  runs/NAME-YYYYMMDD-HHMMSS.safetensors (never over an existing one), and the path is printed.
  A checkpoint (PATH.ckpt) is written after every epoch;
  --resume continues a killed run from it with the same result as an uninterrupted run.
  --profile prints the time spent per op kind, forward and backward.
  --l1 adds λ·‖w‖₁ over conv and linear weights, applied by soft-thresholding after each step,
  so weights reach exactly zero (frugal info counts them; frugal compact can then shrink the model).
  --sampler picks the rows of each mini-batch (spec 10): uniform (default: a fresh shuffle every
  epoch, as before), obs (Loshchilov & Hutter: every row re-scored by its loss each epoch, ranked,
  p ∝ exp(−r·ln100/n); BIASED, no weights), kf (Katharopoulos & Fleuret: presample 3b rows, score
  them by ‖softmax(z)−e_y‖ in an extra forward pass, draw b ∝ score), as (adaptive sampling over the
  class strata, p_k ∝ w_k·G_k), ras (RAS-R1: (1−λ)·p* + λ·w, λ = --sampler-lambda, default 0.2),
  ras-kl (RAS-R2, a KL regulariser of weight λ) or ras-floor (RAS-R3, p_k ≥ λ·w_k). as, ras, ras-kl,
  ras-floor and kf weight each drawn row's loss by its importance
  weight, so training stays unbiased; --json's history holds each epoch's sampler statistics
  (max weight, effective sample size, per-stratum p, estimate ages, extra forward rows).
  --report DIR writes DIR/report.html (loss and accuracy curves, per-layer table, test confusion matrix as a
  heat map; one self-contained file) and DIR/report.json. --store PATH records the run (command, commit, spec,
  metrics, curves) in a SQLite run store that frugal runs list|show|diff reads.
  --dataset ecg-synthetic trains on spec 09's generated 5-s ECG strips (720 + 3170 shockable + non-shockable,
  test 200 + 1600; label 0 shockable) instead of Fashion-MNIST; --model ecg is the 7,521-parameter 1-D CNN
  of Krasteva et al. (2020) for it.
${HSIC_USAGE}
${defaultsText([
  '--out runs/NAME-YYYYMMDD-HHMMSS.safetensors',
  ...DATA_DEFAULTS,
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--limit all',
  '--epochs 5',
  '--batch-size 128 (mlp) or 64 (256 with hsic)',
  '--optimizer adam (sgd with hsic)',
  '--lr 1e-3 (0.01 with sgd)',
  '--momentum 0.9 with sgd (0 otherwise)',
  '--weight-decay 0 (1e-3 with hsic; 0.01 with adamw)',
  '--schedule none',
  '--val-split 0 (none)',
  '--early-stopping off',
  '--seed 1',
  '--sampler uniform',
  '--sampler-lambda 0.2',
  '--l1 0 (off)',
  '--trainer backprop',
  '--sigma 6',
  '--beta 1000',
  '--format-epochs 1',
  '--format-lr 0.01',
  '--report none',
  '--store none (not recorded)',
])}`;

const options: Options = {
  ...groupOptions(FLAGS),
  model: { type: 'string' },
  out: { type: 'string' },
  profile: { type: 'boolean', default: false },
  'keep-best': { type: 'boolean', default: false },
  report: { type: 'string' },
  store: { type: 'string' },
  l1: { type: 'string' },
  ...HSIC_OPTIONS,
};

/** The spec named by --model: a built-in name or a JSON file. */
export function resolveModel(name: string | undefined): { spec: ModelSpec; label: string } {
  if (!name) throw new UsageError('--model is required (cnn, mlp, ecg or a SPEC.json file)');
  if (name === 'cnn') return { spec: referenceCnn, label: 'cnn' };
  if (name === 'mlp') return { spec: referenceMlp, label: 'mlp' };
  // The best 1-D CNN of Krasteva et al. 2020 (7521 parameters), for --dataset ecg-synthetic.
  if (name === 'ecg') return { spec: ecgModelSpec(ECG_PAPER_BEST), label: 'ecg' };
  if (!name.endsWith('.json'))
    throw new UsageError(`--model must be cnn, mlp, ecg or a .json model spec, got ${JSON.stringify(name)}`);
  if (!existsSync(name)) throw new Error(`model spec file ${name} does not exist`);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(name, 'utf8'));
  } catch (e) {
    throw new Error(`model spec ${name} is not valid JSON: ${(e as Error).message}`);
  }
  return { spec: validateSpec(raw), label: name };
}

/** Ctrl-C stops the run at a checkpoint (main.ts runs it on a worker thread). */
export const interruptible = true;

export async function run(argv: string[]): Promise<number> {
  const { values } = parse(argv, options);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const json = !!values.json;
  const named = resolveModel(values.model as string | undefined),
    label = named.label;
  let spec = named.spec;
  const reportDir = values.report === undefined ? undefined : checkOutputDir('--report', values.report as string);
  if (choice(values, 'trainer', ['backprop', 'hsic'] as const, 'backprop') === 'hsic' && (reportDir || values.store))
    throw new UsageError('--report and --store record backprop training; the hsic trainer does not take them yet');
  if (choice(values, 'trainer', ['backprop', 'hsic'] as const, 'backprop') === 'hsic')
    return runHsic(values, spec, label);
  refuseHsicFlags(values);
  const dataset = readDataset(values);
  const isMlp = spec.input.length === 1;
  const t = readTraining(values, {
    epochs: 5,
    batchSize: isMlp ? 128 : 64,
    optimizers: OPTIMIZERS,
    optimizer: 'adam',
    schedule: 'none',
  });
  const sampling = readSampling(values);
  const l1 = num(values, 'l1', 0, { min: 0 });
  const limit = readLimit(values);
  const { epochs, batchSize, optimizer: optName, lr, seed, valSplit, patience } = t;
  const out = runOutput(values, modelName(label));
  const ckptPath = `${out}.ckpt`;
  if (values['keep-best'] && !valSplit)
    throw new UsageError('--keep-best needs --val-split (a validation set to judge)');
  // What a resumed run must share with the first (--epochs may grow: the run then goes on longer).
  const config = {
    model: label,
    spec,
    dataset,
    'data-dir':
      dataset === 'fashion-mnist' ? locateFashionMnist(values['data-dir'] as string | undefined).dir : dataset,
    ...(dataset.startsWith('csv:')
      ? { 'csv-header': values['csv-header'], 'label-column': values['label-column'] }
      : {}),
    limit,
    'batch-size': batchSize,
    optimizer: optName,
    lr,
    momentum: t.momentum,
    'weight-decay': t.weightDecay,
    schedule: t.schedule,
    'val-split': valSplit,
    seed,
    sampler: sampling.sampler,
    'sampler-lambda': sampling.lambda,
    l1,
  };
  const resumed = values.resume ? checkResume(ckptPath, config) : undefined;

  const t0 = performance.now();
  const { data, train, validation, samples } = trainingData(values, { limit, valSplit, seed });
  spec = fitBuiltinOutputs(spec, label, data);
  checkDataFitsModel(spec, data);

  const model = buildModel(spec, seed);
  const optimizer = makeOptimizer(optName, model, lr, t.momentum, t.weightDecay);
  const schedule = makeSchedule(t);
  const inputShape = spec.input;
  if (values.profile) {
    profiler.reset();
    profiler.enabled = true;
  }
  // Strata are the training labels (after --limit and --val-split); kf and obs score rows with this model.
  const sampler = samplerByName(sampling.sampler, {
    seed,
    strata: train.labels,
    lambda: sampling.lambda,
    score: kfScorer(model, train, { shape: inputShape }),
    lossScore: lossScorer(model, train, { shape: inputShape }),
  });
  const best = values['keep-best'] ? keepBest(model, spec, `${out}.best`, resumed?.history ?? []) : undefined;
  const result = fit(model, {
    sampler,
    train,
    validation,
    epochs,
    batchSize,
    optimizer,
    seed,
    inputShape,
    schedule,
    earlyStopping: patience ? { patience, monitor: 'valLoss' } : undefined,
    callbacks: [...(l1 > 0 ? [proximalL1(model, { lambda: l1, optimizer })] : []), ...(best ? [best.callback] : [])],
    checkpoint: fileCheckpoint(ckptPath),
    config,
    resume: !!values.resume,
    progress: process.stderr,
  });
  profiler.enabled = false;
  if (best?.restore()) note(`frugal: --keep-best: the model of epoch ${best.epoch} (validation accuracy highest)`);
  const profile = values.profile ? profileRows() : undefined;
  if (profile) note(formatOpProfile(profile));
  const test = evaluate(model, data.test, { shape: inputShape });
  const seconds = (performance.now() - t0) / 1000;
  const training = {
    model: label,
    dataset,
    dataSource: data.source,
    epochs: result.epochsRun,
    batchSize,
    optimizer: optName,
    lr,
    seed,
    testAccuracy: test.accuracy,
    finalLoss: result.finalLoss,
    ...dataMetadata(data),
  };
  saveModel(out, model, spec, training);
  const res = {
    command: 'train',
    model: label,
    dataset,
    dataSource: data.source,
    dataDir: data.dir,
    samples,
    backend: backendName(),
    epochs: result.epochsRun,
    batchSize,
    optimizer: optName,
    lr,
    seed,
    sampler: sampling.sampler,
    samplerLambda: sampling.lambda,
    testAccuracy: test.accuracy,
    testBalancedAccuracy: test.balancedAccuracy,
    testLoss: test.loss,
    finalLoss: result.finalLoss,
    l1,
    zeroWeights: l1 > 0 ? zeroWeights(model) : undefined,
    seconds,
    trainSeconds: result.trainSeconds,
    samplesPerSecond: result.samplesPerSecond,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
    profile,
    stoppedEarly: result.stoppedEarly,
    resumedFromEpoch: result.resumedFromEpoch,
    bestEpoch: best?.epoch,
    out,
    checkpoint: ckptPath,
    history: result.history,
  };
  if (reportDir) await writeTrainReport(reportDir, res, model, spec, test, data.classNames);
  const store = values.store as string | undefined;
  if (store) {
    const { history, profile: _p, ...rest } = res;
    void _p;
    storeRun(store, {
      command: 'train',
      name: label,
      argv,
      spec,
      config: { ...config, spec: undefined },
      metrics: {
        testAccuracy: test.accuracy,
        testBalancedAccuracy: test.balancedAccuracy,
        testLoss: test.loss,
        finalLoss: result.finalLoss,
        epochs: rest.epochs,
        seconds,
      },
      curves: history.flatMap((h) =>
        (['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const).map((key) => ({
          series: 'train',
          key,
          step: h.epoch,
          value: h[key],
        })),
      ),
    });
  }
  emit(
    json,
    res,
    [
      `test accuracy ${(100 * test.accuracy).toFixed(2)}% (balanced ` +
        `${(100 * test.balancedAccuracy).toFixed(2)}%) on ${test.count} images`,
      `final training loss ${result.finalLoss.toFixed(4)}; ${Math.round(result.samplesPerSecond)} training ` +
        `samples/s; ${seconds.toFixed(1)} s in all`,
      `saved ${out}`,
    ].join('\n'),
  );
  return 0;
}

/** --report DIR: report.json (the run's result) and report.html (curves, layers, confusion matrix). */
async function writeTrainReport(
  dir: string,
  res: {
    model: string;
    dataset: string;
    history: EpochLog[];
    testAccuracy: number;
    testBalancedAccuracy: number;
  } & Record<string, unknown>,
  model: Sequential,
  spec: ModelSpec,
  test: ReturnType<typeof evaluate>,
  classNames: string[],
): Promise<void> {
  const { predictions: _omit, ...testJson } = test;
  void _omit;
  writeFileAtomic(join(dir, 'report.json'), `${JSON.stringify({ ...res, confusion: testJson.confusion }, null, 1)}\n`);
  const html = await trainHtml({
    model: res.model,
    dataset: res.dataset,
    commit: gitCommit().commit,
    date: new Date().toISOString(),
    meta: [
      ['data', `${res.dataSource} (${res.dataDir})`],
      ['training', `${res.epochs} epoch(s), ${res.optimizer} lr ${res.lr}, batch ${res.batchSize}, seed ${res.seed}`],
    ],
    history: res.history,
    profile: profileModel(model, spec.input),
    testAccuracy: res.testAccuracy,
    testBalancedAccuracy: res.testBalancedAccuracy,
    confusion: test.confusion,
    classNames,
  });
  writeFileAtomic(join(dir, 'report.html'), html);
  note(`frugal: report ${join(dir, 'report.html')}`);
}

/**
 * --keep-best: the model of the epoch with the highest validation accuracy, kept in a file beside the output
 * (so a resumed run still knows it); restore() loads it into the model at the end and removes the file.
 */
function keepBest(model: Module, spec: ModelSpec, path: string, history: { epoch: number; valAccuracy?: number }[]) {
  let acc = -Infinity,
    epoch = 0;
  for (const h of history) if ((h.valAccuracy ?? -Infinity) > acc) [acc, epoch] = [h.valAccuracy ?? -Infinity, h.epoch];
  return {
    get epoch() {
      return epoch;
    },
    callback: {
      onEpochEnd(log: { epoch: number; valAccuracy?: number }) {
        if (log.valAccuracy === undefined || log.valAccuracy <= acc) return;
        [acc, epoch] = [log.valAccuracy, log.epoch];
        saveModel(path, model as Sequential, spec, { bestEpoch: epoch, valAccuracy: acc });
      },
    },
    restore(): boolean {
      if (!existsSync(path)) return false;
      model.loadStateDict(loadModel(path).model.stateDict());
      rmSync(path);
      return true;
    },
  };
}

function formatOpProfile(rows: ReturnType<typeof profileRows>): string {
  const lines = [
    'op'.padEnd(16) +
      'forward ms'.padStart(12) +
      'backward ms'.padStart(13) +
      'calls'.padStart(9) +
      'share'.padStart(8),
  ];
  for (const r of rows) {
    lines.push(
      r.op.padEnd(16) +
        r.forwardMs.toFixed(1).padStart(12) +
        r.backwardMs.toFixed(1).padStart(13) +
        String(r.calls).padStart(9) +
        `${(100 * r.share).toFixed(1)}%`.padStart(8),
    );
  }
  return lines.join('\n');
}

/** Conv and linear weights that are exactly zero (what --l1 produces). */
function zeroWeights(model: Module): number {
  let n = 0;
  for (const [name, p] of model.namedParameters())
    if (name.endsWith('weight') && p.rank > 1) for (let i = 0; i < p.size; i++) if (p.data[i] === 0) n++;
  return n;
}
