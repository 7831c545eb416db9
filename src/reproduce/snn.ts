// `frugal reproduce snn` (spec 07): Lee et al.'s pipeline on Fashion-MNIST — an L1-trained MLP pruned once
// with no retraining, mapped to conductance pairs with L = 16 levels, converted to integrate-and-fire neurons
// (Diehl et al.) — plus one CNN with average pooling converted end to end. A model of hardware, not hardware.
// The nets, λ grid, thresholds, device constants and every criterion are ours [OURS].
import {
  SGD,
  ConductancePair,
  accuracyByTimesteps,
  autoPrune,
  buildModel,
  evaluate,
  fit,
  programDevices,
  proximalL1,
  subset,
  toSpiking,
  trainValSplit,
  backendName,
  type ImageDataset,
  type ModelSpec,
  type Module,
} from '../index.js';
import { loadFashionMnist } from '../node.js';
import type { ReproduceReport, Reproduction } from './report.js';
import { runState, sampleDataset } from './state.js';
import { CRITERION_T, snnCriteria, type SnnRun } from './snn-criteria.js';
import { snnCharts, snnMarkdown } from './snn-report.js';

const pc = (x: number, d = 2) => `${(100 * x).toFixed(d)}%`;

/** Spec 07's Fashion-MNIST MLP: 784-H-10, ReLU, biases kept (scaled by 1/λ_l and injected every step). */
export function snnMlp(hidden: number): ModelSpec {
  return {
    format: 'frugal-model',
    version: 1,
    input: [784],
    layers: [{ type: 'linear', in: 784, out: hidden }, { type: 'relu' }, { type: 'linear', in: hidden, out: 10 }],
  };
}

/** A small CNN with average pooling (max pooling has no spiking equivalent): conv 5×5, relu, avgpool 2, twice. */
export function snnCnn([a, b]: [number, number]): ModelSpec {
  return {
    format: 'frugal-model',
    version: 1,
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', in: 1, out: a, kernel: 5 },
      { type: 'relu' },
      { type: 'avgpool2d', kernel: 2 },
      { type: 'conv2d', in: a, out: b, kernel: 5 },
      { type: 'relu' },
      { type: 'avgpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', in: b * 16, out: 10 },
    ],
  };
}

export interface Config extends Record<string, unknown> {
  quick: boolean;
  seeds: number[];
  trainSamples: number;
  epochs: number;
  hidden: number;
  lambdas: number[];
  lr: number;
  batchSize: number;
  timesteps: number[];
  levels: number;
  deviceSweep: [number, number, number][];
  cnnWidths: [number, number];
  cnnEpochs: number;
  cnnTestSamples: number;
  calibrationSamples: number;
  coding: 'constant';
  dataSource: string;
}

/** The CNN run (seed 1): every stage on the same test images. */
export interface CnnRun {
  lambda: number;
  testImages: number;
  floatAccuracy: number;
  prunedAccuracy: number;
  quantizedAccuracy: number;
  prunedFraction: number;
  curve: { timesteps: number; accuracy: number }[];
  spikesPerInference: number;
  synapticEventsPerInference: number;
  annMacs: number;
}

function train(c: Config, spec: ModelSpec, ds: ImageDataset, lambda: number, seed: number, epochs: number): Module {
  const model = buildModel(spec, seed);
  // SGD, as Diehl et al. train: the proximal step shrinks each weight by lr·λ, and with SGD that is the scale
  // the weights move at (Adam's per-weight steps of ~lr would swamp spec 07's λ grid).
  const optimizer = new SGD(model.parameters(), { lr: c.lr, momentum: 0.9 });
  fit(model, {
    train: ds,
    epochs,
    batchSize: c.batchSize,
    optimizer,
    seed,
    inputShape: spec.input,
    callbacks: [proximalL1(model, { lambda, optimizer })],
  });
  model.eval();
  return model;
}

/** Prune once, devices at L levels, convert; the test set is read once per stage's final model. */
function pipeline(
  c: Config,
  model: Module,
  spec: ModelSpec,
  split: { train: ImageDataset; val: ImageDataset },
  test: ImageDataset,
  seed: number,
) {
  const acc = () => evaluate(model, test, { shape: spec.input }).accuracy;
  const floatAccuracy = acc();
  const pruned = autoPrune(model, split.val, { input: spec.input });
  const prunedAccuracy = acc();
  const dense = model.parameters().map((p) => Float32Array.from(p.data));
  const restore = () => model.parameters().forEach((p, i) => (p.data.set(dense[i]), p.markChanged()));
  const deviceSweep = c.deviceSweep.map(([levels, nonlinearity, variation]) => {
    programDevices(model, new ConductancePair({ levels, nonlinearity, variation }), seed);
    const accuracy = acc();
    restore();
    return { levels, nonlinearity, variation, accuracy };
  });
  programDevices(model, new ConductancePair({ levels: c.levels }), seed);
  const quantizedAccuracy = acc();
  const T = c.timesteps[c.timesteps.length - 1];
  const convert = (o: { normalization?: 'max' | 'percentile' | 'none'; reset?: 'subtract' | 'zero' }) =>
    toSpiking(model, {
      timesteps: T,
      data: split.train,
      calibrationSamples: c.calibrationSamples,
      input: spec.input,
      coding: c.coding,
      seed,
      ...o,
    }).net;
  return { floatAccuracy, pruned, prunedAccuracy, deviceSweep, quantizedAccuracy, convert };
}

export function reproduceSnn(ctx: Parameters<Reproduction['run']>[0]): ReproduceReport {
  const quick = ctx.quick,
    log = ctx.log;
  const data = loadFashionMnist(ctx.dataDir);
  const c: Config = {
    quick,
    seeds: ctx.seeds,
    trainSamples: ctx.trainSamples ?? (quick ? 2500 : 60000),
    epochs: ctx.epochs ?? (quick ? 5 : 10),
    hidden: quick ? 100 : 500,
    lambdas: quick ? [1e-5, 1e-4] : [1e-5, 3e-5, 1e-4, 3e-4],
    lr: 0.05,
    batchSize: 128,
    timesteps: quick ? [10, 25, 50, 100, 200] : [10, 25, 50, 100, 200, 500],
    levels: 16,
    deviceSweep: [
      [8, 0, 0],
      [32, 0, 0],
      [16, 1, 0],
      [16, 0, 0.05],
    ],
    cnnWidths: quick ? [4, 8] : [8, 16],
    cnnEpochs: quick ? 4 : 5,
    cnnTestSamples: quick ? 200 : 2000,
    calibrationSamples: quick ? 2000 : 10000,
    coding: 'constant',
    dataSource: data.source,
  };
  const { runs, save } = runState<unknown>(ctx.outDir, 'snn', quick, c, ctx.resume);
  const pool = sampleDataset(data.train, c.trainSamples, 1, 18);
  // Every choice (λ, the pruning threshold, normalisation scales) is made on the training data: a fixed
  // seeded 10% validation split for λ and θ, the training part for the activations; the test set is read
  // once per stage's final model.
  const split = trainValSplit(pool, 0.1, 1);
  log(`snn: ${split.train.count} train / ${split.val.count} validation (seed 1), test ${data.test.count}`);
  const mlp = snnMlp(c.hidden);
  let best: { lambda: number; fraction: number } | null = null;
  const sel: Record<number, { valAccuracy: number; fraction: number }> = {};
  for (const lambda of c.lambdas) {
    const key = `select:${lambda}`;
    if (!runs[key]) {
      const m = train(c, mlp, split.train, lambda, 1, c.epochs);
      const r = autoPrune(m, split.val, { input: mlp.input });
      runs[key] = { valAccuracy: r.valAccuracy, fraction: r.result.fraction };
      save();
    }
    sel[lambda] = runs[key] as { valAccuracy: number; fraction: number };
    log(`snn: λ ${lambda}: pruned ${pc(sel[lambda].fraction, 1)}, val ${pc(sel[lambda].valAccuracy)}`);
  }
  // λ rule [OURS]: the most pruned among those within 0.5 pt of the best pruned validation accuracy.
  const top = Math.max(...Object.values(sel).map((s) => s.valAccuracy));
  for (const lambda of c.lambdas)
    if (sel[lambda].valAccuracy >= top - 0.005 && (!best || sel[lambda].fraction > best.fraction))
      best = { lambda, fraction: sel[lambda].fraction };
  const lambda = best!.lambda;
  for (const seed of c.seeds) {
    const key = `mlp:${seed}`;
    if (runs[key]) continue;
    const t0 = performance.now();
    const model = train(c, mlp, split.train, lambda, seed, c.epochs);
    const p = pipeline(c, model, mlp, split, data.test, seed);
    const curve = (net: ReturnType<typeof p.convert>) => accuracyByTimesteps(net, data.test, c.timesteps);
    const main = p.convert({});
    const curves = {
      max: curve(main),
      none: curve(p.convert({ normalization: 'none' })),
      percentile: curve(p.convert({ normalization: 'percentile' })),
      zeroReset: curve(p.convert({ reset: 'zero' })),
    };
    const cost = main.cost();
    const run: SnnRun = {
      seed,
      lambda,
      floatAccuracy: p.floatAccuracy,
      prunedAccuracy: p.prunedAccuracy,
      quantizedAccuracy: p.quantizedAccuracy,
      spikingAccuracy: curves.max.find((q) => q.timesteps === CRITERION_T)?.accuracy ?? NaN,
      prunedFraction: p.pruned.result.fraction,
      pruneThreshold: p.pruned.result.threshold,
      pruneCurve: p.pruned.curve,
      deviceSweep: p.deviceSweep,
      curves,
      spikesPerInference: cost.spikesPerInference,
      synapticEventsPerInference: cost.synapticEventsPerInference,
      annMacs: cost.annMacs,
      annEffectiveMacs: cost.annEffectiveMacs,
      seconds: (performance.now() - t0) / 1000,
    };
    runs[key] = run;
    save();
    log(
      `snn: seed ${seed}: float ${pc(run.floatAccuracy)} → pruned ${pc(run.prunedAccuracy)} ` +
        `(${pc(run.prunedFraction, 1)}) → L16 ${pc(run.quantizedAccuracy)} → SNN T${CRITERION_T} ` +
        `${pc(run.spikingAccuracy)} (${run.seconds.toFixed(0)} s)`,
    );
  }
  if (!runs.cnn) {
    const cnn = snnCnn(c.cnnWidths);
    const test = subset(
      data.test,
      Array.from({ length: Math.min(c.cnnTestSamples, data.test.count) }, (_, i) => i),
    );
    const model = train(c, cnn, split.train, lambda, 1, c.cnnEpochs);
    const p = pipeline({ ...c, deviceSweep: [] }, model, cnn, split, test, 1);
    const net = p.convert({});
    const curve = accuracyByTimesteps(
      net,
      test,
      c.timesteps.filter((t) => t <= CRITERION_T),
      { batchSize: 50 },
    );
    const cost = net.cost();
    const r: CnnRun = {
      lambda,
      testImages: test.count,
      floatAccuracy: p.floatAccuracy,
      prunedAccuracy: p.prunedAccuracy,
      quantizedAccuracy: p.quantizedAccuracy,
      prunedFraction: p.pruned.result.fraction,
      curve,
      spikesPerInference: cost.spikesPerInference,
      synapticEventsPerInference: cost.synapticEventsPerInference,
      annMacs: cost.annMacs,
    };
    runs.cnn = r;
    save();
    log(`snn: CNN: float ${pc(r.floatAccuracy)} → SNN ${pc(curve[curve.length - 1].accuracy)}`);
  }
  return snnSummary(runs, c);
}

/** The report of an snn state; runs missing from it (a partial --report-only state) are named. */
export function snnSummary(state: Record<string, unknown>, config: Record<string, unknown>): ReproduceReport {
  const seeds = config.seeds as number[];
  const runs = seeds.map((s) => state[`mlp:${s}`] as SnnRun | undefined).filter((r): r is SnnRun => !!r);
  const missing = [...seeds.filter((s) => !state[`mlp:${s}`]).map((s) => `mlp:${s}`), ...(state.cnn ? [] : ['cnn'])];
  const criteria = runs.length ? snnCriteria(runs) : [];
  const e2e = runs.map((r) => r.floatAccuracy - r.spikingAccuracy);
  return {
    name: 'snn',
    dataset: 'fashion-mnist',
    mode: config.quick ? 'quick' : 'full',
    seeds,
    paper: {
      compressedHardwareSnn: '97.85% (paper; data set not stated, MNIST likely)',
      softwareDnn: '98.13% (paper)',
      endToEndGap: '0.28 pt (paper: data set not stated, MNIST likely)',
      claims: [
        'L1 regularisation prunes connections without re-training',
        'the compressed hardware SNN is energy efficient',
      ],
      notFromThePaper: 'network size, λ, threshold rule, pruned share, conductance levels, T, input coding [NF]',
    },
    ours: {
      config,
      backend: backendName(),
      endToEndGapPt: e2e.map((g) => 100 * g),
      lambdaSelection: Object.fromEntries(Object.entries(state).filter(([k]) => k.startsWith('select:'))),
      runs,
      cnn: state.cnn ?? null,
    },
    criteria,
    ...(missing.length ? { missing } : {}),
  };
}

export const snn: Reproduction = {
  name: 'snn',
  describe: 'L1-pruned hardware SNN (Lee et al.) with ANN→SNN conversion (Diehl et al.), MLP and CNN',
  options: {},
  run: reproduceSnn,
  fromState: (st, seeds) => snnSummary(st.runs as Record<string, unknown>, seeds ? { ...st.config, seeds } : st.config),
  report: snnMarkdown,
  charts: snnCharts,
};
