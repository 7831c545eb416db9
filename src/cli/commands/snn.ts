import {
  ConductancePair,
  Sequential,
  accuracyByTimesteps,
  autoPrune,
  evaluate,
  loadModel,
  programDevices,
  pruneByThreshold,
  saveModel,
  toSpiking,
  trainValSplit,
} from '../../node.js';
import { choice, emit, note, num, parse, UsageError, type Options, defaultsText, DATA_DIR_DEFAULT } from '../args.js';
import { checkOutputFile } from '../output.js';
import { retrainingData } from '../data.js';

export const usage = `frugal snn MODEL --timesteps T [--levels L] [--nonlinearity NU] [--variation S]
           [--prune auto|THRESHOLD] [--normalization max|percentile|none] [--percentile P]
           [--reset subtract|zero] [--coding constant|poisson] [--seed N] [--data-dir DIR] [--limit N] [--out PATH]
           [--json]
  Spiking version of a ReLU model (best L1-trained: frugal train --l1): prune once with no retraining
  (auto: the largest magnitude threshold costing ≤ 0.1 pt on a validation split, 10% of the training data,
  seeded), map weights to conductance pairs w = β(G⁺ − G⁻) with L levels (nonlinearity ν, variation σ), convert
  to integrate-and-fire neurons (data-based normalisation on the training split; threshold 1) and simulate T
  steps. Prints the test accuracy of the float, pruned, quantised and spiking models, the share of connections
  removed, spikes and synaptic events per inference, and accuracy against T. A model of hardware, not hardware.
  --coding constant is a constant input current; poisson: Poisson spikes. --out is checked before any work.
  The data is the dataset MODEL was trained on (its file says which); --limit N: its first N training images.
${defaultsText([
  '--levels none (no device: quantised = pruned)',
  '--nonlinearity 0',
  '--variation 0',
  '--prune none (no pruning)',
  '--normalization max',
  '--percentile 99.9',
  '--reset subtract',
  '--coding constant',
  '--seed 1',
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--limit all',
  '--out none (not saved)',
])}`;

const options: Options = {
  timesteps: { type: 'string' },
  levels: { type: 'string' },
  nonlinearity: { type: 'string' },
  variation: { type: 'string' },
  prune: { type: 'string' },
  normalization: { type: 'string' },
  percentile: { type: 'string' },
  reset: { type: 'string' },
  coding: { type: 'string' },
  seed: { type: 'string' },
  'data-dir': { type: 'string' },
  limit: { type: 'string' },
  out: { type: 'string' },
};

const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
/** Validation rows below which --prune auto is refused. */
const MIN_AUTO_VALIDATION = 50;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (values.timesteps === undefined) throw new UsageError('--timesteps T is required (time steps, e.g. 200)');
  const T = num(values, 'timesteps', 0, { int: true, min: 1, max: 100000 });
  const levels = values.levels === undefined ? null : num(values, 'levels', 16, { int: true, min: 2, max: 65536 });
  const nonlinearity = num(values, 'nonlinearity', 0, { min: 0 });
  const variation = num(values, 'variation', 0, { min: 0 });
  if (levels === null && (values.nonlinearity !== undefined || values.variation !== undefined))
    throw new UsageError('--nonlinearity and --variation describe the device: give --levels L too');
  const pruneRaw = values.prune as string | undefined;
  const threshold = pruneRaw === undefined || pruneRaw === 'auto' ? null : Number(pruneRaw);
  if (threshold !== null && !(threshold >= 0 && Number.isFinite(threshold)))
    throw new UsageError(`--prune must be 'auto' or a magnitude threshold ≥ 0, got ${JSON.stringify(pruneRaw)}`);
  const normalization = choice(values, 'normalization', ['max', 'percentile', 'none'] as const, 'max');
  const percentile = num(values, 'percentile', 99.9, { min: 0, exclusiveMin: true, max: 100 });
  const reset = choice(values, 'reset', ['subtract', 'zero'] as const, 'subtract');
  const coding = choice(values, 'coding', ['constant', 'poisson'] as const, 'constant');
  const seed = num(values, 'seed', 1, { int: true, min: 0 });
  const out = values.out as string | undefined;
  if (out !== undefined) checkOutputFile('--out', out);

  const { model, spec, training } = loadModel(positionals[0]);
  if (spec.layers.length === 1 && spec.layers[0].type === 'spiking')
    throw new Error(`${positionals[0]} is already a spiking model; give the ReLU network it came from`);
  const data = retrainingData(values, { training, spec });
  const { train, val } = trainValSplit(data.train, 0.1, seed);
  note(`frugal: ${train.count} train / ${val.count} validation (seed ${seed}), ${data.test.count} test`);
  // --prune auto keeps the largest threshold costing ≤ 0.1 pt on validation: a handful of rows cannot tell.
  if (pruneRaw === 'auto' && val.count < MIN_AUTO_VALIDATION)
    throw new UsageError(
      `--prune auto chooses on the validation split (10% of the training rows: ${val.count} here, at least ` +
        `${MIN_AUTO_VALIDATION} needed); give a larger --limit or a threshold (--prune θ)`,
    );
  const input = spec.input;
  model.eval();
  const acc = () => evaluate(model, data.test, { shape: input }).accuracy;
  const floatAccuracy = acc();
  let prune: { threshold: number; fraction: number; curve?: unknown } = { threshold: 0, fraction: 0 };
  if (pruneRaw !== undefined) {
    if (threshold === null) {
      const r = autoPrune(model, val, { input });
      prune = { threshold: r.result.threshold, fraction: r.result.fraction, curve: r.curve };
    } else {
      const r = pruneByThreshold(model, threshold);
      prune = { threshold, fraction: r.fraction };
    }
  }
  const prunedAccuracy = pruneRaw !== undefined ? acc() : floatAccuracy;
  const device = levels !== null ? new ConductancePair({ levels, nonlinearity, variation }) : null;
  if (device) programDevices(model, device, seed);
  const quantizedAccuracy = device ? acc() : prunedAccuracy;
  const { net, lambdas } = toSpiking(model, {
    timesteps: T,
    normalization,
    percentile,
    reset,
    coding,
    seed,
    data: train,
    input,
  });
  const at = [...new Set([10, 25, 50, 100, 200, 500, 1000, T].filter((t) => t <= T))].sort((a, b) => a - b);
  const curve = accuracyByTimesteps(net, data.test, at);
  const cost = net.cost();
  net.measured = cost;
  const spikingAccuracy = curve[curve.length - 1].accuracy;
  const result = {
    command: 'snn',
    model: positionals[0],
    ...(out ? { out } : {}),
    timesteps: T,
    trainRows: train.count,
    validationRows: val.count,
    coding,
    reset,
    normalization,
    ...(normalization === 'percentile' ? { percentile } : {}),
    device: device ? { model: device.name, levels, nonlinearity, variation } : null,
    floatAccuracy,
    prunedAccuracy,
    quantizedAccuracy,
    spikingAccuracy,
    prunedFraction: prune.fraction,
    pruneThreshold: prune.threshold,
    ...(prune.curve ? { pruneCurve: prune.curve } : {}),
    spikesPerInference: cost.spikesPerInference,
    synapticEventsPerInference: cost.synapticEventsPerInference,
    inputEventsPerInference: cost.inputEventsPerInference,
    annMacs: cost.annMacs,
    annEffectiveMacs: cost.annEffectiveMacs,
    accuracyByTimesteps: curve,
    lambdas,
    layers: cost.layers,
    spikesByLayer: cost.spikesByLayer,
  };
  if (out) {
    const snnSpec = { format: 'frugal-model' as const, version: 1 as const, input, layers: [net.toSpec()] };
    saveModel(out, new Sequential(net), snnSpec, {
      ...training,
      snn: { ...result, layers: undefined, accuracyByTimesteps: curve, dataSource: data.source },
    });
  }
  emit(
    !!values.json,
    result,
    [
      `float ${pct(floatAccuracy)} → pruned ${pct(prunedAccuracy)} (${pct(prune.fraction)} of connections removed, ` +
        `θ ${prune.threshold.toPrecision(3)}) → quantised ${pct(quantizedAccuracy)}` +
        `${device ? ` (L ${levels}, ν ${nonlinearity}, σ ${variation})` : ' (no device)'} → ` +
        `spiking ${pct(spikingAccuracy)} at T ${T}`,
      `per inference: ${Math.round(cost.spikesPerInference).toLocaleString('en-US')} spikes, ` +
        `${Math.round(cost.synapticEventsPerInference).toLocaleString('en-US')} synaptic events ` +
        `(ANN: ${cost.annMacs.toLocaleString('en-US')} MACs, ` +
        `${cost.annEffectiveMacs.toLocaleString('en-US')} non-zero)`,
      `accuracy by T: ${curve.map((c) => `${c.timesteps}: ${pct(c.accuracy)}`).join(', ')}`,
      ...(out ? [`saved ${out} (frugal eval / info / bench read it)`] : []),
    ].join('\n'),
  );
  return 0;
}
