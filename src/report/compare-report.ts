// The report of `frugal compare`: DIR/report.json holds every number; DIR/report.html shows the table and the
// charts (accuracy against latency and against bytes with the Pareto front, per-layer cost, training curves).
import { htmlPage, type ReportChart } from './html.js';
import { barsSpec, linesSpec, paretoSpec, renderChart } from './vega.js';

/** One variant's row of the comparison (skipped variants carry only name, status and reason). */
export interface CompareVariant {
  name: string;
  status: 'done' | 'skipped';
  reason?: string;
  testAccuracy?: number;
  testBalancedAccuracy?: number;
  valAccuracy?: number;
  params?: number;
  nonzeroParams?: number;
  bytesOnDisk?: number;
  macs?: number;
  effectiveMacs?: number;
  /** Median milliseconds per call at batch 1 and at batch 64 (interleaved rounds). */
  latencyMs?: { batch1: number; batch64: number };
  layers?: { name: string; type: string; params: number; macs: number; effectiveMacs: number }[];
  history?: { epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }[];
  settings?: Record<string, unknown>;
  file?: string;
}

export interface CompareResult {
  command: 'compare';
  model: string;
  dataset: string;
  dataSource: string;
  commit: string;
  date: string;
  seed: number;
  epochs: number;
  fineTuneEpochs: number;
  trainCount: number;
  validationCount: number;
  testCount: number;
  /** os.loadavg() (1, 5, 15 min) before and after the latency rounds: how busy the machine was. */
  load: { before: number[]; after: number[] };
  latencyRounds: number;
  variants: CompareVariant[];
}

const pct = (v: number | undefined) => (v === undefined ? '–' : `${(100 * v).toFixed(2)}%`);
const int = (v: number | undefined) => (v === undefined ? '–' : Math.round(v).toLocaleString('en-US'));
const ms = (v: number | undefined) => (v === undefined ? '–' : v < 1 ? v.toFixed(3) : v.toFixed(2));

/** The charts of a comparison, rendered to SVG by Vega. */
export async function compareCharts(r: CompareResult): Promise<ReportChart[]> {
  const done = r.variants.filter((v) => v.status === 'done' && v.testAccuracy !== undefined);
  const charts: ReportChart[] = [];
  const scatter = async (id: string, title: string, xTitle: string, x: (v: CompareVariant) => number | undefined) => {
    const points = done.flatMap((v) => {
      const xv = x(v);
      return xv === undefined ? [] : [{ name: v.name, x: xv, y: 100 * v.testAccuracy! }];
    });
    if (!points.length) return;
    const svg = await renderChart(paretoSpec({ title, xTitle, yTitle: 'test accuracy (%)', points }));
    charts.push({ id, svg, marks: 'points', expect: points.length, caption: 'Dashed red: the Pareto front.' });
  };
  await scatter(
    'pareto-latency',
    'Accuracy against latency (batch 1)',
    'median ms per sample, batch 1',
    (v) => v.latencyMs?.batch1,
  );
  await scatter('pareto-bytes', 'Accuracy against size on disk', 'bytes of the saved file', (v) => v.bytesOnDisk);
  const rows = done.flatMap((v) =>
    (v.layers ?? [])
      .filter((l) => l.macs > 0)
      .map((l) => ({ row: v.name, part: `${l.name} ${l.type}`, value: l.effectiveMacs })),
  );
  if (rows.length)
    charts.push({
      id: 'layer-cost',
      svg: await renderChart(barsSpec({ title: 'Effective MACs per layer', xTitle: 'MACs per sample', rows })),
      marks: 'bars',
      caption: 'Multiply-accumulates with a non-zero weight, per layer (the layers of each variant stacked).',
    });
  const curve = (key: 'valAccuracy' | 'loss') =>
    done.flatMap((v) =>
      (v.history ?? []).flatMap((h) => {
        const y = h[key];
        return y === undefined ? [] : [{ series: v.name, x: h.epoch, y: key === 'loss' ? y : 100 * y }];
      }),
    );
  const acc = curve('valAccuracy'),
    loss = curve('loss');
  if (acc.length)
    charts.push({
      id: 'curves-accuracy',
      svg: await renderChart(linesSpec({ title: 'Validation accuracy', xTitle: 'epoch', yTitle: '%', rows: acc })),
      marks: 'lines',
    });
  if (loss.length)
    charts.push({
      id: 'curves-loss',
      svg: await renderChart(linesSpec({ title: 'Training loss', xTitle: 'epoch', yTitle: 'loss', rows: loss })),
      marks: 'lines',
    });
  return charts;
}

/** The report page of a comparison (one self-contained HTML file). */
export async function compareHtml(r: CompareResult): Promise<string> {
  const charts = await compareCharts(r);
  const done = r.variants.filter((v) => v.status === 'done');
  const skipped = r.variants.filter((v) => v.status === 'skipped');
  const byId = (ids: string[]) => charts.filter((c) => ids.includes(c.id));
  return htmlPage({
    title: `frugal compare: ${r.model} on ${r.dataset}`,
    meta: [
      ['commit', r.commit],
      ['date', r.date],
      ['data', `${r.dataSource}: ${r.trainCount} train, ${r.validationCount} validation, ${r.testCount} test`],
      ['training', `${r.epochs} epoch(s); fine-tuning ${r.fineTuneEpochs} epoch(s); seed ${r.seed}`],
      [
        'machine load',
        `load average ${r.load.before.map((v) => v.toFixed(2)).join(' ')} before, ` +
          `${r.load.after.map((v) => v.toFixed(2)).join(' ')} after the latency rounds (${r.latencyRounds} rounds)`,
      ],
    ],
    sections: [
      {
        heading: 'Variants',
        text: [
          'Every variant measured in one process on the same test set, read once per final model; every choice ' +
            '(epochs kept, time steps) was made on the validation split. Latency: median of interleaved rounds.',
        ],
        table: {
          head: [
            'variant',
            'test acc.',
            'balanced',
            'val. acc.',
            'params',
            'non-zero',
            'bytes on disk',
            'MACs',
            'eff. MACs',
            'ms @1',
            'ms @64',
          ],
          rows: done.map((v) => [
            v.name,
            pct(v.testAccuracy),
            pct(v.testBalancedAccuracy),
            pct(v.valAccuracy),
            int(v.params),
            int(v.nonzeroParams),
            int(v.bytesOnDisk),
            int(v.macs),
            int(v.effectiveMacs),
            ms(v.latencyMs?.batch1),
            ms(v.latencyMs?.batch64),
          ]),
        },
      },
      ...(skipped.length
        ? [
            {
              heading: 'Skipped variants',
              table: {
                head: ['variant', 'reason'],
                rows: skipped.map((v) => [v.name, v.reason ?? '']),
                textColumns: [0, 1],
              },
            },
          ]
        : []),
      { heading: 'Accuracy against cost', charts: byId(['pareto-latency', 'pareto-bytes']) },
      { heading: 'Cost per layer', charts: byId(['layer-cost']) },
      { heading: 'Training curves', charts: byId(['curves-accuracy', 'curves-loss']) },
    ],
  });
}
