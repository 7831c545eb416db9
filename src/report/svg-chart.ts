// Plain SVG line charts for the results documents: no dependency, no canvas, the same look everywhere.
// One function so that every reproduction's chart is drawn the same way (axes, ticks, legend, log scales).

/** One line of a chart: points (x, y), optionally with a ± error bar at each point. */
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

export interface LineChartOptions {
  title?: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  /** Horizontal reference lines (e.g. a baseline), drawn dashed with their label. */
  refs?: { name: string; y: number }[];
  logX?: boolean;
  logY?: boolean;
  width?: number;
  height?: number;
}

const COLORS = ['#236', '#c33', '#393', '#e80', '#739', '#077', '#555', '#b5a'];

/** Escape text for SVG. */
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** Round tick values in [lo, hi], 1, 2 or 5 × a power of ten apart, as close to `n` intervals as those allow. */
export function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n,
    p = 10 ** Math.floor(Math.log10(raw));
  const steps = [1, 2, 5, 10].map((m) => m * p);
  const step = steps.reduce((a, s) => (Math.abs((hi - lo) / s - n) < Math.abs((hi - lo) / a - n) ? s : a));
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Ticks of a log axis over [lo, hi]: powers of ten, with 2× and 5× between them when the range is short. */
function logTicks(lo: number, hi: number): number[] {
  const out: number[] = [];
  const short = Math.log10(hi / lo) < 2;
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of short ? [1, 2, 5] : [1]) out.push(Number((m * 10 ** e).toPrecision(12)));
  }
  return out;
}

const label = (v: number) => (Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-3) ? v.toExponential(0) : `${v}`);

/**
 * A line chart as an SVG document. Non-finite points (and, on a log axis, non-positive ones) are left out;
 * a series with none left is listed in the legend only. Throws if no series has a point to draw.
 */
export function lineChart(o: LineChartOptions): string {
  const W = o.width ?? 560,
    H = o.height ?? 340;
  const legendRows = o.series.length + (o.refs?.length ?? 0);
  const [l, r, t] = [64, 20, o.title ? 34 : 16],
    b = 46 + 14 * Math.ceil(legendRows / 3);
  const ok = (v: number, log?: boolean) => Number.isFinite(v) && (!log || v > 0);
  const series = o.series.map((s) => ({ ...s, points: s.points.filter((p) => ok(p.x, o.logX) && ok(p.y, o.logY)) }));
  const all = series.flatMap((s) => s.points);
  if (!all.length) throw new Error(`lineChart ${JSON.stringify(o.title ?? o.yLabel)}: no finite point to draw`);
  const ys = [
    ...all.flatMap((p) => [p.y - (p.err ?? 0), p.y + (p.err ?? 0)]),
    ...(o.refs ?? []).map((x) => x.y),
  ].filter((v) => ok(v, o.logY));
  const xs = all.map((p) => p.x);
  const fx = o.logX ? Math.log10 : (v: number) => v,
    fy = o.logY ? Math.log10 : (v: number) => v;
  let [x0, x1] = [Math.min(...xs), Math.max(...xs)],
    [y0, y1] = [Math.min(...ys), Math.max(...ys)];
  if (x0 === x1) [x0, x1] = o.logX ? [x0 / 2, x1 * 2] : [x0 - 1, x1 + 1];
  if (y0 === y1) [y0, y1] = o.logY ? [y0 / 2, y1 * 2] : [y0 - 1, y1 + 1];
  const X = (v: number) => l + ((fx(v) - fx(x0)) / (fx(x1) - fx(x0))) * (W - l - r);
  const Y = (v: number) => t + (1 - (fy(v) - fy(y0)) / (fy(y1) - fy(y0))) * (H - t - b);
  const f = (v: number) => v.toFixed(1);
  const xt = (o.logX ? logTicks(x0, x1) : niceTicks(x0, x1)).filter((v) => v >= x0 && v <= x1);
  const yt = (o.logY ? logTicks(y0, y1) : niceTicks(y0, y1)).filter((v) => v >= y0 && v <= y1);
  const out = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    ...(o.title ? [`<text x="${W / 2}" y="20" text-anchor="middle" font-size="13">${esc(o.title)}</text>`] : []),
    ...yt.map(
      (v) =>
        `<line x1="${l}" y1="${f(Y(v))}" x2="${W - r}" y2="${f(Y(v))}" stroke="#ddd"/>` +
        `<text x="${l - 5}" y="${f(Y(v) + 4)}" text-anchor="end">${label(v)}</text>`,
    ),
    ...xt.map((v) => `<text x="${f(X(v))}" y="${H - b + 15}" text-anchor="middle">${label(v)}</text>`),
    `<line x1="${l}" y1="${H - b}" x2="${W - r}" y2="${H - b}" stroke="black"/>`,
    `<line x1="${l}" y1="${t}" x2="${l}" y2="${H - b}" stroke="black"/>`,
    `<text x="${(l + W - r) / 2}" y="${H - b + 32}" text-anchor="middle">` +
      `${esc(o.xLabel)}${o.logX ? ' (log scale)' : ''}</text>`,
    `<text x="14" y="${(t + H - b) / 2}" transform="rotate(-90 14 ${(t + H - b) / 2})" text-anchor="middle">` +
      `${esc(o.yLabel)}${o.logY ? ' (log scale)' : ''}</text>`,
  ];
  (o.refs ?? []).forEach((ref, i) => {
    const c = COLORS[(series.length + i) % COLORS.length];
    out.push(
      `<line x1="${l}" y1="${f(Y(ref.y))}" x2="${W - r}" y2="${f(Y(ref.y))}" stroke="${c}" stroke-dasharray="5,4"/>`,
    );
  });
  const colorOf = (i: number) => series[i].color ?? COLORS[i % COLORS.length];
  series.forEach((s, i) => {
    const c = colorOf(i),
      dash = s.dashed ? ' stroke-dasharray="5,4"' : '';
    if (s.points.length > 1)
      out.push(
        `<polyline fill="none" stroke="${c}" stroke-width="2"${dash} points="` +
          `${s.points.map((p) => `${f(X(p.x))},${f(Y(p.y))}`).join(' ')}"/>`,
      );
    for (const p of s.points) {
      if (p.err)
        out.push(
          `<line x1="${f(X(p.x))}" y1="${f(Y(p.y - p.err))}" x2="${f(X(p.x))}" y2="${f(Y(p.y + p.err))}" ` +
            `stroke="${c}"/>`,
        );
      if (s.dots ?? s.points.length <= 20) out.push(`<circle cx="${f(X(p.x))}" cy="${f(Y(p.y))}" r="3" fill="${c}"/>`);
    }
  });
  const legend = [
    ...series.map((s, i) => ({ name: s.name, c: colorOf(i), dash: s.dashed ? ' stroke-dasharray="5,4"' : '' })),
    ...(o.refs ?? []).map((x, i) => ({
      name: x.name,
      c: COLORS[(series.length + i) % COLORS.length],
      dash: ' stroke-dasharray="5,4"',
    })),
  ];
  const colW = (W - l - r) / 3;
  legend.forEach((e, i) => {
    const x = l + (i % 3) * colW,
      y = H - b + 48 + 14 * Math.floor(i / 3);
    out.push(
      `<line x1="${f(x)}" y1="${y - 4}" x2="${f(x + 18)}" y2="${y - 4}" stroke="${e.c}" stroke-width="2"${e.dash}/>` +
        `<text x="${f(x + 22)}" y="${y}">${esc(e.name)}</text>`,
    );
  });
  out.push('</svg>', '');
  return out.join('\n');
}
