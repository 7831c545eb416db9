// The report of one training run (`frugal train --report DIR`): loss and accuracy curves, the per-layer cost
// table and the test confusion matrix as a heat map, in one self-contained HTML page beside report.json.
import { htmlPage, type ReportChart } from './html.js';
import type { ModelProfile } from './profile.js';
import { heatmapSpec, linesSpec, renderChart } from './vega.js';

export interface TrainReportInput {
  model: string;
  dataset: string;
  commit: string;
  date: string;
  /** Key facts (optimizer, lr, epochs, data…), shown under the title. */
  meta: [string, string | number][];
  history: { epoch: number; loss: number; accuracy: number; valLoss?: number; valAccuracy?: number }[];
  profile: ModelProfile;
  testAccuracy: number;
  testBalancedAccuracy: number;
  /** confusion[true][predicted] on the test set. */
  confusion: number[][];
  classNames?: string[];
}

/** The HTML page of a training run. */
export async function trainHtml(r: TrainReportInput): Promise<string> {
  const charts: ReportChart[] = [];
  const rows = (key: 'loss' | 'valLoss' | 'accuracy' | 'valAccuracy', series: string, scale = 1) =>
    r.history.flatMap((h) => (h[key] === undefined ? [] : [{ series, x: h.epoch, y: scale * h[key]! }]));
  const loss = [...rows('loss', 'training'), ...rows('valLoss', 'validation')];
  const acc = [...rows('accuracy', 'training', 100), ...rows('valAccuracy', 'validation', 100)];
  if (loss.length)
    charts.push({
      id: 'curve-loss',
      svg: await renderChart(linesSpec({ title: 'Loss', xTitle: 'epoch', yTitle: 'cross-entropy', rows: loss })),
      marks: 'lines',
    });
  if (acc.length)
    charts.push({
      id: 'curve-accuracy',
      svg: await renderChart(linesSpec({ title: 'Accuracy', xTitle: 'epoch', yTitle: '%', rows: acc })),
      marks: 'lines',
    });
  const labels = r.confusion.map((_, i) => r.classNames?.[i] ?? String(i));
  const confusion: ReportChart = {
    id: 'confusion',
    svg: await renderChart(
      heatmapSpec({
        title: 'Confusion matrix (test set)',
        rowTitle: 'true class',
        colTitle: 'predicted class',
        labels,
        matrix: r.confusion,
      }),
    ),
    marks: 'cells',
    expect: labels.length * labels.length,
  };
  const int = (v: number) => Math.round(v).toLocaleString('en-US');
  return htmlPage({
    title: `frugal train: ${r.model} on ${r.dataset}`,
    meta: [
      ['commit', r.commit],
      ['date', r.date],
      ...r.meta,
      [
        'test accuracy',
        `${(100 * r.testAccuracy).toFixed(2)}% (balanced ${(100 * r.testBalancedAccuracy).toFixed(2)}%)`,
      ],
    ],
    sections: [
      { heading: 'Training curves', charts },
      {
        heading: 'Layers',
        table: {
          head: ['#', 'layer', 'output', 'params', 'non-zero', 'MACs', 'eff. MACs', 'bytes'],
          textColumns: [1, 2],
          rows: [
            ...r.profile.layers.map((l) => [
              l.index,
              l.type,
              `[${l.outputShape.join('×')}]`,
              int(l.params),
              int(l.nonzeroParams),
              int(l.macs),
              int(l.effectiveMacs),
              int(l.bytes),
            ]),
            [
              '',
              'total',
              `in [${r.profile.input.join('×')}]`,
              int(r.profile.params),
              int(r.profile.nonzeroParams),
              int(r.profile.macs),
              int(r.profile.effectiveMacs),
              int(r.profile.bytes),
            ],
          ],
        },
      },
      { heading: 'Errors by class', charts: [confusion] },
    ],
  });
}
