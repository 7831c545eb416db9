import {
  backprop,
  distillation,
  evaluate,
  fileCheckpoint,
  fit,
  loadModel,
  locateFashionMnist,
  profileModel,
  recalibrateBatchNorm,
  saveModel,
  specOf,
  toCirculant,
} from '../../node.js';
import { retrainingData } from '../data.js';
import { DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import {
  groupOptions,
  groupUsage,
  makeOptimizer,
  makeSchedule,
  readTraining,
  type DataFlag,
  type TrainingFlag,
} from '../option-groups.js';
import { checkOutputFile } from '../output.js';
import { checkResume } from '../resume.js';

/** The shared data and training flags `circulant` takes. */
const FLAGS: (DataFlag | TrainingFlag)[] = [
  'epochs',
  'optimizer',
  'lr',
  'batch-size',
  'seed',
  'data-dir',
  'limit',
  'resume',
];
const OPTIMIZERS = ['sgd', 'adam'] as const;

const HEAD = 'frugal circulant MODEL --block-size N --out PATH [--include conv2d,linear] [--pad]';

export const usage = `${groupUsage(HEAD, FLAGS, OPTIMIZERS, ['[--distill [--alpha A] [--temperature T]]', '[--json]'])}
  Convert a trained model's conv and linear layers to block-circulant form (N× fewer parameters;
  the nearest circulant weights, an average along wrapped diagonals), report the test accuracy
  right after the projection, then fine-tune E epochs (default 1; 0 skips) and report it again.
  Layers whose channel counts N does not divide stay dense and are listed with the reason, or with
  --pad are zero-padded to whole blocks (the padded blocks' parameters and multiplications count).
  Before fine-tuning, batch-norm statistics are re-estimated on 50 training batches. --distill
  fine-tunes with knowledge distillation from the dense model (weight A of its term, default 0.7;
  temperature T, default 4), which reaches the dense accuracy in fewer epochs than labels alone
  (frugal reproduce circconv measures it). Fine-tuning checkpoints to PATH.ckpt after every epoch
  (and on Ctrl-C); --resume continues it.
${defaultsText([
  '--epochs 1',
  '--optimizer sgd',
  '--lr 0.01 (1e-3 with adam)',
  '--batch-size 64',
  '--seed 1',
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--limit all',
  '--include conv2d,linear',
  '--alpha 0.7',
  '--temperature 4',
])}`;

const options: Options = {
  ...groupOptions(FLAGS),
  'block-size': { type: 'string' },
  out: { type: 'string' },
  include: { type: 'string' },
  pad: { type: 'boolean' },
  distill: { type: 'boolean' },
  alpha: { type: 'string' },
  temperature: { type: 'string' },
};

/** Ctrl-C stops the run at a checkpoint (main.ts runs it on a worker thread). */
export const interruptible = true;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const raw = values['block-size'];
  if (raw === undefined) throw new UsageError('--block-size N is required');
  const N = Number(raw);
  if (!Number.isInteger(N) || N < 2 || (N & (N - 1)) !== 0)
    throw new UsageError(`--block-size must be a power of two ≥ 2 (the FFT's length), got ${JSON.stringify(raw)}`);
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required');
  const t = readTraining(values, {
    epochs: 1,
    minEpochs: 0,
    batchSize: 64,
    optimizers: OPTIMIZERS,
    optimizer: 'sgd',
    schedule: 'cosine',
  });
  const { epochs, batchSize, optimizer: optName, lr, seed } = t;
  const include = ((values.include as string | undefined) ?? 'conv2d,linear').split(',').map((s) => s.trim());
  for (const t of include)
    if (t !== 'conv2d' && t !== 'linear')
      throw new UsageError(`--include takes conv2d and/or linear, got ${JSON.stringify(t)}`);
  if (!values.distill && (values.alpha !== undefined || values.temperature !== undefined))
    throw new UsageError('--alpha and --temperature set up --distill; add --distill');
  if (values.distill && epochs === 0) throw new UsageError('--distill acts while fine-tuning; give --epochs 1 or more');
  const alpha = num(values, 'alpha', 0.7, { min: 0, max: 1 });
  const temperature = num(values, 'temperature', 4, { min: 1 });

  checkOutputFile('--out', out);
  const ckpt = `${out}.ckpt`;
  const config = {
    model: positionals[0],
    'block-size': N,
    include: include.join(','),
    pad: !!values.pad,
    distill: values.distill ? { alpha, temperature } : null,
    'data-dir': locateFashionMnist(values['data-dir'] as string | undefined).dir,
    limit: values.limit ?? null,
    'batch-size': batchSize,
    optimizer: optName,
    lr,
    seed,
  };
  if (values.resume) {
    if (epochs === 0) throw new UsageError('--resume continues fine-tuning; --epochs 0 has none');
    checkResume(ckpt, config);
  }
  const { model, spec, training } = loadModel(positionals[0]);
  const { model: circ, report } = toCirculant(model, {
    blockSize: N,
    include: include as ('conv2d' | 'linear')[],
    pad: !!values.pad,
  });
  if (report.converted.length === 0) {
    throw new Error(
      `no layer can be made circulant with block size ${N}: ` +
        (report.skipped.map((s) => `layer ${s.layer} (${s.type}): ${s.reason}`).join('; ') ||
          'the model has no conv2d or linear layer'),
    );
  }
  for (const s of report.skipped) note(`layer ${s.layer} (${s.type}) stays dense: ${s.reason}`);
  const data = retrainingData(values, { training, spec });
  const train = data.train;
  const dense = evaluate(model, data.test, { shape: spec.input }).accuracy;
  const projected = evaluate(circ, data.test, { shape: spec.input }).accuracy;
  let tuned = projected;
  if (epochs > 0) {
    recalibrateBatchNorm(circ, train, { batches: 50, batchSize, seed, shape: spec.input });
    const optimizer = makeOptimizer(optName, circ, lr, t.momentum, t.weightDecay);
    fit(circ, {
      train,
      epochs,
      batchSize,
      optimizer,
      seed,
      inputShape: spec.input,
      schedule: makeSchedule(t),
      checkpoint: fileCheckpoint(ckpt),
      config,
      resume: !!values.resume,
      progress: values.json ? undefined : process.stderr,
      ...(values.distill ? { step: backprop({ loss: distillation({ teacher: model, alpha, temperature }) }) } : {}),
    });
    tuned = evaluate(circ, data.test, { shape: spec.input }).accuracy;
  }
  const newSpec = specOf(circ, spec.input);
  saveModel(out, circ, newSpec, {
    ...training,
    circulant: { blockSize: N, epochs, projectedAccuracy: projected, testAccuracy: tuned },
  });
  const p0 = profileModel(model, spec.input),
    p1 = profileModel(circ, spec.input);
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  emit(
    !!values.json,
    {
      command: 'circulant',
      model: positionals[0],
      out,
      blockSize: N,
      epochs,
      distill: values.distill ? { alpha, temperature } : null,
      converted: report.converted,
      skipped: report.skipped,
      denseAccuracy: dense,
      projectedAccuracy: projected,
      testAccuracy: tuned,
      paramsBefore: p0.params,
      paramsAfter: p1.params,
      macsDenseEquivalent: p1.macs,
      fftFormMults: p1.summary.fftFormMults as number | undefined,
    },
    [
      ...report.converted.map(
        (c) =>
          `layer ${c.layer} (${c.type}): ${c.paramsBefore.toLocaleString('en-US')} → ` +
          `${c.paramsAfter.toLocaleString('en-US')} ` +
          `parameters${c.paddedTo ? ` (channels zero-padded to in ${c.paddedTo[0]}, out ${c.paddedTo[1]})` : ''}`,
      ),
      `parameters ${p0.params.toLocaleString('en-US')} → ${p1.params.toLocaleString('en-US')}; multiplications ` +
        `per sample: dense-equivalent ${p1.macs.toLocaleString('en-US')}, FFT form ` +
        `${Math.round((p1.summary.fftFormMults as number | undefined) ?? p1.macs).toLocaleString('en-US')}`,
      `test accuracy: dense ${pct(dense)}, right after projection ` +
        `${pct(projected)}${epochs > 0 ? `, after ${epochs} epoch(s) of fine-tuning ${pct(tuned)}` : ''}`,
      `saved ${out}`,
    ].join('\n'),
  );
  return 0;
}
