// The results document of `frugal reproduce snn`: Markdown tables and two charts (Vega-Lite, rendered to SVG).
import type { ReproduceReport } from './report.js';
import { curveTable, meanCurve, stagesTable, type SnnRun } from './snn-criteria.js';
import type { CnnRun, Config } from './snn.js';
import { lineChartSpec, type ChartSpec } from '../report/vega.js';

const pc = (x: number, d = 2) => `${(100 * x).toFixed(d)}%`;

export function snnMarkdown(r: ReproduceReport): string {
  const o = r.ours as { config: Config; runs: SnnRun[]; cnn: CnnRun | null; lambdaSelection: unknown };
  const runs = o.runs,
    cnn = o.cnn;
  const gap = runs.length ? runs.reduce((a, x) => a + x.floatAccuracy - x.spikingAccuracy, 0) / runs.length : NaN;
  const r0 = runs[0];
  return [
    `# Hardware spiking network with L1 pruning (Lee et al.) — ${r.mode} run`,
    '',
    'A faithful **model** of hardware, not hardware: weights are pairs of modelled conductances ' +
      `w = β(G⁺ − G⁻) (G_min 0.1, G_max 1, L levels), neurons are integrate-and-fire (threshold 1, reset by ` +
      `subtraction), input is a constant current equal to the pixel (${o.config.coding}). Settings ` +
      `${JSON.stringify(o.config)}. λ chosen on the validation split (the most pruned within 0.5 pt of the best ` +
      `pruned validation accuracy): ${JSON.stringify(o.lambdaSelection)}.`,
    '',
    runs.length ? stagesTable(runs) : '(no MLP run)',
    '',
    `End-to-end gap, float DNN − SNN: **ours ${(100 * gap).toFixed(2)} pt on Fashion-MNIST** ` +
      '(784-' +
      `${o.config.hidden}-10) beside **the paper's 0.28 pt (98.13% → 97.85%; data set not stated, MNIST likely)**.`,
    '',
    `Accuracy against T (test, mean over seeds; chart: ${chartName(r, 'accuracy-vs-t')}):`,
    '',
    `![accuracy against T](${chartName(r, 'accuracy-vs-t')})`,
    '',
    runs.length ? curveTable(runs) : '',
    '',
    ...(r0
      ? [
          `Pruning curve of seed ${r0.seed} (validation accuracy against the share removed; the rule takes the ` +
            'largest ' +
            'threshold within 0.1 pt):',
          '',
          `![pruning curve](${chartName(r, 'pruning')})`,
          '',
          '| removed | validation accuracy |',
          '|---|---|',
          ...r0.pruneCurve.map((p) => `| ${pc(p.fraction)} | ${pc(p.valAccuracy)} |`),
          '',
          'Other devices (quantised ANN, test accuracy, seed ' + `${r0.seed}):`,
          '',
          '| L | ν | σ | accuracy |',
          '|---|---|---|---|',
          ...r0.deviceSweep.map((d) => `| ${d.levels} | ${d.nonlinearity} | ${d.variation} | ${pc(d.accuracy)} |`),
          '',
          `Cost per inference (seed ${r0.seed}, T = ${o.config.timesteps[o.config.timesteps.length - 1]}): ` +
            `${Math.round(r0.spikesPerInference).toLocaleString('en-US')} spikes, ` +
            `${Math.round(r0.synapticEventsPerInference).toLocaleString('en-US')} synaptic events (constant input: ` +
            "every non-zero pixel drives its fan-out each step) against the ANN's " +
            `${r0.annMacs.toLocaleString('en-US')} MACs (${r0.annEffectiveMacs.toLocaleString('en-US')} non-zero). ` +
            'No energy figure: we have no per-event constant with a source for these devices.',
          '',
        ]
      : []),
    ...(cnn
      ? [
          `CNN with average pooling (${JSON.stringify(o.config.cnnWidths)}, seed 1, first ${cnn.testImages} test ` +
            `images for every stage): float ${pc(cnn.floatAccuracy)} → pruned ${pc(cnn.prunedAccuracy)} ` +
            `(${pc(cnn.prunedFraction)} removed) → L16 ${pc(cnn.quantizedAccuracy)} → SNN ` +
            cnn.curve.map((p) => `T ${p.timesteps}: ${pc(p.accuracy)}`).join(', ') +
            `; ${Math.round(cnn.spikesPerInference).toLocaleString('en-US')} spikes and ` +
            `${Math.round(cnn.synapticEventsPerInference).toLocaleString('en-US')} synaptic events per inference.`,
          '',
        ]
      : []),
  ].join('\n');
}

const chartName = (r: ReproduceReport, what: string) => `snn${r.mode === 'quick' ? '-quick' : ''}-${what}.svg`;

/** Accuracy against T for each conversion (mean over seeds), and validation accuracy against % pruned (seed 1). */
export function snnCharts(r: ReproduceReport): Record<string, ChartSpec> {
  const runs = (r.ours as { runs: SnnRun[] }).runs;
  if (!runs.length) return {};
  const names: [keyof SnnRun['curves'], string][] = [
    ['max', 'max norm., subtract'],
    ['percentile', '99.9th pct., subtract'],
    ['zeroReset', 'max norm., reset to 0'],
    ['none', 'no normalisation'],
  ];
  return {
    [chartName(r, 'accuracy-vs-t')]: lineChartSpec({
      title: 'Spiking MLP: test accuracy against time steps T',
      xLabel: 'time steps T',
      yLabel: 'test accuracy (%)',
      logX: true,
      series: names.map(([k, name]) => ({
        name,
        points: meanCurve(runs, k).map((p) => ({ x: p.timesteps, y: 100 * p.accuracy })),
      })),
    }),
    [chartName(r, 'pruning')]: lineChartSpec({
      title: `One-shot pruning, seed ${runs[0].seed}: validation accuracy against connections removed`,
      xLabel: 'connections removed (%)',
      yLabel: 'validation accuracy (%)',
      series: [
        {
          name: 'pruned once',
          points: runs[0].pruneCurve.map((p) => ({ x: 100 * p.fraction, y: 100 * p.valAccuracy })),
        },
      ],
    }),
  };
}
