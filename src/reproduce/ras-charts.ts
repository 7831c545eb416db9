// Spec 10's charts: training loss against epochs and against wall-clock, and gradient variance over training,
// one of each per data variant and optimizer, every method's mean over seeds.
import { lineChartSpec, type ChartSpec, type Series } from '../report/vega.js';
import { meanStd } from './report.js';
import type { Method, RasRun } from './ras-criteria.js';

const mean = (v: number[]) => meanStd(v).mean;

/** Per-index mean over runs of equal-length arrays (cut to the shortest). */
function meanCurve(arrays: number[][]): number[] {
  const k = Math.min(...arrays.map((a) => a.length));
  return Array.from({ length: k }, (_, i) => mean(arrays.map((a) => a[i])));
}

/** Cumulative sums: the wall-clock at the end of each epoch. */
const cumulative = (v: number[]) => v.map((_, i) => v.slice(0, i + 1).reduce((a, b) => a + b, 0));

/** The three charts of each variant and optimizer, by file-name suffix. */
const CHARTS = ['loss-epochs', 'loss-clock', 'variance'] as const;

/** The three charts of one variant and optimizer, as Vega-Lite specs by file name. */
function groupCharts(runs: RasRun[], tag: string, title: string): Record<string, ChartSpec> {
  const methods = [...new Set(runs.map((r) => r.method))] as Method[];
  const by = (m: Method) => runs.filter((r) => r.method === m);
  const loss = (x: (rs: RasRun[]) => number[]): Series[] =>
    methods.map((m) => {
      const y = meanCurve(by(m).map((r) => r.trainLoss)),
        xs = x(by(m));
      return { name: m, points: y.map((v, i) => ({ x: xs[i], y: v })) };
    });
  const epochs = (rs: RasRun[]) => meanCurve(rs.map((r) => r.trainLoss)).map((_, i) => i + 1);
  const clock = (rs: RasRun[]) => meanCurve(rs.map((r) => cumulative(r.epochSeconds)));
  // Checkpoints are spread evenly over the epochs (one at each end, and mid-epoch ones in full runs).
  const variance: Series[] = methods.map((m) => {
    const v = meanCurve(by(m).map((r) => r.variance.map((c) => c.v))),
      E = by(m)[0].trainLoss.length;
    return { name: m, points: v.map((y, i) => ({ x: ((i + 1) * E) / v.length, y })) };
  });
  return {
    [`${tag}-${CHARTS[0]}.svg`]: lineChartSpec({
      title: `${title}: full training loss`,
      xLabel: 'epoch',
      yLabel: 'training loss',
      logY: true,
      series: loss(epochs),
    }),
    [`${tag}-${CHARTS[1]}.svg`]: lineChartSpec({
      title: `${title}: full training loss against training time`,
      xLabel: 'seconds of training (measurements excluded)',
      yLabel: 'training loss',
      logY: true,
      series: loss(clock),
    }),
    [`${tag}-${CHARTS[2]}.svg`]: lineChartSpec({
      title: `${title}: gradient variance E‖ĝ − ∇L‖²`,
      xLabel: 'epoch',
      yLabel: 'variance',
      logY: true,
      series: variance.filter((s) => s.points.some((p) => Number.isFinite(p.y))),
    }),
  };
}

/** The variant/optimizer groups of the runs, each with its file-name prefix `ras[-quick]-VARIANT-OPTIMIZER`. */
function groupsOf(runs: RasRun[], quick: boolean) {
  return [...new Set(runs.map((r) => `${r.variant}/${r.optimizer}`))].map((g) => {
    const [variant, optimizer] = g.split('/');
    return { variant, optimizer, tag: `ras${quick ? '-quick' : ''}-${variant}-${optimizer}` };
  });
}

/** The file names rasCharts writes, without drawing them (the document embeds them). */
export function rasChartNames(runs: RasRun[], quick: boolean): string[] {
  return groupsOf(runs, quick).flatMap((g) => CHARTS.map((c) => `${g.tag}-${c}.svg`));
}

/** Every chart of a ras report, by file name (`ras[-quick]-VARIANT-OPTIMIZER-…svg`). */
export function rasCharts(runs: RasRun[], quick: boolean): Record<string, ChartSpec> {
  const out: Record<string, ChartSpec> = {};
  for (const g of groupsOf(runs, quick)) {
    const rs = runs.filter((r) => r.variant === g.variant && r.optimizer === g.optimizer);
    Object.assign(out, groupCharts(rs, g.tag, `${g.variant} / ${g.optimizer}`));
  }
  return out;
}
