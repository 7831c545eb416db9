// The report of a hyperparameter study (`frugal search show --report DIR`): the leaderboard, one chart per
// parameter against the metric with the robust (median-of-top-k) setting marked, and the metric over trial
// index with the best so far, in one self-contained HTML page (html.ts) with charts drawn by vega.ts.
import { htmlPage, type ReportChart } from './html.js';
import { renderChart, type ChartSpec } from './vega.js';

/** How a parameter's axis is drawn: numbers on a linear or a log axis, or categories. */
export type ParamScale = 'linear' | 'log' | 'nominal';

export interface SearchReportTrial {
  id: number;
  number: number;
  state: string;
  value: number | null;
  params: Record<string, number | string | boolean>;
  reason?: string | null;
}

export interface SearchReportInput {
  study: string;
  metric: string;
  direction: 'maximize' | 'minimize';
  /** Key facts shown under the title (storage, counts, date…). */
  meta: [string, string | number][];
  /** Every trial, best first (as `frugal search show` ranks them). */
  trials: SearchReportTrial[];
  /** Each parameter's axis (a loguniform parameter: 'log'); parameters not named are inferred from values. */
  scales: Record<string, ParamScale>;
  robust: {
    topK: number;
    groupBy: string | null;
    groups: { group?: number | string | boolean; top: number[]; setting: Record<string, unknown> }[];
  };
}

/** Rows the leaderboard table shows; the rest are in report.json. */
const TABLE_ROWS = 200;

const scored = (t: SearchReportTrial) => typeof t.value === 'number' && Number.isFinite(t.value);
const fmt = (v: unknown) => (typeof v === 'number' && !Number.isInteger(v) ? v.toPrecision(4) : String(v));
const robustName = (groupBy: string | null, g: { group?: unknown }) =>
  g.group === undefined ? 'robust setting' : `robust, ${groupBy}=${String(g.group)}`;

/**
 * The metric of every scored trial against its trial number (mark group `trials`, one point per trial, coloured
 * by state) and the best complete value so far (`best`, a step line).
 */
export function trialsSpec(r: Pick<SearchReportInput, 'trials' | 'metric' | 'direction'>): ChartSpec {
  const pts = r.trials.filter(scored).sort((a, b) => a.number - b.number);
  const better = (a: number, b: number) => (r.direction === 'maximize' ? a > b : a < b);
  let best: number | undefined;
  const bestRows = pts.flatMap((t) => {
    if (t.state === 'complete' && (best === undefined || better(t.value!, best))) best = t.value!;
    return best === undefined ? [] : [{ trial: t.number, best }];
  });
  const x = { field: 'trial', type: 'quantitative', title: 'trial number', axis: { tickMinStep: 1, format: 'd' } };
  return {
    title: `${r.metric} by trial (${r.direction})`,
    width: 460,
    height: 260,
    layer: [
      {
        name: 'trials',
        data: { values: pts.map((t) => ({ trial: t.number, value: t.value, state: t.state })) },
        mark: { type: 'point', filled: true, size: 30 },
        encoding: {
          x,
          y: { field: 'value', type: 'quantitative', title: r.metric, scale: { zero: false } },
          color: { field: 'state', type: 'nominal', title: 'state' },
        },
      },
      {
        name: 'best',
        data: { values: bestRows },
        mark: { type: 'line', interpolate: 'step-after', color: '#c33' },
        encoding: { x, y: { field: 'best', type: 'quantitative' } },
      },
    ],
  } as ChartSpec;
}

/**
 * One parameter against the metric: a scatter of the scored trials that have it (`trials`; log x for a
 * loguniform parameter), or for a categorical one the trials per value with each value's median (`medians`);
 * the robust setting of each group drawn as a dashed vertical rule (`robust`). Field names are fixed (`v`,
 * `metric`): a parameter name such as `blocks.0.filters` would otherwise be read as a nested path.
 */
export function paramSpec(r: SearchReportInput, name: string, scale: ParamScale): ChartSpec {
  const rows = r.trials
    .filter((t) => scored(t) && t.params[name] !== undefined)
    .map((t) => ({ v: scale === 'nominal' ? String(t.params[name]) : t.params[name], metric: t.value, n: t.number }));
  const marks = r.robust.groups
    .filter((g) => g.setting[name] !== undefined)
    .map((g) => ({
      v: scale === 'nominal' ? String(g.setting[name]) : g.setting[name],
      which: robustName(r.robust.groupBy, g),
    }));
  const x =
    scale === 'nominal'
      ? {
          field: 'v',
          type: 'nominal',
          title: name,
          sort: [...new Set(rows.map((q) => q.v as string))].sort(),
          axis: { labelAngle: 0, labelLimit: 100 },
        }
      : { field: 'v', type: 'quantitative', title: name, scale: scale === 'log' ? { type: 'log' } : { zero: false } };
  const y = { field: 'metric', type: 'quantitative', title: r.metric, scale: { zero: false } };
  const layer: unknown[] = [
    {
      name: 'trials',
      data: { values: rows },
      mark: { type: 'point', filled: true, size: 30, opacity: 0.7, color: '#236' },
      encoding: { x, y },
    },
  ];
  if (scale === 'nominal')
    layer.push({
      name: 'medians',
      data: { values: rows },
      mark: { type: 'tick', color: '#e80', thickness: 2, size: 24 },
      encoding: { x, y: { aggregate: 'median', field: 'metric', type: 'quantitative' } },
    });
  if (marks.length)
    layer.push({
      name: 'robust',
      data: { values: marks },
      mark: { type: 'rule', strokeDash: [5, 4], strokeWidth: 2 },
      encoding: {
        x,
        color: { field: 'which', type: 'nominal', title: null, scale: { range: ['#c33', '#393', '#739', '#077'] } },
      },
    });
  return { title: `${name} against ${r.metric}`, width: 320, height: 220, layer } as ChartSpec;
}

/** The axis a parameter gets when the space does not say: numbers linear, anything else categorical. */
function inferScale(r: SearchReportInput, name: string): ParamScale {
  return r.trials.every((t) => t.params[name] === undefined || typeof t.params[name] === 'number')
    ? 'linear'
    : 'nominal';
}

/** The HTML page of a study: leaderboard, the robust setting, and the charts. */
export async function searchHtml(r: SearchReportInput): Promise<string> {
  const names = [...new Set(r.trials.flatMap((t) => Object.keys(t.params)))].sort();
  const scoredCount = r.trials.filter(scored).length;
  const charts: ReportChart[] = [];
  if (scoredCount)
    charts.push({ id: 'trials', svg: await renderChart(trialsSpec(r)), marks: 'trials', expect: scoredCount });
  const paramCharts: ReportChart[] = [];
  for (const [i, name] of names.entries()) {
    const n = r.trials.filter((t) => scored(t) && t.params[name] !== undefined).length;
    if (!n) continue;
    const spec = paramSpec(r, name, r.scales[name] ?? inferScale(r, name));
    paramCharts.push({ id: `param-${i + 1}`, svg: await renderChart(spec), marks: 'trials', expect: n });
  }
  const robustRows = r.robust.groups.map((g) => [
    robustName(r.robust.groupBy, g),
    g.top.join(', '),
    ...names.map((n) => (g.setting[n] === undefined ? '' : fmt(g.setting[n]))),
  ]);
  const shown = r.trials.slice(0, TABLE_ROWS);
  return htmlPage({
    title: `frugal search: ${r.study}`,
    meta: r.meta,
    sections: [
      {
        heading: `Robust setting (median of the top ${r.robust.topK})`,
        text: [
          'Per hyperparameter, the median of the top-k complete trials (the most frequent value for a category; ' +
            `per ${r.robust.groupBy ?? 'study'}), spec 09's rule for a setting that does not overfit the single ` +
            'best draw.',
          ...(robustRows.length ? [] : ['No complete trial yet.']),
        ],
        ...(robustRows.length
          ? { table: { head: ['setting', 'top trials', ...names], rows: robustRows, textColumns: [0, 1] } }
          : {}),
      },
      { heading: `${r.metric} over the trials`, charts },
      {
        heading: 'Each parameter against the metric',
        text: ['Dashed vertical rule: the robust setting. Categories: each trial a point, the median a tick.'],
        charts: paramCharts,
      },
      {
        heading: 'Leaderboard',
        text:
          r.trials.length > TABLE_ROWS ? [`The best ${TABLE_ROWS} of ${r.trials.length}; all are in report.json.`] : [],
        table: {
          head: ['id', 'trial', 'state', r.metric, ...names, 'reason'],
          textColumns: [2, ...names.map((_, i) => 4 + i), 4 + names.length],
          rows: shown.map((t) => [
            t.id,
            t.number,
            t.state,
            t.value === null ? '—' : t.value.toFixed(4),
            ...names.map((n) => (t.params[n] === undefined ? '' : fmt(t.params[n]))),
            t.reason ?? '',
          ]),
        },
      },
    ],
  });
}
