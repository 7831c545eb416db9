import { existsSync, readFileSync, statSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  SUBSET_DIR,
  compareHtml,
  compareLatency,
  loadModel,
  profileModel,
  saveModel,
  writeFileAtomic,
  type CompareResult,
  type CompareVariant,
  type ImageDataset,
  type Sequential,
} from '../../node.js';
import { gitCommit } from '../../reproduce/results.js';
import { DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { makeVariant, parseVariants, score, type MakeContext } from '../compare/variants.js';
import { checkOutputDir, defaultRunPath, modelName } from '../output.js';
import { readDataset } from '../option-groups.js';
import { checkDataFitsModel, fitBuiltinOutputs, trainingData } from '../data.js';
import { resolveModel } from './train.js';
import { recordCompare, storePath } from '../store.js';

export const usage = `frugal compare [MODEL | --model cnn|mlp|SPEC.json] [--dataset NAME] [--variants LIST]
           [--epochs E] [--fine-tune-epochs F] [--batch-size B] [--val-split V] [--limit N] [--seed N]
           [--timesteps T1,T2,...] [--rounds R] [--data-dir DIR] [--out DIR] [--resume] [--quick]
           [--store PATH | --no-store] [--json]
  Make every cheaper variant of a model with Frugal's own techniques and measure them all in one process on
  the same test set (any --dataset \`frugal train\` reads; cnn and mlp get one output per class): test
  accuracy (and balanced), parameters, non-zero parameters, bytes on disk, MACs (dense-equivalent and
  effective) and latency at batch 1 and 64 (median of R interleaved rounds; the load average is recorded).
  MODEL is a saved .safetensors model taken as the dense one; else --model is trained
  for E epochs. Variants: dense, pruned-R (magnitude pruning to R% fewer weights, then compact), structured-R
  (whole channels), circulant-N (block size N), binary (convs after the first made binary, trained E epochs,
  packed), spiking (integrate-and-fire conversion). Pruned and circulant variants fine-tune F epochs. A variant
  that does not apply is skipped with the reason. Choices (the epoch kept, the spiking T among T1,T2,...) are
  made on a seeded validation split (V of the training images); the test set is read once per variant.
  Writes DIR/report.html (table and charts, self-contained), DIR/report.json and DIR/NAME.safetensors per
  variant; --resume continues a stopped comparison (finished variants are kept; latency is re-measured).
  The run is recorded in the run store (DIR/runs.sqlite unless --store PATH; --no-store: not at all).
  --quick: the shipped subset, 2,000 training images, 1 epoch, 3 latency rounds.
${defaultsText([
  '--model cnn',
  '--dataset fashion-mnist',
  '--variants dense,pruned-50,pruned-90,structured-50,circulant-4,binary,spiking',
  '--epochs 3 (1 with --quick)',
  '--fine-tune-epochs 1',
  '--batch-size 64',
  '--val-split 0.1',
  '--limit all (2000 with --quick)',
  '--seed 1',
  '--timesteps 25,50,100',
  '--rounds 5 (3 with --quick)',
  `--data-dir ${DATA_DIR_DEFAULT} (the subset with --quick)`,
  '--out runs/compare-NAME-YYYYMMDD-HHMMSS',
  '--store DIR/runs.sqlite',
])}`;

const options: Options = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  'data-dir': { type: 'string' },
  variants: { type: 'string' },
  epochs: { type: 'string' },
  'fine-tune-epochs': { type: 'string' },
  'batch-size': { type: 'string' },
  'val-split': { type: 'string' },
  limit: { type: 'string' },
  seed: { type: 'string' },
  timesteps: { type: 'string' },
  rounds: { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean', default: false },
  quick: { type: 'boolean', default: false },
  store: { type: 'string' },
  'no-store': { type: 'boolean', default: false },
};

/** Ctrl-C stops the run between variants' epochs (main.ts runs it on a worker thread). */
export const interruptible = true;

/** What --resume keeps between runs: the settings and each finished variant. */
interface State {
  config: Record<string, unknown>;
  variants: Record<string, CompareVariant>;
}

export async function run(argv: string[]): Promise<number> {
  // MODEL (a saved model file) is optional: one positional at most.
  let parsed;
  try {
    parsed = parse(argv, options, 0);
  } catch (e) {
    if (!(e instanceof UsageError) || !/^unexpected argument/.test(e.message)) throw e;
    parsed = parse(argv, options, 1);
  }
  const { values, positionals } = parsed;
  if (positionals.length && values.model !== undefined)
    throw new UsageError('give MODEL (a saved model file) or --model, not both');
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const quick = !!values.quick;
  const modelFile = positionals[0];
  if (modelFile !== undefined && !existsSync(modelFile)) throw new Error(`model file ${modelFile} does not exist`);
  const { spec, label } = modelFile
    ? { spec: loadModel(modelFile).spec, label: modelFile }
    : resolveModel((values.model as string | undefined) ?? 'cnn');
  const dataset = readDataset(values);
  const variants = parseVariants(values.variants as string | undefined);
  const epochs = num(values, 'epochs', quick ? 1 : 3, { int: true, min: 1 });
  const fineTuneEpochs = num(values, 'fine-tune-epochs', 1, { int: true, min: 0 });
  const batchSize = num(values, 'batch-size', 64, { int: true, min: 1 });
  const valSplit = num(values, 'val-split', 0.1, { min: 0, exclusiveMin: true, max: 0.5 });
  const limit = num(values, 'limit', quick ? 2000 : 0, { int: true, min: 0 });
  const seed = num(values, 'seed', 1, { int: true, min: 0 });
  const rounds = num(values, 'rounds', quick ? 3 : 5, { int: true, min: 1, max: 1000 });
  const timesteps = ((values.timesteps as string | undefined) ?? '25,50,100').split(',').map(Number);
  if (timesteps.some((t) => !Number.isInteger(t) || t < 1 || t > 100000))
    throw new UsageError(`--timesteps takes integers from 1 to 100000, got ${JSON.stringify(values.timesteps)}`);
  if (values.store !== undefined && values['no-store'])
    throw new UsageError('give --store PATH or --no-store, not both');
  const out = checkOutputDir(
    '--out',
    (values.out as string | undefined) ?? defaultRunPath(`compare-${modelName(label)}`).replace(/\.safetensors$/, ''),
    false,
  );
  const dataDir =
    (values['data-dir'] as string | undefined) ?? (quick && dataset === 'fashion-mnist' ? SUBSET_DIR : undefined);
  const config = {
    // 2: the variants train on --dataset; states without it trained Fashion-MNIST whatever --dataset said.
    stateFormat: 2,
    model: label,
    spec,
    dataset,
    dataDir: dataDir ?? null,
    variants: variants.map((v) => v.name),
    epochs,
    fineTuneEpochs,
    batchSize,
    valSplit,
    limit,
    seed,
    timesteps,
  };
  const statePath = join(out, 'compare-state.json');
  const state = loadState(statePath, config, !!values.resume);

  // Any dataset `frugal train` reads; --quick's default directory is the shipped subset, not a flag the user gave.
  const got = trainingData(values, {
    limit,
    valSplit,
    seed,
    extra: `; ${variants.length} variants into ${out}`,
    subset: quick && values['data-dir'] === undefined && dataset === 'fashion-mnist',
  });
  const data = got.data;
  const split = { train: got.train, val: got.validation! };
  const fitted = modelFile ? spec : fitBuiltinOutputs(spec, label, data);
  checkDataFitsModel(fitted, data);
  const densePath = join(out, 'dense.safetensors');
  const ctx: MakeContext = {
    spec: fitted,
    train: split.train,
    validation: split.val,
    epochs,
    fineTuneEpochs,
    batchSize,
    seed,
    timesteps,
    densePath,
    progress: values.json ? undefined : process.stderr,
  };
  for (const v of variants) {
    if (state.variants[v.name]) {
      note(`frugal: ${v.name}: kept from the earlier run (--resume)`);
      continue;
    }
    note(`frugal: making ${v.name}`);
    const made =
      v.kind === 'dense' && modelFile
        ? (() => {
            const m = loadModel(modelFile);
            return { model: m.model, spec: m.spec, history: [], settings: { from: modelFile } };
          })()
        : makeVariant(v, ctx);
    if ('skipped' in made) {
      note(`frugal: ${v.name} skipped: ${made.skipped}`);
      state.variants[v.name] = { name: v.name, status: 'skipped', reason: made.skipped };
    } else {
      const file = join(out, `${v.name}.safetensors`);
      saveModel(file, made.model, made.spec, { compare: { variant: v.name, ...made.settings } });
      state.variants[v.name] = measure(v.name, file, made, spec.input, split.val, data.test);
    }
    writeFileAtomic(statePath, JSON.stringify(state, null, 1));
  }

  // Latency of every finished variant, loaded back from its file, in interleaved rounds.
  const done = variants.map((v) => state.variants[v.name]).filter((v) => v.status === 'done');
  const models = done.map((v) => loadModel(v.file!).model as Sequential);
  const before = loadavg();
  const b1 = compareLatency(models, spec.input, 1, { rounds, seed });
  const b64 = compareLatency(models, spec.input, 64, { rounds, seed });
  const after = loadavg();
  done.forEach((v, i) => (v.latencyMs = { batch1: b1[i], batch64: b64[i] }));

  const result: CompareResult = {
    command: 'compare',
    model: label,
    dataset,
    dataSource: `${data.source} (${data.dir})`,
    commit: gitCommit().commit,
    date: new Date().toISOString(),
    seed,
    epochs,
    fineTuneEpochs,
    trainCount: split.train.count,
    validationCount: split.val.count,
    testCount: data.test.count,
    load: { before, after },
    latencyRounds: rounds,
    variants: variants.map((v) => state.variants[v.name]),
  };
  writeFileAtomic(join(out, 'report.json'), `${JSON.stringify(result, null, 1)}\n`);
  writeFileAtomic(join(out, 'report.html'), await compareHtml(result));
  const store = storePath(values, join(out, 'runs.sqlite'));
  const runId = store ? recordCompare(store, result, argv, config) : undefined;
  emit(!!values.json, { ...result, out, report: join(out, 'report.html'), store, runId }, human(result, out, store));
  return 0;
}

function loadState(path: string, config: Record<string, unknown>, resume: boolean): State {
  if (!existsSync(path)) {
    if (resume) throw new Error(`--resume: no comparison to continue at ${path}; run without --resume to start`);
    return { config, variants: {} };
  }
  if (!resume)
    throw new UsageError(
      `${path} holds an earlier comparison; give --resume to continue it or another --out to start afresh`,
      false,
    );
  const s = JSON.parse(readFileSync(path, 'utf8')) as State;
  const diffs = Object.keys({ ...s.config, ...config }).filter(
    (k) => JSON.stringify(s.config[k]) !== JSON.stringify(config[k]),
  );
  // More variants may be asked for on resume; other changes would mix two comparisons.
  const bad = diffs.filter((k) => k !== 'variants');
  if (bad.length)
    throw new UsageError(
      `--resume: ${path} was made with other settings (${bad.join(', ')}); give the same flags, or another --out`,
      false,
    );
  return { config, variants: s.variants };
}

/** Everything measured of one variant except latency (measured for all together at the end). */
function measure(
  name: string,
  file: string,
  made: Exclude<ReturnType<typeof makeVariant>, { skipped: string }>,
  input: number[],
  validation: ImageDataset,
  test: ImageDataset,
): CompareVariant {
  const { model } = loadModel(file);
  const val = score(model, validation, input);
  const t = score(model, test, input); // the one read of the test set for this final model
  const p = profileModel(model, input);
  return {
    name,
    status: 'done',
    file,
    testAccuracy: t.accuracy,
    testBalancedAccuracy: t.balancedAccuracy,
    valAccuracy: val.accuracy,
    params: p.params,
    nonzeroParams: p.nonzeroParams,
    bytesOnDisk: statSync(file).size,
    macs: p.macs,
    effectiveMacs: p.effectiveMacs,
    layers: p.layers.map((l) => ({
      name: l.name,
      type: l.type,
      params: l.params,
      macs: l.macs,
      effectiveMacs: l.effectiveMacs,
    })),
    history: made.history.map((h) => ({
      epoch: h.epoch,
      loss: h.loss,
      accuracy: h.accuracy,
      valLoss: h.valLoss,
      valAccuracy: h.valAccuracy,
    })),
    settings: made.settings,
  };
}

function human(r: CompareResult, out: string, store: string | undefined): string {
  const pct = (v?: number) => (v === undefined ? '–' : `${(100 * v).toFixed(2)}%`);
  const lines = [
    `${'variant'.padEnd(16)}${'test acc'.padStart(9)}${'nonzero'.padStart(10)}${'bytes'.padStart(10)}` +
      `${'eff MACs'.padStart(12)}${'ms@1'.padStart(9)}${'ms@64'.padStart(9)}`,
  ];
  for (const v of r.variants) {
    if (v.status === 'skipped') {
      lines.push(`${v.name.padEnd(16)}skipped: ${v.reason}`);
      continue;
    }
    lines.push(
      v.name.padEnd(16) +
        pct(v.testAccuracy).padStart(9) +
        String(v.nonzeroParams).padStart(10) +
        String(v.bytesOnDisk).padStart(10) +
        String(v.effectiveMacs).padStart(12) +
        (v.latencyMs?.batch1.toFixed(3) ?? '–').padStart(9) +
        (v.latencyMs?.batch64.toFixed(2) ?? '–').padStart(9),
    );
  }
  lines.push(`load average ${r.load.before.map((v) => v.toFixed(2)).join(' ')} (before the latency rounds)`);
  lines.push(`report ${join(out, 'report.html')}${store ? `; run recorded in ${store}` : ''}`);
  return lines.join('\n');
}
