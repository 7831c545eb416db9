// A small hand-written SVG line chart for results documents: axes, ticks, a legend, optional log y.

export interface Series {
  name: string;
  x: number[];
  y: number[];
  color?: string;
  dashed?: boolean;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b', '#17becf', '#7f7f7f'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** A line chart (640×360) of the series; non-finite points (and ≤ 0 ones on a log axis) are left out. */
export function lineChart(o: {
  title: string;
  xLabel: string;
  yLabel: string;
  series: Series[];
  logY?: boolean;
}): string {
  const W = 640,
    H = 360,
    L = 70,
    R = 150,
    T = 30,
    B = 45;
  const ty = (v: number) => (o.logY ? Math.log10(v) : v);
  const ok = (x: number, y: number) => Number.isFinite(x) && Number.isFinite(y) && (!o.logY || y > 0);
  const pts = o.series.flatMap((s) => s.x.map((x, i) => [x, s.y[i]]).filter(([x, y]) => ok(x, y)));
  if (!pts.length)
    return (
      `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="60">` +
      `<text x="10" y="30">${esc(o.title)}: no data</text></svg>\n`
    );
  let [x0, x1] = [Math.min(...pts.map((p) => p[0])), Math.max(...pts.map((p) => p[0]))];
  let [y0, y1] = [Math.min(...pts.map((p) => ty(p[1]))), Math.max(...pts.map((p) => ty(p[1])))];
  if (x1 === x0) x1 = x0 + 1;
  if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
  const pad = (y1 - y0) * 0.05;
  [y0, y1] = [y0 - pad, y1 + pad];
  const sx = (x: number) => L + ((x - x0) / (x1 - x0)) * (W - L - R),
    sy = (y: number) => H - B - ((ty(y) - y0) / (y1 - y0)) * (H - T - B);
  const tick = (v: number) =>
    Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-2 && v !== 0) ? v.toExponential(1) : +v.toPrecision(3) + '';
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" font-family="sans-serif" font-size="11">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${W / 2}" y="18" text-anchor="middle" font-size="13">${esc(o.title)}</text>`,
    `<line x1="${L}" y1="${H - B}" x2="${W - R}" y2="${H - B}" stroke="black"/>`,
    `<line x1="${L}" y1="${T}" x2="${L}" y2="${H - B}" stroke="black"/>`,
    `<text x="${(L + W - R) / 2}" y="${H - 8}" text-anchor="middle">${esc(o.xLabel)}</text>`,
    `<text x="14" y="${(T + H - B) / 2}" text-anchor="middle" transform="rotate(-90 14 ${(T + H - B) / 2})">${esc(
      o.yLabel,
    )}</text>`,
  ];
  for (let i = 0; i <= 4; i++) {
    const xv = x0 + ((x1 - x0) * i) / 4,
      yv = y0 + ((y1 - y0) * i) / 4,
      px = sx(xv),
      py = H - B - ((H - T - B) * i) / 4;
    parts.push(`<text x="${px}" y="${H - B + 14}" text-anchor="middle">${tick(xv)}</text>`);
    parts.push(`<text x="${L - 4}" y="${py + 4}" text-anchor="end">${o.logY ? `1e${yv.toFixed(1)}` : tick(yv)}</text>`);
    parts.push(`<line x1="${L}" y1="${py}" x2="${W - R}" y2="${py}" stroke="#eee"/>`);
  }
  o.series.forEach((s, k) => {
    const color = s.color ?? PALETTE[k % PALETTE.length];
    const d = s.x
      .map((x, i) => [x, s.y[i]])
      .filter(([x, y]) => ok(x, y))
      .map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
      .join('');
    parts.push(
      `<path d="${d}" fill="none" stroke="${color}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="5,3"' : ''}/>`,
    );
    const ly = T + 10 + 16 * k;
    parts.push(
      `<line x1="${W - R + 10}" y1="${ly}" x2="${W - R + 30}" y2="${ly}" stroke="${color}" stroke-width="2"${
        s.dashed ? ' stroke-dasharray="5,3"' : ''
      }/>`,
      `<text x="${W - R + 34}" y="${ly + 4}">${esc(s.name)}</text>`,
    );
  });
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}
