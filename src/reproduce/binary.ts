// `frugal reproduce binary-jets`: Simons & Lee's neural jet features against standard binary
// convolutions on Fashion-MNIST (spec 06). The paper's claims are qualitative ("comparable"
// accuracy, "fewer resources", "more stable when training small models"); the networks,
// training and criteria are ours [OURS].
import { existsSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import {
  Adam,
  buildModel,
  compareLatency,
  specOf,
  cosineSchedule,
  evaluate,
  fit,
  packBinary,
  profileModel,
  backendName,
  type ImageDataset,
  type LayerSpec,
  type ModelSpec,
  type ProgressSink,
  type Sequential,
} from '../index.js';
import { loadFashionMnist, loadModel, saveModel } from '../node.js';
import { criterion, meanStd, unmeasured, type Criterion, type ReproduceReport, type Reproduction } from './report.js';
import { runState, sampleDataset } from './state.js';

export type BlockKind = 'float' | 'binary' | 'jet' | 'jet-constrained';
export const KINDS: BlockKind[] = ['float', 'binary', 'jet', 'jet-constrained'];

/**
 * Spec 06's network: a full-precision conv 1→a (BN, pool), then two blocks a→b and b→b of the
 * given kind (3×3, BN, pool; binary inputs and weights, pad value +1), then a float classifier.
 */
export function binaryJetSpec(kind: BlockKind, widths: [number, number] = [32, 64]): ModelSpec {
  const [a, b] = widths;
  const block = (cin: number, cout: number): LayerSpec[] => [
    kind === 'float'
      ? { type: 'conv2d', in: cin, out: cout, kernel: 3, padding: 1, bias: false }
      : kind === 'binary'
        ? { type: 'binary-conv2d', in: cin, out: cout, kernel: 3, padding: 1, padValue: 1 }
        : { type: 'jet-conv2d', in: cin, out: cout, padValue: 1, constrained: kind === 'jet-constrained' },
    { type: 'batchnorm2d', features: cout },
    ...(kind === 'float' ? [{ type: 'relu' }] : []),
    { type: 'maxpool2d', kernel: 2 },
  ];
  return {
    format: 'frugal-model',
    version: 1,
    input: [1, 28, 28],
    layers: [
      { type: 'conv2d', in: 1, out: a, kernel: 3, padding: 1, bias: false },
      { type: 'batchnorm2d', features: a },
      { type: 'maxpool2d', kernel: 2 },
      ...block(a, b),
      ...block(b, b),
      { type: 'flatten' },
      { type: 'linear', in: b * 3 * 3, out: 10 },
    ],
  };
}

/** Analytic operations per output value of a block layer (b→b at 7×7): XNOR-popcount bits + integer additions;
 * float: MACs. */
export function opsPerOutput(kind: BlockKind, cin: number, cout: number): number {
  if (kind === 'float' || kind === 'binary') return 9 * cin;
  // The jet tree (20 per input channel and pixel) is shared by the cout outputs of that pixel.
  return (20 * cin) / cout + (kind === 'jet' ? 9 : 1) * cin;
}

export interface BinaryReproOptions {
  quick?: boolean;
  seeds?: number[];
  dataDir?: string;
  trainSamples?: number;
  epochs?: number;
  stabilitySeeds?: number;
  outDir: string;
  resume?: boolean;
  progress?: ProgressSink;
  log?: (line: string) => void;
}

interface Run {
  kind: BlockKind;
  widths: [number, number];
  seed: number;
  accuracy: number;
  packedAccuracy?: number;
  predictionsEqual?: boolean;
}

const sample = (ds: ImageDataset, n: number, seed: number) => sampleDataset(ds, n, seed, 5);

/** Inference time of each network in its deployed form (packed bits; float as trained), ms per batch of 64. */
export type Latency = Record<BlockKind, number> & { loadAvg: number };
const latencyKey = (seed: number) => `latency:${seed}`;

export function reproduceBinaryJets(o: BinaryReproOptions): ReproduceReport {
  const quick = !!o.quick,
    seeds = o.seeds ?? [1],
    log = o.log ?? (() => {});
  const widths: [number, number] = quick ? [8, 16] : [32, 64];
  const tiny: [number, number] = [4, 8];
  const trainSamples = o.trainSamples ?? (quick ? 1000 : 12000),
    epochs = o.epochs ?? (quick ? 2 : 8);
  const stabilitySeeds = o.stabilitySeeds ?? (quick ? 3 : 10);
  const data = loadFashionMnist(o.dataDir);
  const test = quick ? sample(data.test, 1000, 99) : data.test;
  const config = { quick, seeds, trainSamples, epochs, widths, tiny, stabilitySeeds, dataSource: data.source };
  const { runs, save } = runState<Run>(o.outDir, 'binary-jets', quick, config, !!o.resume);
  /** The deployed form of a main-width network: what the latency phase times. */
  const modelFile = (kind: BlockKind, seed: number) =>
    join(o.outDir, `reproduce-binary-jets${quick ? '-quick' : ''}-${kind}-seed${seed}.safetensors`);
  /** Adam 1e-3 with cosine decay (spec 06 [OURS]); binary latent weights clipped by the layers. */
  const run = (kind: BlockKind, w: [number, number], seed: number): Run => {
    const key = `${kind}:${w.join('-')}:${seed}`;
    if (runs[key]) return runs[key];
    const spec = binaryJetSpec(kind, w),
      m = buildModel(spec, seed) as Sequential;
    const tr = sample(data.train, trainSamples, seed),
      lr = 1e-3;
    fit(m, {
      train: tr,
      epochs,
      batchSize: 64,
      seed,
      optimizer: new Adam(m.parameters(), { lr }),
      schedule: cosineSchedule(lr, epochs),
      progress: o.progress,
    });
    const ev = evaluate(m, test);
    const r: Run = { kind, widths: w, seed, accuracy: ev.accuracy };
    let deployed: Sequential = m;
    if (kind !== 'float') {
      deployed = packBinary(m).model;
      const pk = evaluate(deployed, test);
      r.packedAccuracy = pk.accuracy;
      r.predictionsEqual = pk.predictions.every((p, i) => p === ev.predictions[i]);
    }
    if (w === widths) saveModel(modelFile(kind, seed), deployed, specOf(deployed, [1, 28, 28]), { seed, kind });
    runs[key] = r;
    save();
    log(
      `${kind} ${w.join('-')} seed ${seed}: ` +
        `${(100 * r.accuracy).toFixed(2)}%` +
        (r.predictionsEqual === undefined ? '' : `, packed ${r.predictionsEqual ? 'identical' : 'DIFFERENT'}`),
    );
    return r;
  };
  for (const kind of KINDS) for (const s of seeds) run(kind, widths, s);
  for (const kind of KINDS.filter((k) => k !== 'float')) {
    for (let i = 0; i < stabilitySeeds; i++) run(kind, tiny, 100 + i);
  }
  // Timed after all training, from the saved files, every invocation (as the pruning reproduction does).
  for (const seed of seeds) {
    const files = KINDS.map((k) => modelFile(k, seed));
    const lost = files.find((f) => !existsSync(f));
    if (lost)
      throw new Error(
        `${lost} is missing: the latency phase times it; remove that run from the state file ` +
          `(reproduce-binary-jets*.state.json) and --resume to re-run it`,
      );
    const models = files.map((f) => loadModel(f).model);
    const load = loadavg()[0];
    const ms = compareLatency(models, [1, 28, 28], 64);
    const lat = Object.fromEntries(KINDS.map((k, i) => [k, ms[i]])) as Latency;
    lat.loadAvg = Math.round(100 * load) / 100;
    (runs as unknown as Record<string, Latency>)[latencyKey(seed)] = lat;
    log(`seed ${seed}: batch-64 latency ${KINDS.map((k, i) => `${k} ${ms[i].toFixed(2)} ms`).join(', ')}`);
  }
  save();
  return binarySummary(runs, config);
}

/**
 * The report of a binary-jets state. Runs missing from it (a partial state under --report-only)
 * are named in `missing`; their rows are left out and the criteria that need them are not measured.
 */
export function binarySummary(runs: Record<string, Run>, config: Record<string, unknown>): ReproduceReport {
  const seeds = config.seeds as number[],
    stabilitySeeds = config.stabilitySeeds as number;
  const widths = config.widths as [number, number],
    tiny = config.tiny as [number, number];
  const key = (kind: BlockKind, w: [number, number], seed: number) => `${kind}:${w.join('-')}:${seed}`;
  const groups = [
    ...KINDS.map((kind) => ({ kind, small: false, keys: seeds.map((s) => key(kind, widths, s)) })),
    ...KINDS.filter((k) => k !== 'float').map((kind) => ({
      kind,
      small: true,
      keys: Array.from({ length: stabilitySeeds }, (_, i) => key(kind, tiny, 100 + i)),
    })),
  ].map((g) => ({ ...g, runs: g.keys.map((k) => runs[k]).filter(Boolean), absent: g.keys.filter((k) => !runs[k]) }));
  const missing = groups.flatMap((g) => g.absent);
  const main = groups.filter((g) => !g.small && !g.absent.length);
  const small = groups.filter((g) => g.small && !g.absent.length);
  /** The missing runs of these groups, for a criterion that needs them. */
  const lacking = (kinds: BlockKind[], isSmall: boolean) =>
    groups
      .filter((g) => g.small === isSmall && kinds.includes(g.kind))
      .flatMap((g) => g.absent)
      .join(', ');
  const acc = (rs: Run[]) => meanStd(rs.map((r) => r.accuracy));
  const row = (k: BlockKind) => main.find((m) => m.kind === k);
  const [, b] = widths;
  const ops = Object.fromEntries(KINDS.map((k) => [k, opsPerOutput(k, b, b)]));
  const cost = Object.fromEntries(
    KINDS.map((k) => {
      const p = profileModel(buildModel(binaryJetSpec(k, widths), 1) as Sequential, [1, 28, 28]);
      return [k, { params: p.params, macs: p.macs, binary: p.summary.binary }];
    }),
  );
  const lat = seeds
    .map((s) => (runs as unknown as Record<string, Latency | undefined>)[latencyKey(s)])
    .filter((l): l is Latency => !!l);
  const criteria: Criterion[] = [];
  for (const k of ['jet', 'jet-constrained'] as const) {
    const name = `${k}: accuracy within 2 pt of the binary-conv network`,
      rb = row('binary'),
      rk = row(k);
    if (rb && rk) {
      const d = acc(rb.runs).mean - acc(rk.runs).mean;
      criteria.push(criterion(name, 'drop ≤ 2.0 pt', d, d <= 0.02, Math.min(rb.runs.length, rk.runs.length)));
    } else criteria.push(unmeasured(name, 'drop ≤ 2.0 pt', lacking(['binary', k], false)));
    criteria.push(
      criterion(
        `${k}: analytic operations per output value (a formula of the widths, not measured) below the binary ` +
          `conv's (${ops.binary} XNOR-popcount bits)`,
        `< ${ops.binary}`,
        ops[k],
        ops[k] < ops.binary,
      ),
    );
    // "Fewer resources", measured: the deployed networks timed side by side.
    const timeName = `${k}: measured inference time of the packed network at batch 64 ÷ the binary conv network's`;
    if (lat.length === seeds.length) {
      const ratio = meanStd(lat.map((l) => l[k] / l.binary)).mean;
      criteria.push(criterion(timeName, '< 1', ratio, ratio < 1, lat.length));
    } else criteria.push(unmeasured(timeName, '< 1', 'the latency phase (--resume times the saved networks)'));
  }
  const stdOf = (k: BlockKind) => acc(small.find((s) => s.kind === k)?.runs ?? []).std;
  const stability =
    `stability, tiny net ${tiny.join('-')}, ${stabilitySeeds} seeds: ` +
    'std of jet ≤ std of binary conv (directional)';
  const lackStability = lacking(['binary', 'jet'], true);
  criteria.push(
    lackStability
      ? unmeasured(stability, '≤ std of binary conv', lackStability)
      : criterion(
          stability,
          `≤ ${stdOf('binary').toFixed(4)}`,
          stdOf('jet'),
          stdOf('jet') <= stdOf('binary'),
          stabilitySeeds,
        ),
  );
  const allRuns = groups.flatMap((m) => m.runs).filter((r) => r.kind !== 'float');
  criteria.push(
    criterion(
      'packed XNOR-popcount inference predicts exactly as the float simulation (every binary run)',
      'all identical',
      allRuns.filter((r) => r.predictionsEqual).length,
      allRuns.every((r) => r.predictionsEqual),
    ),
  );
  return {
    name: 'binary-jets',
    dataset: 'fashion-mnist',
    mode: config.quick ? 'quick' : 'full',
    seeds,
    paper: {
      claims: [
        'jet layer accuracy comparable to standard BNN conv layers',
        'fewer computational resources',
        'more stable when training small models',
      ],
      numbers: 'not available (abstract only)',
    },
    ours: {
      config,
      backend: backendName(),
      opsPerOutput: ops,
      cost,
      latencyMs64: lat,
      rows: main.map((m) => ({
        kind: m.kind,
        accuracy: acc(m.runs),
        packedAccuracy: m.kind === 'float' ? undefined : meanStd(m.runs.map((r) => r.packedAccuracy!)),
      })),
      stability: small.map((s) => ({
        kind: s.kind,
        widths: tiny,
        accuracy: acc(s.runs),
        values: s.runs.map((r) => r.accuracy),
      })),
    },
    criteria,
    ...(missing.length ? { missing } : {}),
  };
}

const latencyCell = (lat: Latency[] | undefined, k: BlockKind) =>
  lat?.length ? meanStd(lat.map((l) => l[k])).mean.toFixed(2) : '—';

export function binaryJetsMarkdown(r: ReproduceReport): string {
  const pct = (v: number) => `${(100 * v).toFixed(2)}%`;
  const ours = r.ours as {
    config: unknown;
    opsPerOutput: Record<string, number>;
    latencyMs64?: Latency[];
    rows: { kind: string; accuracy: { mean: number; std: number } }[];
    stability: { kind: string; accuracy: { mean: number; std: number } }[];
  };
  return [
    `# Binary networks and neural jet features — ${r.mode} run`,
    '',
    `Settings ${JSON.stringify(ours.config)}. The paper states only qualitative claims (comparable accuracy, ` +
      `fewer resources, more stable small models); its numbers are not available to us.`,
    '',
    'Choices: none is made from data. The recipe (Adam 1e-3, cosine decay, the epochs above) is fixed in advance ' +
      '[OURS]; the test set is read once per final model.',
    '',
    'Operations per output value are analytic (a formula of the widths); inference time is measured: the ' +
      'deployed networks (packed bits, the float one as trained) loaded from their files and timed side by side in ' +
      'one process, batch 64, median of interleaved rounds, mean over seeds.',
    '',
    '| network | test accuracy | analytic operations per output value (blocks) | measured ms per batch of 64 |',
    '|---|---|---|---|',
    ...ours.rows.map(
      (x) =>
        `| ${x.kind} | ` +
        `${pct(x.accuracy.mean)}${r.seeds.length > 1 ? ` ± ${(100 * x.accuracy.std).toFixed(2)}` : ''} | ` +
        `${ours.opsPerOutput[x.kind].toFixed(1)} | ${latencyCell(ours.latencyMs64, x.kind as BlockKind)} |`,
    ),
    '',
    '| tiny network | mean test accuracy | std over seeds |',
    '|---|---|---|',
    ...ours.stability.map((x) => `| ${x.kind} | ${pct(x.accuracy.mean)} | ${(100 * x.accuracy.std).toFixed(2)} pt |`),
    '',
  ].join('\n');
}

export const binaryJets: Reproduction = {
  name: 'binary-jets',
  describe: 'neural jet features against binary convolutions (Simons & Lee): accuracy, operations, stability',
  options: {},
  run: (ctx) => reproduceBinaryJets(ctx),
  fromState: (st, seeds) => binarySummary(st.runs as Record<string, Run>, seeds ? { ...st.config, seeds } : st.config),
  report: binaryJetsMarkdown,
};
