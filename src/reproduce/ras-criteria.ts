// Spec 10's pass criteria and results table, from the measured runs of `frugal reproduce ras`.
// Pure functions of the numbers, so each criterion has a test that feeds it a failing result.
import { criterion, meanStd, type Criterion } from './report.js';

export const METHODS = ['uniform', 'obs', 'kf', 'as', 'ras', 'ras-kl'] as const;
export type Method = (typeof METHODS)[number];
export type Variant = 'balanced' | 'long-tailed';
export type OptName = 'sgd' | 'adam';

/** One finished training run (one seed of one method). */
export interface RasRun {
  variant: Variant;
  optimizer: OptName;
  method: Method;
  seed: number;
  lr: number;
  testAccuracy: number;
  /** Full training-set loss at the end of each epoch. */
  trainLoss: number[];
  /**
   * At each checkpoint: E‖ĝ − ∇L‖² of this method's sampler and of uniform batches (the shuffle's distinct
   * rows; and with replacement, vUniformWr), at the same parameters.
   */
  variance: { v: number; vUniform: number; vUniformWr?: number }[];
  /** Largest importance weight drawn in each epoch (1 for unweighted samplers). */
  maxWeight: number[];
  /** Training seconds of each epoch, measurements excluded. */
  epochSeconds: number[];
  extraForwardRows: number;
}

export interface Unbiasedness {
  z: Record<string, number>;
  biasedControlZ: number;
}

const mean = (v: number[]) => meanStd(v).mean;
const runsOf = (runs: RasRun[], v: Variant, o: OptName, m: Method) =>
  runs.filter((r) => r.variant === v && r.optimizer === o && r.method === m);

/** Per-checkpoint means over seeds of v and v_uniform. */
function varianceCurve(rs: RasRun[]): { v: number; vUniform: number }[] {
  const k = Math.min(...rs.map((r) => r.variance.length));
  return Array.from({ length: k }, (_, c) => ({
    v: mean(rs.map((r) => r.variance[c].v)),
    vUniform: mean(rs.map((r) => r.variance[c].vUniform)),
  }));
}

/** Mean over epochs of the full training loss, one value per seed. */
const lossPerSeed = (rs: RasRun[]) => rs.map((r) => mean(r.trainLoss));

/** The training-loss gap uniform − RAS (positive: RAS lower) and its size against the seeds' spread. */
export function lossGap(uni: RasRun[], ras: RasRun[]): { gap: number; effectSize: number; seedStd: number } {
  const a = meanStd(lossPerSeed(uni)),
    b = meanStd(lossPerSeed(ras));
  const seedStd = Math.sqrt((a.std ** 2 + b.std ** 2) / 2);
  const gap = a.mean - b.mean;
  return { gap, effectSize: seedStd > 0 ? gap / seedStd : NaN, seedStd };
}

/** A run's typical epoch time: the median, so a first-epoch warm-up or a burst of machine load does not count. */
export function epochTime(r: RasRun): number {
  const t = [...r.epochSeconds].sort((a, b) => a - b);
  return t.length % 2 ? t[(t.length - 1) / 2] : (t[t.length / 2 - 1] + t[t.length / 2]) / 2;
}

const pt = (x: number) => `${(100 * x).toFixed(2)} pt`;

/** The criteria of spec 10 (1–6; OBS, criterion 7, is reported in the table, not gated). */
export function rasCriteria(runs: RasRun[], unbiased: Unbiasedness): Criterion[] {
  const out: Criterion[] = [];
  const zMax = Math.max(...Object.values(unbiased.z));
  out.push(
    criterion(
      `1. unbiased: mean of 2000 ω-weighted batch gradients = ∇L on a tiny model, max |z| over ` +
        `${Object.keys(unbiased.z).join(', ')}`,
      '< 3',
      zMax,
      zMax < 3,
    ),
    criterion(
      '1b. the same check detects bias: RAS with its weights dropped',
      '> 3',
      unbiased.biasedControlZ,
      unbiased.biasedControlZ > 3,
    ),
  );
  const variants = [...new Set(runs.map((r) => r.variant))];
  const opts = [...new Set(runs.map((r) => r.optimizer))];
  for (const v of variants) {
    for (const o of opts) {
      const uni = runsOf(runs, v, o, 'uniform'),
        ras = runsOf(runs, v, o, 'ras');
      if (!uni.length || !ras.length) continue;
      const curve = varianceCurve(ras);
      const share = curve.filter((c) => c.v <= c.vUniform).length / curve.length;
      out.push(
        criterion(
          `2. ${v}/${o}: RAS gradient variance ≤ uniform's (same parameters) at ≥ 80% of ` +
            `${curve.length} checkpoints`,
          '≥ 0.80',
          share,
          share >= 0.8,
          Math.min(uni.length, ras.length),
        ),
      );
      const d = mean(ras.map((r) => r.testAccuracy)) - mean(uni.map((r) => r.testAccuracy));
      out.push(
        criterion(
          `3. ${v}/${o}: RAS test accuracy − uniform's`,
          '|Δ| ≤ 0.50 pt',
          d,
          Math.abs(d) <= 0.005,
          Math.min(uni.length, ras.length),
        ),
      );
      if (v === 'long-tailed') {
        const g = lossGap(uni, ras);
        out.push(
          criterion(
            `4. ${v}/${o}: uniform − RAS mean training loss over epochs (effect size ` +
              `${Number.isFinite(g.effectSize) ? g.effectSize.toFixed(2) : 'n/a, one seed'} seed std)`,
            '> 0',
            g.gap,
            g.gap > 0,
            Math.min(uni.length, ras.length),
          ),
        );
      }
    }
    const as = runs.filter((r) => r.variant === v && r.method === 'as'),
      ras = runs.filter((r) => r.variant === v && r.method === 'ras');
    if (as.length && ras.length) {
      const wAs = mean(as.map((r) => Math.max(...r.maxWeight))),
        wRas = mean(ras.map((r) => Math.max(...r.maxWeight)));
      const spike = (rs: RasRun[]) => mean(rs.map((r) => Math.max(...r.variance.map((c) => c.v / c.vUniform))));
      const ratio = wAs / wRas,
        spikes = spike(as) > spike(ras);
      out.push(
        criterion(
          `5. ${v}: AS max ω ÷ RAS max ω (or AS's variance spikes above RAS's: ${spikes ? 'yes' : 'no'})`,
          '> 1 or spikes',
          ratio,
          ratio > 1 || spikes,
          new Set(ras.map((r) => r.seed)).size,
        ),
      );
    }
  }
  const secs = (m: Method) => runs.filter((r) => r.method === m).reduce((a, r) => a + epochTime(r), 0);
  if (secs('uniform') > 0 && secs('ras') > 0) {
    const ratio = secs('ras') / secs('uniform');
    out.push(
      criterion(
        '6. RAS time per epoch ÷ uniform (same run, median epoch, measurements excluded)',
        '≤ 1.10',
        ratio,
        ratio <= 1.1,
        new Set(runs.filter((r) => r.method === 'ras').map((r) => r.seed)).size,
      ),
    );
  }
  return out;
}

/** The Markdown table of every method: accuracy, losses, weights, variance against uniform, time. */
export function rasTable(runs: RasRun[]): string {
  const lines = [
    '| data / optimizer | method | lr | test accuracy | final train loss | mean train loss | max ω | ' +
      'variance ÷ uniform (median) | ÷ uniform with replacement | time ÷ uniform |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  const variants = [...new Set(runs.map((r) => r.variant))],
    opts = [...new Set(runs.map((r) => r.optimizer))];
  for (const v of variants) {
    for (const o of opts) {
      const uniSecs = mean(runsOf(runs, v, o, 'uniform').map(epochTime));
      for (const m of METHODS) {
        const rs = runsOf(runs, v, o, m);
        if (!rs.length) continue;
        const acc = meanStd(rs.map((r) => r.testAccuracy)),
          fin = meanStd(rs.map((r) => r.trainLoss[r.trainLoss.length - 1])),
          avg = meanStd(lossPerSeed(rs));
        const ratios = rs.flatMap((r) => r.variance.map((c) => c.v / c.vUniform)).filter(Number.isFinite);
        ratios.sort((a, b) => a - b);
        const med = ratios.length ? ratios[Math.floor(ratios.length / 2)] : NaN;
        const secs = mean(rs.map(epochTime));
        const wr = rs.flatMap((r) => r.variance.map((c) => c.v / (c.vUniformWr ?? NaN))).filter(Number.isFinite);
        wr.sort((a, b) => a - b);
        const medWr = wr.length ? wr[Math.floor(wr.length / 2)] : NaN;
        const sd = (x: { std: number }, f: (y: number) => string) => (rs.length > 1 ? ` ± ${f(x.std)}` : '');
        lines.push(
          `| ${v} / ${o} | ${m}${m === 'obs' ? ' (biased)' : ''} | ${rs[0].lr} | ` +
            `${(100 * acc.mean).toFixed(2)}%${sd(acc, (y) => (100 * y).toFixed(2))} | ` +
            `${fin.mean.toFixed(4)}${sd(fin, (y) => y.toFixed(4))} | ${avg.mean.toFixed(4)} | ` +
            `${mean(rs.map((r) => Math.max(...r.maxWeight))).toFixed(2)} | ` +
            `${Number.isFinite(med) ? med.toFixed(3) : 'not measured'} | ` +
            `${Number.isFinite(medWr) ? medWr.toFixed(3) : '—'} | ${(secs / uniSecs).toFixed(2)} |`,
        );
      }
    }
  }
  return lines.join('\n');
}

/** OBS beside uniform (criterion 7: reported, not gated): accuracy and loss differences, variance ratio. */
export function obsReport(runs: RasRun[]): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const v of [...new Set(runs.map((r) => r.variant))]) {
    for (const o of [...new Set(runs.map((r) => r.optimizer))]) {
      const uni = runsOf(runs, v, o, 'uniform'),
        obs = runsOf(runs, v, o, 'obs');
      if (!uni.length || !obs.length) continue;
      out.push({
        variant: v,
        optimizer: o,
        accuracyMinusUniform: pt(mean(obs.map((r) => r.testAccuracy)) - mean(uni.map((r) => r.testAccuracy))),
        lossGapUniformMinusObs: lossGap(uni, obs).gap,
        meanSquaredErrorOverUniform: mean(obs.flatMap((r) => r.variance.map((c) => c.v / c.vUniform))),
      });
    }
  }
  return out;
}
