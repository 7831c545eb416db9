import {
  SUBSET_DIR,
  backendName,
  planLayers,
  resolveDataset,
  subset,
  trainValSplit,
  type ImageDataset,
  type ModelSpec,
  type ResolvedDataset,
} from '../node.js';
import { note } from './args.js';
import { readDataset, readDatasetOptions, readLimit } from './option-groups.js';

/**
 * The dataset the flags name (--dataset, --data-dir, --csv-header, --label-column), or a model's (its
 * `training` metadata: dataset, class names, and how it was read), flags given overriding the stored.
 */
export function resolveFlags(
  values: Record<string, unknown>,
  o: { testOnly?: boolean; training?: Record<string, unknown> } = {},
): ResolvedDataset {
  const t = o.training ?? {};
  const stored = values.dataset === undefined && typeof t.dataset === 'string' ? t.dataset : undefined;
  const flags = readDatasetOptions(values);
  const reread = (stored && (t.datasetOptions as Record<string, unknown>)) || {};
  return resolveDataset(stored ?? readDataset(values), {
    ...flags,
    csvHeader: values['csv-header'] === undefined ? ((reread.csvHeader as 'auto') ?? 'auto') : flags.csvHeader,
    labelColumn: values['label-column'] === undefined ? ((reread.labelColumn as number) ?? 0) : flags.labelColumn,
    testOnly: o.testOnly,
    classNames: Array.isArray(t.classNames) ? (t.classNames as string[]) : undefined,
  });
}

function describe(d: ResolvedDataset): string {
  const where = d.source === 'subset' ? 'the subset shipped in the repo' : d.dir;
  return `${d.name === 'fashion-mnist' ? 'Fashion-MNIST' : d.name} from ${where} (${d.source})`;
}

/**
 * The data of the commands that retrain a saved model: --dataset (default the one the model was trained on),
 * --data-dir, then --limit N training images. Labels are numbered by the model's class names.
 */
export function retrainingData(
  values: Record<string, unknown>,
  model: { training?: Record<string, unknown>; spec?: ModelSpec } = {},
): { train: ImageDataset; test: ImageDataset; dir: string; source: string } {
  const limit = readLimit(values);
  const data = resolveFlags(values, { training: model.training });
  // A model file without its training data's name falls back to Fashion-MNIST: refuse data it cannot take.
  if (model.spec) checkDataFitsModel(model.spec, data, 'give --dataset (and --data-dir) the model was trained on');
  note(`frugal: ${describe(data)}; backend ${backendName()}`);
  const all = data.train!;
  const train = limit
    ? subset(
        all,
        Array.from({ length: Math.min(limit, all.count) }, (_, i) => i),
      )
    : all;
  return { train, test: data.test, dir: data.dir, source: data.source };
}

/**
 * The data as `frugal train` takes it (both trainers): --dataset and --data-dir, the first --limit training
 * samples, then a seeded --val-split validation part. The counts used (train, validation, test: not the
 * dataset's sizes) and the source are noted on stderr (`extra` ends the line) and returned as `samples`.
 */
export function trainingData(
  values: Record<string, unknown>,
  o: { limit: number; valSplit: number; seed: number; extra?: string; subset?: boolean },
): {
  data: ResolvedDataset;
  train: ImageDataset;
  validation?: ImageDataset;
  samples: { train: number; validation: number; test: number };
} {
  // subset: the shipped subset stands in for Fashion-MNIST (a --quick run), named as such.
  const data = o.subset
    ? { ...resolveFlags({ ...values, 'data-dir': SUBSET_DIR }), source: 'subset' as const }
    : resolveFlags(values);
  const all = data.train!;
  let train = all;
  if (o.limit)
    train = subset(
      all,
      Array.from({ length: Math.min(o.limit, all.count) }, (_, i) => i),
    );
  const split = o.valSplit ? trainValSplit(train, o.valSplit, o.seed) : undefined;
  const samples = {
    train: split?.train.count ?? train.count,
    validation: split?.val.count ?? 0,
    test: data.test.count,
  };
  const limited = train.count < all.count ? `--limit: the first ${train.count} of ${all.count} training images; ` : '';
  note(
    `frugal: ${describe(data)}: ${samples.train} train, ${samples.validation} validation, ${samples.test} test ` +
      `(${limited}${data.split}); backend ${backendName()}${o.extra ?? ''}`,
  );
  return split ? { data, train: split.train, validation: split.val, samples } : { data, train, samples };
}

/**
 * Refuse, before training, data whose samples or labels the model cannot take: the sample size must be the
 * model input's, and every label below the model's output width (a label ≥ width has no logit to learn). `fix`
 * replaces the hint (edit the spec) for commands that take a trained model.
 */
export function checkDataFitsModel(spec: ModelSpec, data: ResolvedDataset, fix?: string): void {
  const size = (s: number[]) => s.reduce((a, b) => a * b, 1);
  const ds = data.train ?? data.test;
  if (size(ds.sampleShape) !== size(spec.input))
    throw new Error(
      `${data.name} has samples of shape [${ds.sampleShape.join(', ')}] (${size(ds.sampleShape)} values), the model ` +
        `takes [${spec.input.join(', ')}]; ${fix ?? `set the spec's "input" (and the first layer's "in") to fit`}`,
    );
  const out = planLayers(spec.layers, spec.input).out;
  const width = out ? out[out.length - 1] : undefined;
  let top = 0;
  for (const set of [data.train, data.test]) if (set) for (const l of set.labels) top = Math.max(top, l);
  if (width !== undefined && top >= width)
    throw new Error(
      `${data.name} has labels up to ${top} (${data.classNames.length} classes), but the model has ${width} outputs; ` +
        (fix ?? `make the last layer's "out" at least ${top + 1}`),
    );
}

/**
 * The built-in classifiers (--model cnn|mlp) end in 10 outputs, Fashion-MNIST's classes; on a dataset with
 * another class count their last layer is resized to it, as torchvision's num_classes does (noted on stderr).
 * A spec from a file is the user's and is never changed.
 */
export function fitBuiltinOutputs(spec: ModelSpec, label: string, data: ResolvedDataset): ModelSpec {
  if (label !== 'cnn' && label !== 'mlp') return spec;
  const top = classCount(data) - 1;
  const last = spec.layers[spec.layers.length - 1] as { type: string; out?: number };
  if (last.type !== 'linear' || last.out === top + 1 || top < 1) return spec;
  note(
    `frugal: --model ${label}: ${top + 1} outputs for the ${top + 1} classes of ${data.name} ` +
      `(built in with ${last.out})`,
  );
  return { ...spec, layers: [...spec.layers.slice(0, -1), { ...last, out: top + 1 }] as ModelSpec['layers'] };
}

/** Classes of a dataset: its class names, or more when a label is past them. */
export function classCount(data: ResolvedDataset): number {
  let top = data.classNames.length - 1;
  for (const set of [data.train, data.test]) if (set) for (const l of set.labels) top = Math.max(top, l);
  return top + 1;
}

/** What a model file keeps about its data: the dataset, class names, sample shape and input scale. */
export function dataMetadata(data: ResolvedDataset): Record<string, unknown> {
  const ds = data.train ?? data.test;
  return {
    dataset: data.name,
    classNames: data.classNames,
    sampleShape: ds.sampleShape,
    inputScale: data.inputScale,
    ...(data.reread ? { datasetOptions: data.reread } : {}),
  };
}
