// A plain line chart as hand-written SVG, for the charts beside a results document (no dependency).

/** One line of a chart: its name (in the legend) and its points. */
export interface Series {
  name: string;
  points: [number, number][];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;');

/** A line chart of `series` (x on a log scale when logX), axes labelled, 640×400 pixels. */
export function lineChart(o: { title: string; x: string; y: string; series: Series[]; logX?: boolean }): string {
  const W = 640,
    H = 400,
    L = 60,
    R = 170,
    T = 40,
    B = 50;
  const pts = o.series.flatMap((s) => s.points).filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
  const fx = (x: number) => (o.logX ? Math.log10(x) : x);
  const xs = pts.map(([x]) => fx(x)),
    ys = pts.map(([, y]) => y);
  const x0 = Math.min(...xs),
    x1 = Math.max(...xs),
    y0 = Math.min(...ys),
    y1 = Math.max(...ys);
  const sx = (x: number) => L + ((fx(x) - x0) / (x1 - x0 || 1)) * (W - L - R);
  const sy = (y: number) => H - B - ((y - y0) / (y1 - y0 || 1)) * (H - T - B);
  const ticks = (a: number, b: number) => Array.from({ length: 5 }, (_, i) => a + ((b - a) * i) / 4);
  const xt = [...new Set(pts.map(([x]) => x))].sort((a, b) => a - b);
  const lines = o.series.map((s, i) => {
    const c = COLORS[i % COLORS.length],
      p = s.points.filter(([x, y]) => Number.isFinite(x) && Number.isFinite(y));
    return (
      `<polyline fill="none" stroke="${c}" stroke-width="2" points="` +
      `${p.map(([x, y]) => `${sx(x).toFixed(1)},${sy(y).toFixed(1)}`).join(' ')}"/>` +
      p.map(([x, y]) => `<circle cx="${sx(x).toFixed(1)}" cy="${sy(y).toFixed(1)}" r="3" fill="${c}"/>`).join('') +
      `<text x="${W - R + 10}" y="${T + 20 * i + 10}" fill="${c}" font-size="12">${esc(s.name)}</text>`
    );
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${L}" y="22" font-size="14">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    ...(xt.length <= 12 ? xt : ticks(Math.min(...xt), Math.max(...xt))).map(
      (x) =>
        `<text x="${sx(x).toFixed(1)}" y="${H - B + 16}" font-size="11" text-anchor="middle">` +
        `${+x.toPrecision(3)}</text>`,
    ),
    ...ticks(y0, y1).map(
      (y) => `<text x="${L - 6}" y="${(sy(y) + 4).toFixed(1)}" font-size="11" text-anchor="end">${y.toFixed(1)}</text>`,
    ),
    `<text x="${(L + W - R) / 2}" y="${H - 12}" font-size="12" text-anchor="middle">${esc(o.x)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" font-size="12" text-anchor="middle" ` +
      `transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(o.y)}</text>`,
    ...lines,
    '</svg>',
    '',
  ].join('\n');
}
