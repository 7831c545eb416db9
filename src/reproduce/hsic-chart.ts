// The chart of `frugal reproduce hsic`: each block's path in the (nHSIC(Z, X), nHSIC(Z, Y)) plane over training
// (the F1 probe, first seed), the HSIC-bottleneck paper's "information plane" view, as a Vega-Lite spec that the
// results writer renders to SVG (src/report/vega.ts).
import type { ChartSpec } from '../report/vega.js';
import type { HsicRun } from './hsic-criteria.js';

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/**
 * One path per block (mark group `paths`, drawn in epoch order) from before training (open circle, `starts`) to
 * the last epoch (filled, `ends`); a chart holding only a note when no F1 HSIC run has a probe.
 */
export function planeSpec(runs: HsicRun[]): ChartSpec {
  const run = runs.find((x) => x.variant === 'F1' && x.trainer === 'hsic' && x.probe?.length);
  if (!run)
    return {
      width: 300,
      height: 40,
      data: { values: [{ note: 'no F1 HSIC run with a probe' }] },
      mark: { type: 'text', name: 'note' },
      encoding: { text: { field: 'note' } },
    } as ChartSpec;
  const p = run.probe!,
    last = p.length - 1;
  const blocks = Array.from({ length: p[0].zx.length }, (_, i) => `block ${i + 1}`);
  const values = p.flatMap((q, step) => blocks.map((block, i) => ({ block, step, zx: q.zx[i], zy: q.zy[i] })));
  const x = { field: 'zx', type: 'quantitative', title: 'nHSIC(Z, X)' },
    y = { field: 'zy', type: 'quantitative', title: 'nHSIC(Z, Y)' };
  const color = { field: 'block', type: 'nominal', title: null, scale: { domain: blocks, range: COLOURS } };
  return {
    title: { text: 'Information plane', subtitle: `seed ${run.seed}: ○ before training, ● after epoch ${last}` },
    width: 360,
    height: 260,
    data: { values },
    layer: [
      {
        name: 'paths',
        mark: { type: 'line', strokeWidth: 1.5 },
        encoding: { x, y, color, order: { field: 'step', type: 'quantitative' } },
      },
      {
        name: 'starts',
        transform: [{ filter: 'datum.step === 0' }],
        mark: { type: 'point', filled: false, fill: 'white', size: 40, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        name: 'ends',
        transform: [{ filter: `datum.step === ${last}` }],
        mark: { type: 'point', filled: true, size: 40, opacity: 1 },
        encoding: { x, y, color },
      },
    ],
  } as ChartSpec;
}
