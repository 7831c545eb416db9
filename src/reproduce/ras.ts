// `frugal reproduce ras`: Regularized Adaptive Sampling (Rojas-Domínguez et al.) against uniform
// sampling, OBS, KF and AS on Fashion-MNIST and a long-tailed variant (spec 10). The paper's claims
// are qualitative; the strata, regulariser, experiments and every criterion are ours [OURS].
import {
  Adam,
  SGD,
  buildModel,
  evaluate,
  fit,
  kfScorer,
  lossScorer,
  obsProbabilities,
  samplerByName,
  trainValSplit,
  subset,
  Rng,
  backendName,
  type AdaptiveSampler,
  type KfSampler,
  type RowScorer,
  type ImageDataset,
  type ModelSpec,
  type Module,
  type Sampler,
} from '../index.js';
import { loadFashionMnist } from '../node.js';
import { meanStd, type ReproduceReport, type Reproduction } from './report.js';
import { runState, sampleDataset } from './state.js';
import { fullGradient, unbiasednessCheck, VarianceProbe } from './ras-measure.js';
import { rasChartNames, rasCharts } from './ras-charts.js';
import {
  METHODS,
  lossGap,
  obsReport,
  rasCriteria,
  rasTable,
  type Method,
  type OptName,
  type RasRun,
  type Unbiasedness,
  type Variant,
} from './ras-criteria.js';

/** Spec 10's small CNN without batch norm (BN would follow the skewed batches): 2 conv + pool, then FC. */
export function rasCnn([a, b]: [number, number]): ModelSpec {
  return {
    format: 'frugal-model',
    version: 1,
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', in: 1, out: a, kernel: 3, padding: 1 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'conv2d', in: a, out: b, kernel: 3, padding: 1 },
      { type: 'relu' },
      { type: 'maxpool2d', kernel: 2 },
      { type: 'flatten' },
      { type: 'linear', in: b * 49, out: 10 },
    ],
  };
}

/** Classes subsampled geometrically from 1 (class 0) to 1/ratio (class 9): the long-tailed variant. */
export function longTailed(ds: ImageDataset, ratio = 10, seed = 1): ImageDataset {
  const by: number[][] = Array.from({ length: ds.classes }, () => []);
  for (const i of new Rng(seed).shuffle(Array.from({ length: ds.count }, (_, i) => i))) by[ds.labels[i]].push(i);
  const keep = by.flatMap((rows, k) => rows.slice(0, Math.max(1, Math.round(rows.length * ratio ** (-k / 9)))));
  return subset(
    ds,
    keep.sort((a, b) => a - b),
  );
}

interface Config extends Record<string, unknown> {
  quick: boolean;
  seeds: number[];
  trainSamples: number;
  epochs: number;
  widths: [number, number];
  batchSize: number;
  lrGrid: Record<OptName, number[]>;
  perStratum: number;
  midEpochCheckpoints: boolean;
  methods: Method[];
  dataSource: string;
}

const OPTS: OptName[] = ['sgd', 'adam'];
const VARIANTS: Variant[] = ['balanced', 'long-tailed'];
const keyOf = (v: Variant, o: OptName, m: Method, s: number) => `${v}:${o}:${m}:${s}`;

/** One training run with its measurements: a fixed lr, the method's sampler, checkpoints at epoch ends. */
function trainOnce(
  c: Config,
  train: ImageDataset,
  o: OptName,
  lr: number,
  m: Method,
  seed: number,
  progress?: ReproContextLike['progress'],
): { model: Module; run: Omit<RasRun, 'variant' | 'testAccuracy'> } {
  const model = buildModel(rasCnn(c.widths), seed);
  const optimizer =
    o === 'sgd' ? new SGD(model.parameters(), { lr, momentum: 0.9 }) : new Adam(model.parameters(), { lr });
  const sampler: Sampler = samplerByName(m, {
    seed,
    strata: train.labels,
    score: kfScorer(model, train),
    lossScore: lossScorer(model, train),
  });
  const steps = Math.ceil(train.count / c.batchSize);
  const trainLoss: number[] = [],
    variance: RasRun['variance'] = [],
    measureSeconds = new Array(c.epochs).fill(0);
  const rowP = (): { q: ArrayLike<number>; biased: boolean } | null => {
    if (m === 'as' || m === 'ras' || m === 'ras-kl')
      return { q: (sampler as AdaptiveSampler).rowProbabilities(), biased: false };
    if (m === 'obs') {
      const st = sampler.stateDict?.() as { loss: number[] } | null;
      return { q: obsProbabilities(st?.loss ?? new Array(train.count).fill(-1), 100), biased: true };
    }
    return null;
  };
  const measure = (epoch: number, atEnd: boolean) => {
    const t0 = performance.now();
    const full = fullGradient(model, train);
    if (atEnd) trainLoss.push(full.loss);
    // The same stratified rows for every method at a checkpoint (seeded by checkpoint, not by method).
    const probe = new VarianceProbe(model, train, full.grad, c.perStratum, new Rng(seed * 1000 + variance.length));
    const vUniform = probe.uniform(c.batchSize),
      p = rowP();
    const v =
      m === 'uniform'
        ? vUniform
        : p
          ? probe.drawn(p.q, c.batchSize, p.biased)
          : kfVariance(probe, sampler as KfSampler, c.batchSize, kfScorer(model, train), seed * 1000 + variance.length);
    variance.push({ v, vUniform, vUniformWr: probe.uniform(c.batchSize, true) });
    measureSeconds[epoch] += (performance.now() - t0) / 1000;
  };
  const r = fit(model, {
    train,
    epochs: c.epochs,
    batchSize: c.batchSize,
    optimizer,
    sampler,
    seed,
    progress,
    callbacks: [
      {
        onBatchEnd: ({ epoch, batch }) => {
          if (batch === steps) measure(epoch, true);
          else if (c.midEpochCheckpoints && batch === Math.floor(steps / 2)) measure(epoch, false);
        },
      },
    ],
  });
  const stat = (i: number, k: string) => (r.history[i].sampler?.[k] as number | undefined) ?? 0;
  return {
    model,
    run: {
      optimizer: o,
      method: m,
      seed,
      lr,
      trainLoss,
      variance,
      maxWeight: r.history.map((_, i) => stat(i, 'maxWeight') || 1),
      epochSeconds: r.history.map((h, i) => h.seconds - measureSeconds[i]),
      extraForwardRows: r.history.reduce((a, _, i) => a + stat(i, 'extraForwardRows'), 0),
    },
  };
}

type ReproContextLike = Parameters<Reproduction['run']>[0];

export function reproduceRas(ctx: ReproContextLike): ReproduceReport {
  const quick = ctx.quick,
    log = ctx.log;
  const data = loadFashionMnist(ctx.dataDir);
  const c: Config = {
    quick,
    seeds: ctx.seeds,
    trainSamples: ctx.trainSamples ?? (quick ? 1000 : 60000),
    epochs: ctx.epochs ?? (quick ? 3 : 10),
    widths: quick ? [8, 16] : [32, 64],
    batchSize: 64,
    lrGrid: quick ? { sgd: [0.02, 0.05], adam: [1e-3, 3e-3] } : { sgd: [0.01, 0.03, 0.1], adam: [3e-4, 1e-3, 3e-3] },
    perStratum: quick ? 15 : 50,
    midEpochCheckpoints: !quick,
    // RAS-R2 is the spec's "also report": full runs only, to keep --quick well under a minute.
    methods: quick ? METHODS.filter((m) => m !== 'ras-kl') : [...METHODS],
    dataSource: data.source,
  };
  const { runs, save } = runState<unknown>(ctx.outDir, 'ras', quick, c, ctx.resume);
  const pool = sampleDataset(data.train, c.trainSamples, 1, 10);
  // Choices are made on a validation split of the training data; the test set is read once per final model.
  const splits = {
    balanced: trainValSplit(pool, 0.15, 1),
    'long-tailed': trainValSplit(longTailed(pool), 0.15, 1),
  } as Record<Variant, { train: ImageDataset; val: ImageDataset }>;
  log(
    `ras: balanced ${splits.balanced.train.count} train / ${splits.balanced.val.count} val, long-tailed ` +
      `${splits['long-tailed'].train.count} / ${splits['long-tailed'].val.count}, test ${data.test.count}`,
  );
  if (!runs.unbiased) {
    runs.unbiased = unbiasednessCheck(2000);
    save();
  }
  const lrs = {} as Record<OptName, number>;
  for (const o of OPTS) {
    let best = -1;
    for (const lr of c.lrGrid[o]) {
      const key = `select:${o}:${lr}`;
      if (runs[key] === undefined) {
        const { model } = trainOnce(c, splits.balanced.train, o, lr, 'uniform', 1, ctx.progress);
        runs[key] = evaluate(model, splits.balanced.val).accuracy;
        save();
      }
      const acc = runs[key] as number;
      log(`ras: ${o} lr ${lr}: validation accuracy ${(100 * acc).toFixed(2)}%`);
      if (acc > best) [best, lrs[o]] = [acc, lr];
    }
  }
  for (const v of VARIANTS) {
    for (const o of OPTS) {
      for (const m of c.methods) {
        for (const s of c.seeds) {
          const key = keyOf(v, o, m, s);
          if (runs[key]) continue;
          const { model, run } = trainOnce(c, splits[v].train, o, lrs[o], m, s, ctx.progress);
          const r: RasRun = { variant: v, ...run, testAccuracy: evaluate(model, data.test).accuracy };
          runs[key] = r;
          save();
          log(
            `ras: ${key}: test ${(100 * r.testAccuracy).toFixed(2)}%, final train loss ` +
              `${r.trainLoss[r.trainLoss.length - 1].toFixed(4)}, max ω ${Math.max(...r.maxWeight).toFixed(2)}`,
          );
        }
      }
    }
  }
  return rasSummary(runs, c);
}

/**
 * KF's gradient variance at a checkpoint, in the mode its last batch was drawn in: importance batches (presample
 * 3b, 50 presamples averaged) while τ's EMA is above its threshold, else b uniform rows with replacement.
 */
function kfVariance(probe: VarianceProbe, s: KfSampler, b: number, score: RowScorer, seed: number): number {
  return s.tau().on ? probe.kf(b, 3 * b, score, 50, new Rng(seed)) : probe.uniform(b, true);
}

/** The report of a ras state; runs missing from it (a partial --report-only state) are named. */
export function rasSummary(state: Record<string, unknown>, config: Record<string, unknown>): ReproduceReport {
  const seeds = config.seeds as number[],
    methods = (config.methods as Method[] | undefined) ?? METHODS;
  const keys = VARIANTS.flatMap((v) =>
    OPTS.flatMap((o) => methods.flatMap((m) => seeds.map((s) => keyOf(v, o, m, s)))),
  );
  // JSON keeps NaN (a variance not measured) as null: read it back as NaN, not as 0.
  const runs = keys
    .map((k) => state[k] as RasRun | undefined)
    .filter((r): r is RasRun => !!r)
    .map((r) => ({ ...r, variance: r.variance.map((c) => ({ ...c, v: c.v ?? NaN })) }));
  const missing = [...keys.filter((k) => !state[k]), ...(state.unbiased ? [] : ['unbiased'])];
  const unbiased = (state.unbiased as Unbiasedness | undefined) ?? { z: { none: NaN }, biasedControlZ: NaN };
  const lrs = Object.fromEntries(
    OPTS.map((o) => [o, [...new Set(runs.filter((r) => r.optimizer === o).map((r) => r.lr))]]),
  );
  const gaps = VARIANTS.flatMap((v) =>
    OPTS.map((o) => {
      const pick = (m: Method) => runs.filter((r) => r.variant === v && r.optimizer === o && r.method === m);
      return { variant: v, optimizer: o, ...lossGap(pick('uniform'), pick('ras')) };
    }),
  );
  return {
    name: 'ras',
    dataset: 'fashion-mnist',
    mode: config.quick ? 'quick' : 'full',
    seeds,
    paper: {
      claims: [
        'RAS trains faster than uniform SGD and OBS, with lower gradient variance',
        'no significant overhead',
        'classification accuracy not affected',
      ],
      numbers: 'none in the abstract (MNIST and CIFAR-10 with deep CNNs)',
      anchors: {
        katharopoulosFleuret2018:
          'training loss up to 10× lower at equal wall-clock; test error 5–17% lower (relative)',
        loshchilovHutter2016: '~5× speed-up of AdaDelta and Adam on MNIST (OBS)',
      },
    },
    ours: {
      config,
      backend: backendName(),
      chosenLr: lrs,
      lrSelection: Object.fromEntries(Object.entries(state).filter(([k]) => k.startsWith('select:'))),
      unbiasedness: unbiased,
      trainingLossGap: gaps,
      obs: obsReport(runs),
      accuracy: Object.fromEntries(
        VARIANTS.flatMap((v) =>
          OPTS.flatMap((o) =>
            methods.map((m) => [
              `${v}/${o}/${m}`,
              meanStd(
                runs.filter((r) => r.variant === v && r.optimizer === o && r.method === m).map((r) => r.testAccuracy),
              ),
            ]),
          ),
        ),
      ),
      runs,
    },
    criteria: rasCriteria(runs, unbiased),
    ...(missing.length ? { missing } : {}),
  };
}

export function rasMarkdown(r: ReproduceReport): string {
  const ours = r.ours as {
    config: Config;
    runs: RasRun[];
    chosenLr: unknown;
    trainingLossGap: unknown[];
    obs: unknown[];
  };
  const gaps = ours.trainingLossGap as { variant: string; optimizer: string; gap: number; effectSize: number }[];
  return [
    `# Regularized adaptive sampling (RAS) — ${r.mode} run`,
    '',
    `Settings ${JSON.stringify(ours.config)}. The learning rate of each optimizer was chosen on a validation ` +
      `split of the balanced training data with uniform sampling (${JSON.stringify(ours.chosenLr)}) and held fixed ` +
      'for every method: importance weights change the effective step, and the comparison is at a fixed lr. ' +
      'Variance is E‖ĝ − ∇L‖² with ∇L over the whole training set, from per-row gradients of a ' +
      'stratified sample ' +
      "shared by the method and uniform at the same parameters; KF's two-stage draw by the law of total variance " +
      '(50 presamples per checkpoint, in the mode its last batch used). ' +
      'OBS is biased (no weights): its column is a mean squared error, reported and not gated.',
    '',
    rasTable(ours.runs),
    '',
    ...rasChartNames(ours.runs, r.mode === 'quick').map((f) => `![${f}](${f})`),
    '',
    'Training-loss gap uniform − RAS (mean over epochs of the full training loss; effect size in seed std):',
    '',
    ...gaps.map(
      (g) =>
        `- ${g.variant} / ${g.optimizer}: ${g.gap.toFixed(4)}` +
        (Number.isFinite(g.effectSize) ? ` (${g.effectSize.toFixed(2)} σ)` : ' (one seed: no spread to compare)'),
    ),
    '',
    'Paper: qualitative claims only. Anchors, from their own abstracts: Katharopoulos & Fleuret — training loss up ' +
      'to 10× lower at equal wall-clock, test error 5–17% lower; Loshchilov & Hutter (OBS) — ~5× ' +
      'speed-up on MNIST.',
    '',
  ].join('\n');
}

export const ras: Reproduction = {
  name: 'ras',
  describe: 'importance-sampled mini-batches (RAS, Rojas-Domínguez et al.) vs uniform, OBS, KF and AS',
  options: {},
  run: reproduceRas,
  fromState: (st, seeds) => rasSummary(st.runs as Record<string, unknown>, seeds ? { ...st.config, seeds } : st.config),
  report: rasMarkdown,
  charts: (r) => rasCharts((r.ours as { runs?: RasRun[] }).runs ?? [], r.mode === 'quick'),
};
