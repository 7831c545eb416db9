// Charts for reports: Vega-Lite specs compiled by vega-lite and drawn by Vega's headless SVG renderer, in Node,
// at build time (no canvas, no browser). One place so every report's charts look alike and are tested alike.
import type { TopLevelSpec } from 'vega-lite';

/** A Vega-Lite spec (a plain object; see https://vega.github.io/vega-lite/docs/). */
export type ChartSpec = TopLevelSpec;

/** The look shared by every chart: font, sizes, no network (Vega loads nothing: all data is inline). */
const CONFIG = {
  font: 'system-ui, sans-serif',
  view: { stroke: '#ddd' },
  axis: { labelFontSize: 11, titleFontSize: 12, gridColor: '#eee' },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 240 },
  title: { fontSize: 14, anchor: 'start' as const },
};

/**
 * Render a Vega-Lite spec to an SVG string: `vl.compile(spec)` gives a Vega spec, `vega.parse` a runtime
 * dataflow, and `View.toSVG()` its scene as SVG text, with renderer 'none' (nothing drawn on screen).
 * Text in the SVG (titles, labels, legend entries) is escaped by Vega's SVG writer.
 * @example
 * const svg = await renderChart({ data: { values: [{ x: 1, y: 2 }] }, mark: 'point',
 *   encoding: { x: { field: 'x', type: 'quantitative' }, y: { field: 'y', type: 'quantitative' } } });
 */
export async function renderChart(spec: ChartSpec): Promise<string> {
  // Loaded on first use: every CLI command imports the Node API, and only reports need Vega (~1 MB of code).
  const [vega, vl] = await Promise.all([import('vega'), import('vega-lite')]);
  const full = { ...spec, config: { ...CONFIG, ...(spec as { config?: object }).config } } as ChartSpec;
  // Vega-Lite warns on stderr when side-by-side panels merge their scales and legends (the intended result);
  // errors still throw. A report's output must not be strewn with them.
  const compiled = vl.compile(full, { logger: vega.logger(vega.Error) }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

/** One point of a scatter chart of variants. */
export interface ScatterPoint {
  name: string;
  x: number;
  y: number;
}

/**
 * Indices of the Pareto-optimal points when x is a cost (lower is better) and y a quality (higher is better):
 * point i is kept unless some j has x_j ≤ x_i and y_j ≥ y_i with one of them strict. Sorted by x.
 */
export function paretoFront(points: { x: number; y: number }[]): number[] {
  const keep: number[] = [];
  points.forEach((p, i) => {
    if (!Number.isFinite(p.x) || !Number.isFinite(p.y)) return;
    const dominated = points.some(
      (q, j) => j !== i && q.x <= p.x && q.y >= p.y && (q.x < p.x || q.y > p.y) && Number.isFinite(q.x + q.y),
    );
    if (!dominated) keep.push(i);
  });
  return keep.sort((a, b) => points[a].x - points[b].x || points[b].y - points[a].y);
}

/**
 * A scatter of variants (one point per variant, named `points` in the SVG) with the Pareto front drawn as a
 * step line through the non-dominated points (named `front`); x on a log scale when its range spans ×10.
 */
export function paretoSpec(o: { title: string; xTitle: string; yTitle: string; points: ScatterPoint[] }): ChartSpec {
  const front = new Set(paretoFront(o.points));
  const values = o.points.map((p, i) => ({ ...p, pareto: front.has(i) ? 'Pareto front' : 'dominated' }));
  const xs = o.points.map((p) => p.x).filter((v) => v > 0);
  const log = xs.length > 1 && Math.max(...xs) / Math.min(...xs) >= 10;
  const x = { field: 'x', type: 'quantitative', title: o.xTitle, scale: log ? { type: 'log' } : { zero: false } };
  const y = { field: 'y', type: 'quantitative', title: o.yTitle, scale: { zero: false } };
  return {
    title: o.title,
    width: 420,
    height: 280,
    data: { values },
    layer: [
      {
        name: 'front',
        transform: [{ filter: "datum.pareto === 'Pareto front'" }],
        mark: { type: 'line', interpolate: 'step-after', color: '#c33', strokeDash: [4, 3] },
        encoding: { x, y, order: { field: 'x', type: 'quantitative' } },
      },
      {
        name: 'points',
        mark: { type: 'point', filled: true, size: 80 },
        encoding: {
          x,
          y,
          color: { field: 'name', type: 'nominal', title: 'variant' },
          shape: { field: 'pareto', type: 'nominal', title: null },
          tooltip: [{ field: 'name' }, { field: 'x', title: o.xTitle }, { field: 'y', title: o.yTitle }],
        },
      },
      {
        name: 'labels',
        mark: { type: 'text', dx: 6, dy: -6, align: 'left', fontSize: 10 },
        encoding: { x, y, text: { field: 'name' } },
      },
    ],
  } as ChartSpec;
}

/** Lines of y against x, one per series (e.g. a training curve per variant), named `lines` in the SVG. */
export function linesSpec(o: {
  title: string;
  xTitle: string;
  yTitle: string;
  rows: { series: string; x: number; y: number }[];
  logY?: boolean;
}): ChartSpec {
  return {
    title: o.title,
    width: 420,
    height: 240,
    data: { values: o.rows.filter((r) => Number.isFinite(r.x) && Number.isFinite(r.y)) },
    mark: { type: 'line', point: true, name: 'lines' },
    name: 'lines',
    encoding: {
      x: { field: 'x', type: 'quantitative', title: o.xTitle, axis: { tickMinStep: 1, format: 'd' } },
      y: { field: 'y', type: 'quantitative', title: o.yTitle, scale: o.logY ? { type: 'log' } : { zero: false } },
      color: { field: 'series', type: 'nominal', title: null },
    },
  } as ChartSpec;
}

/** Horizontal bars: one row per `row`, stacked by `part` (e.g. MACs per layer of each variant), named `bars`. */
export function barsSpec(o: {
  title: string;
  xTitle: string;
  rows: { row: string; part: string; value: number }[];
  log?: boolean;
}): ChartSpec {
  return {
    title: o.title,
    width: 420,
    data: { values: o.rows },
    mark: { type: 'bar', name: 'bars' },
    name: 'bars',
    encoding: {
      y: { field: 'row', type: 'nominal', title: null, sort: null },
      x: { field: 'value', type: 'quantitative', title: o.xTitle, stack: 'zero' },
      color: { field: 'part', type: 'nominal', title: 'layer', sort: null },
      tooltip: [{ field: 'row' }, { field: 'part' }, { field: 'value' }],
    },
  } as ChartSpec;
}

/** A heat map of a matrix (e.g. a confusion matrix: rows true class, columns predicted), named `cells`. */
export function heatmapSpec(o: {
  title: string;
  rowTitle: string;
  colTitle: string;
  labels: string[];
  matrix: number[][];
}) {
  const values = o.matrix.flatMap((r, i) => r.map((v, j) => ({ row: o.labels[i], col: o.labels[j], v })));
  const enc = (f: string, t: string) => ({ field: f, type: 'ordinal', title: t, sort: o.labels });
  return {
    title: o.title,
    data: { values },
    encoding: { y: enc('row', o.rowTitle), x: enc('col', o.colTitle) },
    layer: [
      {
        name: 'cells',
        mark: { type: 'rect' },
        encoding: { color: { field: 'v', type: 'quantitative', title: 'count', scale: { scheme: 'blues' } } },
      },
      {
        mark: { type: 'text', fontSize: 9 },
        encoding: {
          text: { field: 'v', type: 'quantitative' },
          color: {
            condition: { test: `datum.v > ${0.5 * Math.max(1, ...o.matrix.flat())}`, value: 'white' },
            value: '#222',
          },
        },
      },
    ],
  } as ChartSpec;
}

/** One line of a line chart: points (x, y), optionally with a ± error bar at each point. */
export interface Series {
  name: string;
  points: { x: number; y: number; err?: number }[];
  /** Draw a dot at every point (default: only when there are at most 20 points). */
  dots?: boolean;
  /** A dashed line (e.g. a reference or a baseline method). */
  dashed?: boolean;
  /** The line's colour (default: the next of the palette). */
  color?: string;
}

/** A line chart of the results documents: series, horizontal reference lines, log axes. */
export interface LineChartOptions {
  title?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (e.g. a baseline), drawn dashed across the x range and named in the legend. */
  refs?: { name: string; y: number }[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

const PALETTE = ['#236', '#c33', '#393', '#e80', '#739', '#077', '#555', '#b5a'];

/** A value a chart can place: finite, and positive on a log axis. */
const ok = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
/** Whether a line chart has any point to draw. */
const drawable = (o: LineChartOptions) =>
  o.series.some((s) => s.points.some((p) => ok(p.x, o.logX) && ok(p.y, o.logY)));

/**
 * A line chart as a Vega-Lite spec: one line per series (mark group `lines`, drawn in the points' order), dots
 * (`dots`), error bars y ± err (`errors`), and each reference line as a dashed two-point series. Colour and dash
 * share one legend. Non-finite points (and, on a log axis, non-positive ones) are left out; a series with none
 * left is listed in the legend only. Throws if no series has a point to draw.
 * @example
 * const svg = await renderChart(lineChartSpec({ xLabel: 'epoch', yLabel: 'loss', logY: true,
 *   series: [{ name: 'train', points: [{ x: 1, y: 0.9 }, { x: 2, y: 0.5 }] }] }));
 */
export function lineChartSpec(o: LineChartOptions): ChartSpec {
  const series = o.series.map((s, k) => ({
    ...s,
    color: s.color ?? PALETTE[k % PALETTE.length],
    points: s.points.filter((p) => ok(p.x, o.logX) && ok(p.y, o.logY)),
  }));
  const all = series.flatMap((s) => s.points);
  if (!all.length) throw new Error(`lineChart ${JSON.stringify(o.title ?? o.yLabel)}: no finite point to draw`);
  const xs = all.map((p) => p.x),
    span = [{ x: Math.min(...xs) }, { x: Math.max(...xs) }];
  const refs = (o.refs ?? [])
    .filter((r) => ok(r.y, o.logY))
    .map((r, i) => ({
      name: r.name,
      color: PALETTE[(series.length + i) % PALETTE.length],
      dashed: true,
      dots: false,
      points: span.map(({ x }) => ({ x, y: r.y, err: undefined })),
    }));
  const every = [...series, ...refs];
  const values = every.flatMap((s) =>
    s.points.map((p, i) => {
      const lo = p.y - (p.err ?? 0),
        bar = !!p.err && ok(lo, o.logY);
      return {
        series: s.name,
        x: p.x,
        y: p.y,
        i,
        dot: s.dots ?? s.points.length <= 20,
        ...(bar ? { lo, hi: p.y + p.err! } : {}),
      };
    }),
  );
  const log = (on?: boolean) => (on ? ' (log scale)' : '');
  // A log axis ends at the data (no rounding out to the next power of ten); a linear one drops trailing zeros.
  const axis = (name: 'x' | 'y', title: string, isLog?: boolean) => ({
    field: name,
    type: 'quantitative',
    title: title + log(isLog),
    scale: isLog ? { type: 'log', nice: false } : { zero: false },
    ...(isLog ? {} : { axis: { format: '~r' } }),
  });
  const x = axis('x', o.xLabel, o.logX),
    y = axis('y', o.yLabel, o.logY);
  const domain = every.map((s) => s.name);
  const legend = { orient: 'bottom', columns: Math.min(3, domain.length), symbolType: 'stroke', labelLimit: 320 };
  const color = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain, range: every.map((s) => s.color) },
    legend,
  };
  const strokeDash = {
    field: 'series',
    type: 'nominal',
    title: null,
    scale: { domain, range: every.map((s) => (s.dashed ? [5, 4] : [1, 0])) },
    legend,
  };
  return {
    ...(o.title ? { title: o.title } : {}),
    width: o.width ?? 460,
    height: o.height ?? 260,
    data: { values },
    layer: [
      {
        name: 'lines',
        mark: { type: 'line', strokeWidth: 2 },
        encoding: { x, y, color, strokeDash, order: { field: 'i', type: 'quantitative' } },
      },
      {
        name: 'dots',
        transform: [{ filter: 'datum.dot' }],
        mark: { type: 'point', filled: true, size: 28, opacity: 1 },
        encoding: { x, y, color },
      },
      {
        name: 'errors',
        transform: [{ filter: 'isValid(datum.lo)' }],
        mark: { type: 'rule' },
        encoding: { x, y: { ...y, field: 'lo' }, y2: { field: 'hi' }, color },
      },
    ],
  } as ChartSpec;
}

/** A line chart (see lineChartSpec) rendered to an SVG document by Vega. */
export async function lineChart(o: LineChartOptions): Promise<string> {
  return renderChart(lineChartSpec(o));
}

/**
 * Line charts side by side in one SVG (a Vega-Lite hconcat), e.g. one panel per setup; panels with no point to
 * draw are left out, and no panel at all is an error.
 */
export function panelsSpec(panels: LineChartOptions[]): ChartSpec {
  const shown = panels.filter(drawable);
  if (!shown.length) throw new Error('panelsSpec: no panel has a point to draw');
  // Each panel keeps its own axes, colours and legend: panels differ in range and in their series.
  const own = 'independent';
  return {
    hconcat: shown.map((p, k) => {
      // Mark names must differ between panels: Vega-Lite names each layer's data after its mark, and panels
      // sharing names would draw one panel's data in all of them.
      const one = lineChartSpec({ width: 300, height: 220, ...p }) as { layer: { name: string }[] };
      return { ...one, layer: one.layer.map((l) => ({ ...l, name: `${l.name}_${k + 1}` })) };
    }),
    resolve: { scale: { x: own, y: own, color: own, strokeDash: own }, legend: { color: own, strokeDash: own } },
  } as ChartSpec;
}
