// `frugal reproduce pruning`: Qi et al.'s contract (one run to a targeted compression rate) on
// Fashion-MNIST with a VGG-like network. Targets, criteria and the mechanism are ours
// (shared/papers/05-target-rate-pruning.md); only 94.1% / 76.2% come from the paper's abstract.
import { existsSync, rmSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import {
  SGD,
  buildModel,
  compact,
  compareLatency,
  specOf,
  cosineSchedule,
  evaluate,
  fit,
  profileModel,
  pruneToRate,
  vggSpec,
  backendName,
  type ImageDataset,
  type ModelSpec,
  type Sequential,
  type ProgressSink,
} from '../index.js';
import { fileCheckpoint, loadFashionMnist, loadModel, saveModel } from '../node.js';
import { runState, sampleDataset } from './state.js';
import { criterion, meanStd, unmeasured, type Criterion, type ReproduceReport, type Reproduction } from './report.js';

export interface PruningReproOptions {
  quick?: boolean;
  seeds?: number[];
  dataDir?: string;
  /** Training samples drawn (seeded) from the training set; the whole test set is used. */
  trainSamples?: number;
  denseEpochs?: number;
  pruneEpochs?: number;
  /** Folder for the state file (resume) and the Markdown report. */
  outDir: string;
  resume?: boolean;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

/** Parameter targets of the unstructured runs (the last is the paper's 94.1%). */
export const UNSTRUCTURED_TARGETS = [0.5, 0.8, 0.9, 0.941];
/** The dense model trained as long as a pruning run, without pruning. */
export const CONTROL = 'dense control (same extra epochs, no pruning)';
export const PAPER = {
  paramsReduction: 0.941,
  flopsReduction: 0.762,
  source: 'abstract (VGG on CIFAR-10: different data and network)',
};

/** The pruning runs of every seed, after the dense baseline and the control. */
interface PruningRun {
  name: string;
  metric: 'params' | 'flops';
  target: number;
  structured: boolean;
  atLeast?: { flops: number };
}
const PRUNING_RUNS: PruningRun[] = [
  ...UNSTRUCTURED_TARGETS.map((t) => ({
    name: `unstructured params ${100 * t}%`,
    metric: 'params' as const,
    target: t,
    structured: false,
  })),
  { name: 'structured flops 50%', metric: 'flops', target: 0.5, structured: true },
  {
    name: 'structured params 94.1% (paper point)',
    metric: 'params',
    target: 0.941,
    structured: true,
    atLeast: { flops: PAPER.flopsReduction },
  },
];

interface RunResult {
  name: string;
  kind: 'dense' | 'unstructured' | 'structured';
  metric: 'params' | 'flops';
  target: number;
  accuracy: number;
  paramsReduction: number;
  flopsReduction: number;
  seconds: number;
  /** Written by earlier versions from paramCount(), which leaves out CSR values (buffers): dropped from reports. */
  compactParams?: number;
  loadAvg?: number;
  latencyMs1?: number;
  latencyMs64?: number;
  denseLatencyMs1?: number;
  denseLatencyMs64?: number;
  /** Weights and MACs removed, counted from the saved compacted model's weights against the dense model's. */
  saved?: { paramsReduction: number; flopsReduction: number };
  channels?: { layer: number; before: number; after: number }[];
}

interface State {
  config: Record<string, unknown>;
  runs: Record<string, RunResult>;
}

const sample = (ds: ImageDataset, n: number, seed: number) => sampleDataset(ds, n, seed, 1);

function clone(spec: ModelSpec, from: Sequential): Sequential {
  const m = buildModel(spec, 0);
  m.loadStateDict(from.stateDict());
  return m;
}

/** Run the reproduction; returns the JSON report of the DESIGN contract and writes the Markdown beside it. */
export function reproducePruning(o: PruningReproOptions): ReproduceReport {
  const quick = !!o.quick,
    seeds = o.seeds ?? [1];
  const log = o.log ?? (() => {});
  const spec = quick ? vggSpec([8, 8, 16, 16, 32, 32]) : vggSpec();
  const trainSamples = o.trainSamples ?? (quick ? 1000 : 12000);
  const denseEpochs = o.denseEpochs ?? (quick ? 2 : 5),
    pruneEpochs = o.pruneEpochs ?? (quick ? 1 : 3);
  const data = loadFashionMnist(o.dataDir);
  const test = quick ? sample(data.test, 1000, 99) : data.test;
  const config = {
    quick,
    seeds,
    trainSamples,
    denseEpochs,
    pruneEpochs,
    dataSource: data.source,
    widths: spec.layers.filter((l) => l.type === 'conv2d').map((l) => l.out),
  };
  const { runs, save } = runState<RunResult>(o.outDir, 'pruning', quick, config, !!o.resume);
  const state: State = { config, runs };
  const batchSize = 64;
  const input = spec.input;
  const prefix = join(o.outDir, `reproduce-pruning${quick ? '-quick' : ''}`);
  const denseFile = (seed: number) => `${prefix}-dense-seed${seed}.safetensors`;
  /** Each epoch of the dense and control runs is checkpointed, so a stopped run's --resume continues it. */
  const ckpt = (name: string, seed: number) => ({
    checkpoint: fileCheckpoint(`${prefix}-${name}-seed${seed}.ckpt`),
    resume: !!o.resume && existsSync(`${prefix}-${name}-seed${seed}.ckpt`),
  });
  const done = (name: string, seed: number) => rmSync(`${prefix}-${name}-seed${seed}.ckpt`, { force: true });
  const smallPath = (name: string, seed: number) =>
    `${prefix}-${name.replace(/[^a-z0-9.]+/gi, '-')}-seed${seed}.safetensors`;

  for (const seed of seeds) {
    const train = sample(data.train, trainSamples, seed);
    const key = (n: string) => `${seed}:${n}`;
    // The dense baseline is the start of every run; saved so that --resume reuses it.
    const t0 = performance.now();
    const densePath = denseFile(seed);
    let dense: Sequential;
    if (state.runs[key('dense')] && existsSync(densePath)) dense = loadModel(densePath).model;
    else {
      dense = buildModel(spec, seed);
      fit(dense, {
        train,
        epochs: denseEpochs,
        batchSize,
        seed,
        optimizer: new SGD(dense.parameters(), { lr: 0.05, momentum: 0.9, weightDecay: 5e-4 }),
        schedule: cosineSchedule(0.05, denseEpochs),
        progress: o.progress,
        ...ckpt('dense', seed),
      });
      saveModel(densePath, dense, spec, { seed, epochs: denseEpochs, trainSamples });
      done('dense', seed);
    }
    const denseAcc = evaluate(dense, test).accuracy;
    state.runs[key('dense')] = {
      name: 'dense',
      kind: 'dense',
      metric: 'params',
      target: 0,
      accuracy: denseAcc,
      paramsReduction: 0,
      flopsReduction: 0,
      seconds: state.runs[key('dense')]?.seconds ?? (performance.now() - t0) / 1000,
    };
    save();
    log(`seed ${seed}: dense baseline ${(100 * denseAcc).toFixed(2)}%`);
    // Control: the dense model trained for the same extra epochs without pruning, so that a
    // pruned run is not credited with what the extra training alone gives.
    if (!state.runs[key(CONTROL)]) {
      const t1 = performance.now();
      const m = clone(spec, dense);
      fit(m, {
        train,
        epochs: pruneEpochs,
        batchSize,
        seed,
        optimizer: new SGD(m.parameters(), { lr: 0.01, momentum: 0.9, weightDecay: 5e-4 }),
        schedule: cosineSchedule(0.01, pruneEpochs),
        progress: o.progress,
        ...ckpt('control', seed),
      });
      const acc = evaluate(m, test).accuracy;
      state.runs[key(CONTROL)] = {
        name: CONTROL,
        kind: 'dense',
        metric: 'params',
        target: 0,
        accuracy: acc,
        paramsReduction: 0,
        flopsReduction: 0,
        seconds: (performance.now() - t1) / 1000,
      };
      save();
      done('control', seed);
      log(`seed ${seed}: ${CONTROL}: ${(100 * acc).toFixed(2)}%`);
    }
    for (const r of PRUNING_RUNS) {
      if (state.runs[key(r.name)]) {
        log(`seed ${seed}: ${r.name} done before, kept`);
        continue;
      }
      const t1 = performance.now();
      const m = clone(spec, dense);
      const lr = 0.01;
      const res = pruneToRate(m, {
        target: r.target,
        metric: r.metric,
        structured: r.structured,
        atLeast: r.atLeast,
        input,
        train,
        epochs: pruneEpochs,
        batchSize,
        seed,
        optimizer: (p) => new SGD(p, { lr, momentum: 0.9, weightDecay: 5e-4 }),
        schedule: cosineSchedule(lr, pruneEpochs),
        progress: o.progress,
      });
      const acc = evaluate(m, test).accuracy;
      const out: RunResult = {
        name: r.name,
        kind: r.structured ? 'structured' : 'unstructured',
        metric: r.metric,
        target: r.target,
        accuracy: acc,
        paramsReduction: res.achieved.params,
        flopsReduction: res.achieved.flops,
        seconds: 0,
        channels: res.channels,
      };
      // Physically smaller model (structured: fewer channels; unstructured: CSR layers where sparse enough), timed
      // against the dense one.
      const { model: small } = compact(m, input);
      const smallAcc = evaluate(small, test).accuracy;
      if (Math.abs(smallAcc - acc) > 1e-3)
        throw new Error(
          `${r.name}: the compacted model scores ${smallAcc}, the pruned one ${acc}; compact() changed the outputs`,
        );
      out.seconds = (performance.now() - t1) / 1000;
      // The latency phase below times this file against the dense model.
      saveModel(smallPath(r.name, seed), small, specOf(small, input), { seed, run: r.name });
      state.runs[key(r.name)] = out;
      save();
      log(
        `seed ${seed}: ${r.name}: ${(100 * acc).toFixed(2)}% (dense ${(100 * denseAcc).toFixed(2)}%), params ` +
          `−${(100 * res.achieved.params).toFixed(2)}%, MACs −${(100 * res.achieved.flops).toFixed(2)}%`,
      );
    }
  }
  measureLatency(state, seeds, input, denseFile, smallPath, log);
  save();
  return summarise(state, seeds, config);
}

/**
 * Conv and linear weights of a model (biases and batch norm not counted), non-zero ones, and the
 * multiply-accumulates per sample of the non-zero ones: counted from the layers' stored weights, whatever
 * their form (dense, CSR, fewer channels), through profileModel.
 */
export function weightCounts(
  model: Sequential,
  input: number[],
): { weights: number; nonzero: number; macs: number; effectiveMacs: number } {
  let weights = 0,
    nonzero = 0,
    macs = 0,
    effectiveMacs = 0;
  for (const l of profileModel(model, input).layers) {
    if (l.macs === 0) continue;
    const bias = (model.layers[l.index] as { bias?: { data: Float32Array } | null }).bias?.data ?? new Float32Array();
    const w = l.params - bias.length,
      nz = l.nonzeroParams - bias.filter((v) => v !== 0).length;
    weights += w;
    nonzero += nz;
    macs += l.macs;
    // Each weight is used once per output position, so the non-zero ones do this share of the MACs.
    effectiveMacs += w ? (l.macs * nz) / w : 0;
  }
  return { weights, nonzero, macs, effectiveMacs };
}

/** Share of the dense model's weights and MACs that the saved small model no longer has (non-zero ones count). */
export function savedReduction(dense: Sequential, small: Sequential, input: number[]) {
  const d = weightCounts(dense, input),
    s = weightCounts(small, input);
  return { paramsReduction: 1 - s.nonzero / d.weights, flopsReduction: 1 - s.effectiveMacs / d.macs };
}

/**
 * The latency phase: every compacted model against its seed's dense model, loaded from the
 * saved files after all training, in this process (so each invocation, --resume included,
 * times every run anew under the same conditions, with the machine's load recorded). Not timed
 * inside training: a process that has just trained carries its heap and pool state into the
 * timing, and a long reproduction shares the machine with other work.
 */
function measureLatency(
  state: State,
  seeds: number[],
  input: number[],
  denseFile: (seed: number) => string,
  smallFile: (name: string, seed: number) => string,
  log: (line: string) => void,
): void {
  for (const seed of seeds) {
    const dense = loadModel(denseFile(seed)).model;
    for (const [k, r] of Object.entries(state.runs)) {
      if (!k.startsWith(`${seed}:`) || r.kind === 'dense') continue;
      const file = smallFile(r.name, seed);
      if (!existsSync(file))
        throw new Error(
          `${file} is missing: the compacted model of "${r.name}" (seed ${seed}) is timed from it; remove that ` +
            `run's entry from the state file (reproduce-pruning*.state.json) and --resume to re-run it`,
        );
      const small = loadModel(file).model;
      r.saved = savedReduction(dense, small, input);
      const load = loadavg()[0];
      // Batch 1 takes 15 interleaved rounds (about 3 s): its timings drift most on this machine.
      const [d1, s1] = compareLatency([dense, small], input, 1, { rounds: 15 });
      const [d64, s64] = compareLatency([dense, small], input, 64);
      Object.assign(r, {
        denseLatencyMs1: d1,
        latencyMs1: s1,
        denseLatencyMs64: d64,
        latencyMs64: s64,
        loadAvg: Math.round(100 * load) / 100,
      });
      log(
        `seed ${seed}: ${r.name}: latency b1 ${s1.toFixed(2)} vs ${d1.toFixed(2)} ms, b64 ${s64.toFixed(1)} vs ` +
          `${d64.toFixed(1)} ms (1-min load average ${load.toFixed(2)})`,
      );
    }
  }
}

/**
 * The report of a pruning state. Runs missing from it (a partial state under --report-only) are
 * named in `missing`; their rows are left out and their criteria reported as not measured.
 */
export function summarise(state: State, seeds: number[], config: Record<string, unknown>): ReproduceReport {
  const expected = ['dense', CONTROL, ...PRUNING_RUNS.map((r) => r.name)];
  const extra = [...new Set(Object.keys(state.runs).map((k) => k.slice(k.indexOf(':') + 1)))].filter(
    (n) => !expected.includes(n),
  );
  const missing = seeds.flatMap((s) => expected.filter((n) => !state.runs[`${s}:${n}`]).map((n) => `seed ${s}: ${n}`));
  const complete = (n: string) => seeds.every((s) => state.runs[`${s}:${n}`] && state.runs[`${s}:dense`]);
  const per = (n: string) => seeds.map((s) => state.runs[`${s}:${n}`]);
  // Drops are measured against the better of the dense baseline and the control.
  const dense = seeds.map((s) => ({
    accuracy: Math.max(state.runs[`${s}:dense`]?.accuracy ?? NaN, state.runs[`${s}:${CONTROL}`]?.accuracy ?? 0),
  }));
  const ours: Record<string, unknown> = { config, backend: backendName() };
  const rows = [...expected, ...extra].filter(complete).map((n) => {
    const rs = per(n);
    const drop = rs.map((r, i) => dense[i].accuracy - r.accuracy);
    const latRed1 = rs.map((r) => (r.latencyMs1 && r.denseLatencyMs1 ? 1 - r.latencyMs1 / r.denseLatencyMs1 : 0));
    const latRed64 = rs.map((r) => (r.latencyMs64 && r.denseLatencyMs64 ? 1 - r.latencyMs64 / r.denseLatencyMs64 : 0));
    return {
      name: n,
      kind: rs[0].kind,
      metric: rs[0].metric,
      target: rs[0].target,
      accuracy: meanStd(rs.map((r) => r.accuracy)),
      drop: meanStd(drop),
      paramsReduction: meanStd(rs.map((r) => r.saved?.paramsReduction ?? r.paramsReduction)),
      flopsReduction: meanStd(rs.map((r) => r.saved?.flopsReduction ?? r.flopsReduction)),
      latencyReductionB1: meanStd(latRed1),
      latencyReductionB64: meanStd(latRed64),
      runs: rs.map(({ compactParams: _, ...r }) => r),
    };
  });
  ours.runs = rows;
  const row = (n: string) => rows.find((r) => r.name === n);
  const lacking = (n: string) => ['dense', n].filter((x) => !complete(x)).join(', ');
  const criteria: Criterion[] = [];
  for (const p of PRUNING_RUNS) {
    const name =
        `${p.name}: ${p.metric === 'params' ? 'weights' : 'MACs'} removed, counted from the saved model's ` +
        'weights, within ±0.5 pt of the target, every seed',
      r = row(p.name);
    const unsaved = r?.runs.some((x) => !x.saved);
    if (!r || unsaved) {
      const why = r ? `the saved-model counts of ${p.name} (run the latency phase: --resume)` : lacking(p.name);
      criteria.push(unmeasured(name, `${100 * p.target}% ± 0.5 pt`, why));
      continue;
    }
    const got = r.runs.map((x) => (p.metric === 'params' ? x.saved!.paramsReduction : x.saved!.flopsReduction));
    const worst = Math.max(...got.map((g) => Math.abs(g - p.target)));
    const target = `|${got.map((g) => `${(100 * g).toFixed(2)}%`).join(', ')} − ${100 * p.target}%| ≤ 0.5 pt`;
    criteria.push(criterion(name, target, worst, worst <= 0.005));
  }
  for (const [n, bar] of [
    ['unstructured params 80%', 0.005],
    ['unstructured params 90%', 0.01],
    ['unstructured params 94.1%', 0.01],
  ] as const) {
    const r = row(n),
      name = `${n}: accuracy drop vs dense`;
    const target = `≤ ${100 * bar} pt`;
    criteria.push(
      r ? criterion(name, target, r.drop.mean, r.drop.mean <= bar, seeds.length) : unmeasured(name, target, lacking(n)),
    );
  }
  /** Measured latency reduction over FLOP reduction at a batch size, mean over seeds. */
  const latencyShare = (r: NonNullable<ReturnType<typeof row>>, b: 1 | 64) =>
    meanStd(
      r.runs.map((x) => {
        const ratio = b === 1 ? x.latencyMs1! / x.denseLatencyMs1! : x.latencyMs64! / x.denseLatencyMs64!;
        return (1 - ratio) / (x.saved?.flopsReduction ?? x.flopsReduction);
      }),
    ).mean;
  const S50 = 'structured flops 50%',
    s50 = row(S50);
  const s50Names = [
    'structured flops 50%: accuracy drop vs dense',
    'structured flops 50%: measured latency reduction at batch 64 ≥ 70% of the FLOP reduction',
    'structured flops 50%: measured latency reduction at batch 1 ≥ 70% of the FLOP reduction',
  ];
  if (s50) {
    criteria.push(criterion(s50Names[0], '≤ 2 pt', s50.drop.mean, s50.drop.mean <= 0.02, seeds.length));
    const r64 = latencyShare(s50, 64),
      r1 = latencyShare(s50, 1);
    criteria.push(criterion(s50Names[1], '≥ 0.70', r64, r64 >= 0.7, seeds.length));
    criteria.push(criterion(s50Names[2], '≥ 0.70', r1, r1 >= 0.7, seeds.length));
  } else {
    for (const [k, n] of s50Names.entries()) criteria.push(unmeasured(n, k ? '≥ 0.70' : '≤ 2 pt', lacking(S50)));
  }
  const PP = 'structured params 94.1% (paper point)',
    pp = row(PP);
  const ppNames = [
    'structured 94.1% target: ≥ 93.6% of weights (94.1% − 0.5 pt) and ≥ 76.2% of MACs removed, ' +
      "counted from the saved model's weights, every seed (value: least MACs share); accuracy reported as it is",
    'structured 94.1% target: measured latency reduction at batch 64 ≥ 70% of the MAC reduction',
  ];
  const ppTarget = 'weights ≥ 0.936 and MACs ≥ 0.762';
  if (pp && pp.runs.every((x) => x.saved)) {
    const w = Math.min(...pp.runs.map((x) => x.saved!.paramsReduction)),
      f = Math.min(...pp.runs.map((x) => x.saved!.flopsReduction));
    criteria.push(criterion(ppNames[0], ppTarget, f, w >= 0.936 && f >= PAPER.flopsReduction));
    const r64 = latencyShare(pp, 64);
    criteria.push(criterion(ppNames[1], '≥ 0.70', r64, r64 >= 0.7, seeds.length));
  } else {
    const why = pp ? `the saved-model counts of ${PP} (run the latency phase: --resume)` : lacking(PP);
    for (const [k, n] of ppNames.entries()) criteria.push(unmeasured(n, k ? '≥ 0.70' : ppTarget, why));
  }
  return {
    name: 'pruning',
    dataset: 'fashion-mnist',
    mode: config.quick ? 'quick' : 'full',
    seeds,
    paper: PAPER,
    ours,
    criteria,
    ...(missing.length ? { missing } : {}),
  };
}

/** How the numbers are counted and made, for the document. */
const COUNTING =
  'Counting: parameters = conv and linear weights (biases and batch norm not counted); ' +
  'FLOPs = multiply-accumulates (MACs) of those weights per sample, non-zero weights only; both counted from the ' +
  "saved compacted model's stored weights against the dense model's, not taken from the pruning mechanism.";
const CHOICES =
  'Choices: none is made from data. The recipes (SGD with momentum, cosine rates 0.05 and 0.01, epochs) are fixed ' +
  'in advance [OURS]; the thresholds follow from the target rates alone; the test set is read once per final model.';
const MECHANISM =
  'Mechanism [OURS]: unstructured = global gradual magnitude pruning with the cubic schedule ' +
  '(Zhu & Gupta); structured = channel gates with a budget penalty, then a hard cut (kept channel counts rounded ' +
  "to multiples of 4, the kernels' SIMD width, where the ±0.5 pt band allows) and fine-tuning. " +
  "The paper's own mechanism is not public to us.";
const DROPS =
  'Drops are against the better of the dense baseline and the dense control (the baseline trained ' +
  'for the same extra epochs without pruning).';
const LATENCY =
  "Latency: the compacted model (fewer channels, or CSR layers below 30% density) against its seed's " +
  'dense model, both loaded from the saved files after all training and timed in the same process, medians of ' +
  '15 (batch 1) and 5 (batch 64) interleaved rounds; − is faster.';

/** Markdown report of a pruning reproduction. */
export function pruningMarkdown(r: ReproduceReport): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  /** A latency reduction as a signed change of the compacted model's latency against the dense one. */
  const change = (red: number) => (red ? `${red > 0 ? '−' : '+'}${Math.abs(100 * red).toFixed(1)}%` : '');
  const ms = (m: { mean: number; std: number }) =>
    r.seeds.length > 1 ? `${pct(m.mean)} ± ${(100 * m.std).toFixed(2)}` : pct(m.mean);
  const rows = r.ours.runs as {
    name: string;
    accuracy: { mean: number; std: number };
    drop: { mean: number; std: number };
    paramsReduction: { mean: number; std: number };
    flopsReduction: { mean: number; std: number };
    latencyReductionB1: { mean: number; std: number };
    latencyReductionB64: { mean: number; std: number };
  }[];
  const loads = rows
    .flatMap((x) => (x as unknown as { runs: { loadAvg?: number }[] }).runs.map((y) => y.loadAvg))
    .filter((v): v is number => v !== undefined);
  const lines = [
    `# Pruning to a target rate (Qi et al.) — ${r.mode} run`,
    '',
    `Seeds ${r.seeds.join(', ')}; settings ${JSON.stringify((r.ours as { config: unknown }).config)}; backend ` +
      `${(r.ours as { backend: string }).backend}.`,
    COUNTING,
    MECHANISM,
    CHOICES,
    '',
    DROPS,
    '',
    LATENCY +
      (loads.length
        ? ` One-minute load average during the timing: ` +
          `${Math.min(...loads).toFixed(2)}–${Math.max(...loads).toFixed(2)} (${cpus().length} CPUs).`
        : ''),
    '',
    '| run | test accuracy | drop vs dense | params removed | FLOPs removed | latency b1 | latency b64 |',
    '|---|---|---|---|---|---|---|',
    ...rows.map(
      (x) =>
        `| ${x.name} | ${ms(x.accuracy)} | ${(100 * x.drop.mean).toFixed(2)} pt | ${ms(x.paramsReduction)} | ` +
        `${ms(x.flopsReduction)} | ${change(x.latencyReductionB1.mean)} | ${change(x.latencyReductionB64.mean)} |`,
    ),
    `| paper: VGG on CIFAR-10 (different data and network) | "satisfactory" | — | 94.1% | 76.2% | — | — |`,
    '',
  ];
  return lines.join('\n');
}

export const pruning: Reproduction = {
  name: 'pruning',
  describe: 'pruning to a target rate (Qi et al.): unstructured and structured, compacted and timed',
  options: {
    'prune-epochs': {
      type: 'count',
      usage: '--prune-epochs P',
      help: "epochs of each pruning run (--epochs: the dense baseline's)",
    },
  },
  run: (ctx) =>
    reproducePruning({ ...ctx, denseEpochs: ctx.epochs, pruneEpochs: ctx.own['prune-epochs'] as number | undefined }),
  fromState: (st, seeds) => summarise(st as State, seeds ?? (st.config.seeds as number[]), st.config),
  report: pruningMarkdown,
};
