// Hand-written SVG line charts for the results documents (no dependency): panels side by side, each
// with its series on a log-scale y axis (and optionally a log-scale x axis).

export interface Series {
  label: string;
  points: [number, number][];
}

export interface Panel {
  title: string;
  xLabel: string;
  yLabel: string;
  logX?: boolean;
  series: Series[];
}

const COLORS = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#8c564b'];
const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const fmt = (v: number) =>
  Math.abs(v) >= 1e4 || (v !== 0 && Math.abs(v) < 1e-2) ? v.toExponential(0) : String(+v.toPrecision(3));

/** One SVG with the panels in a row; y is always log10 (non-positive values are dropped). */
export function lineChartSvg(panels: Panel[], opts: { width?: number; height?: number } = {}): string {
  const W = opts.width ?? 380,
    H = opts.height ?? 300,
    m = { l: 58, r: 12, t: 26, b: 44 };
  const parts: string[] = [];
  panels.forEach((p, pi) => {
    const ox = pi * W;
    const pts = p.series.flatMap((s) => s.points).filter(([x, y]) => y > 0 && (!p.logX || x > 0));
    const tx = (x: number) => (p.logX ? Math.log10(x) : x);
    const xs = pts.map(([x]) => tx(x)),
      ys = pts.map(([, y]) => Math.log10(y));
    const x0 = xs.length ? Math.min(...xs) : 0,
      x1 = xs.length ? Math.max(...xs) : 1;
    const y0 = ys.length ? Math.floor(Math.min(...ys)) : -6,
      y1 = ys.length ? Math.ceil(Math.max(...ys)) : 0;
    const r1 = (v: number) => Math.round(10 * v) / 10;
    const sx = (x: number) => ox + m.l + ((tx(x) - x0) / (x1 - x0 || 1)) * (W - m.l - m.r);
    const sy = (y: number) => m.t + ((y1 - Math.log10(y)) / (y1 - y0 || 1)) * (H - m.t - m.b);
    parts.push(
      `<text x="${ox + W / 2}" y="16" text-anchor="middle" font-size="13">${esc(p.title)}</text>`,
      `<rect x="${ox + m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#999"/>`,
    );
    const yStep = Math.max(1, Math.ceil((y1 - y0) / 8));
    for (let e = y0; e <= y1; e += yStep) {
      const y = r1(sy(10 ** e));
      parts.push(
        `<line x1="${ox + m.l}" x2="${ox + W - m.r}" y1="${y}" y2="${y}" stroke="#eee"/>`,
        `<text x="${ox + m.l - 4}" y="${y + 4}" text-anchor="end" font-size="10">1e${e}</text>`,
      );
    }
    for (let i = 0; i <= 4; i++) {
      const v = x0 + ((x1 - x0) * i) / 4,
        x = r1(ox + m.l + (i / 4) * (W - m.l - m.r));
      parts.push(
        `<text x="${x}" y="${H - m.b + 14}" text-anchor="middle" font-size="10">${fmt(p.logX ? 10 ** v : v)}</text>`,
      );
    }
    parts.push(
      `<text x="${ox + (W + m.l) / 2}" y="${H - 8}" text-anchor="middle" font-size="11">${esc(p.xLabel)}</text>`,
      `<text x="${ox + 12}" y="${H / 2}" text-anchor="middle" font-size="11" ` +
        `transform="rotate(-90 ${ox + 12} ${H / 2})">` +
        `${esc(p.yLabel)}</text>`,
    );
    p.series.forEach((s, si) => {
      const d = s.points
        .filter(([x, y]) => y > 0 && (!p.logX || x > 0))
        .map(([x, y], i) => `${i ? 'L' : 'M'}${sx(x).toFixed(1)},${sy(y).toFixed(1)}`)
        .join('');
      const c = COLORS[si % COLORS.length];
      parts.push(
        `<path d="${d}" fill="none" stroke="${c}" stroke-width="1.5"/>`,
        `<text x="${ox + W - m.r - 4}" y="${m.t + 14 + 13 * si}" text-anchor="end" font-size="11" fill="${c}">` +
          `${esc(s.label)}</text>`,
      );
    });
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W * panels.length}" height="${H}" ` +
      `viewBox="0 0 ${W * panels.length} ${H}" font-family="sans-serif">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    ...parts,
    '</svg>',
    '',
  ].join('\n');
}
