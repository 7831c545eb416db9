// The variants `frugal compare` makes of a dense model, each with the project's own technique and the settings
// its own command uses by default (frugal prune, compact, circulant, pack, snn). Every choice a variant makes
// (the epoch kept, the spiking time steps) is made on the validation split; the test set is never read here.
import {
  Sequential,
  accuracyByTimesteps,
  buildModel,
  compact,
  evaluate,
  fit,
  loadModel,
  packBinary,
  pruneToRate,
  recalibrateBatchNorm,
  specOf,
  toCirculant,
  toSpiking,
  cosineSchedule,
  type EpochLog,
  type ImageDataset,
  type LayerSpec,
  type ModelSpec,
  type Module,
} from '../../node.js';
import { UsageError } from '../args.js';
import { makeOptimizer } from '../option-groups.js';

/** The variants compare knows, in the order it makes them. `pruned-R`/`structured-R`/`circulant-N` take a number. */
export const DEFAULT_VARIANTS = [
  'dense',
  'pruned-50',
  'pruned-90',
  'structured-50',
  'circulant-4',
  'binary',
  'spiking',
];

export type VariantKind = 'dense' | 'pruned' | 'structured' | 'circulant' | 'binary' | 'spiking';

export interface VariantName {
  name: string;
  kind: VariantKind;
  /** pruned/structured: the share of weights removed (0.5 for -50); circulant: the block size. */
  value?: number;
}

/** Parse `--variants`: names as DEFAULT_VARIANTS, `pruned-R` and `structured-R` with 0 < R < 100, `circulant-N`. */
export function parseVariants(raw: string | undefined): VariantName[] {
  const names = (raw ?? DEFAULT_VARIANTS.join(',')).split(',').map((s) => s.trim());
  const out: VariantName[] = [];
  for (const name of names) {
    let m: RegExpExecArray | null;
    let v: VariantName | undefined;
    if (name === 'dense' || name === 'binary' || name === 'spiking') v = { name, kind: name };
    else if ((m = /^(pruned|structured)-(\d+(?:\.\d+)?)$/.exec(name)) && +m[2] > 0 && +m[2] < 100)
      v = { name, kind: m[1] as 'pruned' | 'structured', value: +m[2] / 100 };
    else if ((m = /^circulant-(\d+)$/.exec(name)) && +m[1] >= 2 && (+m[1] & (+m[1] - 1)) === 0)
      v = { name, kind: 'circulant', value: +m[1] };
    if (!v)
      throw new UsageError(
        `--variants: unknown variant ${JSON.stringify(name)}; use dense, pruned-R or structured-R (0 < R < 100, ` +
          `the % of weights removed), circulant-N (N a power of two ≥ 2), binary, spiking`,
      );
    if (out.some((o) => o.name === v.name)) throw new UsageError(`--variants names ${name} twice`);
    out.push(v);
  }
  if (!out.some((v) => v.kind === 'dense')) out.unshift({ name: 'dense', kind: 'dense' });
  return out;
}

/** What every variant is made with: the data splits and the recipe flags of compare. */
export interface MakeContext {
  spec: ModelSpec;
  train: ImageDataset;
  validation: ImageDataset;
  /** Epochs of training of the dense and binary models, and of fine-tuning of the others. */
  epochs: number;
  fineTuneEpochs: number;
  batchSize: number;
  seed: number;
  timesteps: number[];
  progress?: NodeJS.WritableStream;
  /** The saved dense model (variants start from a fresh copy of it). */
  densePath: string;
}

/** A made variant, or the reason it does not apply to this model. */
export type Made =
  | {
      model: Sequential;
      spec: ModelSpec;
      history: EpochLog[];
      /** How it was made (recipe, choices made on validation), shown in the report. */
      settings: Record<string, unknown>;
    }
  | { skipped: string };

/**
 * Keep the weights of the epoch with the highest validation accuracy (in memory), restored by `restore()`: the
 * number of epochs is thereby chosen on the validation split.
 */
function keepBest(model: Module) {
  let best = -Infinity,
    epoch = 0,
    state: ReturnType<Module['stateDict']> | undefined;
  return {
    callback: {
      onEpochEnd(log: EpochLog) {
        if ((log.valAccuracy ?? -Infinity) <= best) return;
        [best, epoch] = [log.valAccuracy ?? -Infinity, log.epoch];
        state = Object.fromEntries(Object.entries(model.stateDict()).map(([k, t]) => [k, t.clone()]));
      },
    },
    restore(): { bestEpoch: number; valAccuracy: number } {
      if (state) model.loadStateDict(state);
      return { bestEpoch: epoch, valAccuracy: best };
    },
  };
}

function train(model: Sequential, ctx: MakeContext, epochs: number, opt: 'adam' | 'sgd') {
  const lr = opt === 'adam' ? 1e-3 : 0.01;
  const best = keepBest(model);
  const r = fit(model, {
    train: ctx.train,
    validation: ctx.validation,
    epochs,
    batchSize: ctx.batchSize,
    optimizer: makeOptimizer(opt, model, lr, opt === 'sgd' ? 0.9 : 0, 0),
    schedule: opt === 'sgd' ? cosineSchedule(lr, epochs) : undefined,
    seed: ctx.seed,
    inputShape: ctx.spec.input,
    callbacks: [best.callback],
    progress: ctx.progress,
  });
  return { history: r.history, ...best.restore(), optimizer: opt, lr, epochs };
}

/** Make one variant (the dense one included) from the context. */
export function makeVariant(v: VariantName, ctx: MakeContext): Made {
  const dense = () => loadModel(ctx.densePath).model;
  const input = ctx.spec.input;
  switch (v.kind) {
    case 'dense': {
      const model = buildModel(ctx.spec, ctx.seed);
      const s = train(model, ctx, ctx.epochs, 'adam');
      return { model, spec: ctx.spec, history: s.history, settings: { ...s, history: undefined } };
    }
    case 'pruned':
    case 'structured': {
      const model = dense();
      const r = pruneToRate(model, {
        target: v.value!,
        structured: v.kind === 'structured',
        input,
        train: ctx.train,
        validation: ctx.validation,
        epochs: ctx.fineTuneEpochs,
        batchSize: ctx.batchSize,
        seed: ctx.seed,
        optimizer: (_p, m) => makeOptimizer('sgd', m, 0.01, 0.9, 0),
        schedule: cosineSchedule(0.01, ctx.fineTuneEpochs),
        progress: ctx.progress,
      });
      // Physically smaller: removed channels deleted, mostly-zero layers stored as CSR (as frugal compact).
      const small = compact(r.model, input, { sparse: 'auto' });
      return {
        model: small.model,
        spec: specOf(small.model, input),
        history: r.fit.history,
        settings: {
          target: v.value,
          achievedParams: r.achieved.params,
          achievedFlops: r.achieved.flops,
          epochs: ctx.fineTuneEpochs,
          optimizer: 'sgd',
          lr: 0.01,
          sparseLayers: small.report.sparseLayers,
        },
      };
    }
    case 'circulant': {
      const { model: circ, report } = toCirculant(dense(), { blockSize: v.value! });
      if (report.converted.length === 0)
        return {
          skipped:
            `no layer can be made circulant with block size ${v.value}: ` +
            (report.skipped.map((s) => `layer ${s.layer} (${s.type}): ${s.reason}`).join('; ') ||
              'the model has no conv2d or linear layer'),
        };
      recalibrateBatchNorm(circ, ctx.train, { batches: 50, batchSize: ctx.batchSize, seed: ctx.seed, shape: input });
      const s = ctx.fineTuneEpochs > 0 ? train(circ, ctx, ctx.fineTuneEpochs, 'sgd') : undefined;
      return {
        model: circ,
        spec: specOf(circ, input),
        history: s?.history ?? [],
        settings: { blockSize: v.value, converted: report.converted.length, ...s, history: undefined },
      };
    }
    case 'binary': {
      const b = binarySpec(ctx.spec);
      if ('skipped' in b) return b;
      const model = buildModel(b.spec, ctx.seed);
      const s = train(model, ctx, ctx.epochs, 'adam');
      const packed = packBinary(model);
      return {
        model: packed.model,
        spec: specOf(packed.model, input),
        history: s.history,
        settings: { ...s, history: undefined, packed: packed.report.packed, folded: packed.report.folded },
      };
    }
    case 'spiking': {
      let conv;
      try {
        conv = toSpiking(dense(), { timesteps: Math.max(...ctx.timesteps), data: ctx.train, input });
      } catch (e) {
        return { skipped: `cannot convert to spiking: ${(e as Error).message}` };
      }
      // T chosen on validation: the fewest time steps within 0.5 pt of the best validation accuracy.
      const curve = accuracyByTimesteps(conv.net, ctx.validation, ctx.timesteps);
      const top = Math.max(...curve.map((c) => c.accuracy));
      const T = curve.find((c) => c.accuracy >= top - 0.005)!.timesteps;
      const { net } = toSpiking(dense(), { timesteps: T, data: ctx.train, input });
      const model = new Sequential(net);
      const spec = { format: 'frugal-model' as const, version: 1 as const, input, layers: [net.toSpec()] };
      return { model, spec, history: [], settings: { timesteps: T, validationByTimesteps: curve } };
    }
  }
}

/**
 * The binarized version of a spec (Rastegari et al.'s recipe as in spec 06): every conv2d after the first
 * becomes a binary-conv2d (±1 weights and inputs) followed by batch norm; the ReLUs just before it go (the
 * sign would see only non-negative inputs) and batch norm sets the sign's threshold instead. The first layer
 * stays float (its input is pixels, not ±1), and so do linear layers.
 */
export function binarySpec(spec: ModelSpec): { spec: ModelSpec } | { skipped: string } {
  const convs = spec.layers.flatMap((l, i) => (l.type === 'conv2d' ? [i] : []));
  if (convs.length < 2)
    return {
      skipped:
        convs.length === 0
          ? 'binary applies to convolutions and the model has none'
          : 'binary needs a second conv layer (the first one stays float: its input is pixels, not ±1)',
    };
  const out: LayerSpec[] = [];
  spec.layers.forEach((l, i) => {
    if (l.type !== 'conv2d' || i === convs[0]) return out.push(l);
    const c = l as LayerSpec & { in: number; out: number; kernel: number; padding?: number; stride?: number };
    // Drop the ReLUs since the last weight layer; make sure a batch norm sits there.
    let j = out.length - 1;
    while (j >= 0 && !/conv|linear/.test(out[j].type)) j--;
    const between = out.splice(j + 1).filter((x) => x.type !== 'relu');
    if (!between.some((x) => x.type === 'batchnorm2d')) between.unshift({ type: 'batchnorm2d', features: c.in });
    out.push(...between);
    out.push({
      type: 'binary-conv2d',
      in: c.in,
      out: c.out,
      kernel: c.kernel,
      ...(c.padding ? { padding: c.padding, padValue: 1 } : {}),
      ...(c.stride ? { stride: c.stride } : {}),
    });
    if (spec.layers[i + 1]?.type !== 'batchnorm2d') out.push({ type: 'batchnorm2d', features: c.out });
  });
  return { spec: { ...spec, layers: out } };
}

/** Evaluate on a dataset (validation or test) with the spec's input shape. */
export function score(model: Module, ds: ImageDataset, input: number[]) {
  return evaluate(model, ds, { shape: input });
}
