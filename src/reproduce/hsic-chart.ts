// The chart of `frugal reproduce hsic`: each block's path in the (nHSIC(Z, X), nHSIC(Z, Y)) plane over training
// (the F1 probe, first seed), the HSIC-bottleneck paper's "information plane" view. Hand-written SVG.
import type { HsicRun } from './hsic-criteria.js';

const COLOURS = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f'];

/** One polyline per block from before training (open circle) to the last epoch (filled), or a note when absent. */
export function planeSvg(runs: HsicRun[]): string {
  const W = 480,
    H = 320,
    l = 50,
    r = 110,
    t = 20,
    b = 45;
  const run = runs.find((x) => x.variant === 'F1' && x.trainer === 'hsic' && x.probe?.length);
  const head =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" ` + 'font-family="sans-serif" font-size="11">';
  if (!run) return `${head}<text x="20" y="30">no F1 HSIC run with a probe</text></svg>\n`;
  const p = run.probe!;
  const xs = p.flatMap((q) => q.zx),
    ys = p.flatMap((q) => q.zy);
  const x1 = Math.max(1, ...xs) * 1.05,
    y1 = Math.max(1, ...ys) * 1.05;
  const X = (v: number) => l + (v / x1) * (W - l - r),
    Y = (v: number) => t + (1 - v / y1) * (H - t - b);
  const f = (v: number) => v.toFixed(1);
  const blocks = p[0].zx.length;
  const paths = Array.from({ length: blocks }, (_, i) => {
    const c = COLOURS[i % COLOURS.length];
    const pts = p.map((q) => `${f(X(q.zx[i]))},${f(Y(q.zy[i]))}`);
    const [sx, sy] = pts[0].split(','),
      [ex, ey] = pts[pts.length - 1].split(',');
    return (
      `<polyline points="${pts.join(' ')}" fill="none" stroke="${c}" stroke-width="1.5"/>` +
      `<circle cx="${sx}" cy="${sy}" r="3" fill="white" stroke="${c}"/>` +
      `<circle cx="${ex}" cy="${ey}" r="3" fill="${c}"/>` +
      `<text x="${W - r + 10}" y="${t + 14 * (i + 1)}" fill="${c}">block ${i + 1}</text>`
    );
  });
  return [
    head,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<line x1="${l}" y1="${H - b}" x2="${W - r}" y2="${H - b}" stroke="black"/>`,
    `<line x1="${l}" y1="${t}" x2="${l}" y2="${H - b}" stroke="black"/>`,
    `<text x="${l}" y="${H - b + 14}" text-anchor="middle">0</text>`,
    `<text x="${W - r}" y="${H - b + 14}" text-anchor="middle">${x1.toFixed(1)}</text>`,
    `<text x="${l - 5}" y="${H - b}" text-anchor="end">0</text>`,
    `<text x="${l - 5}" y="${t + 4}" text-anchor="end">${y1.toFixed(1)}</text>`,
    `<text x="${(l + W - r) / 2}" y="${H - 12}" text-anchor="middle">nHSIC(Z, X)</text>`,
    `<text x="14" y="${(t + H - b) / 2}" transform="rotate(-90 14 ${(t + H - b) / 2})" text-anchor="middle">` +
      'nHSIC(Z, Y)</text>',
    ...paths,
    `<text x="${W - r + 10}" y="${t + 14 * (blocks + 2)}">seed ${run.seed}: ○ before</text>`,
    `<text x="${W - r + 10}" y="${t + 14 * (blocks + 3)}">● after epoch ${p.length - 1}</text>`,
    '</svg>',
    '',
  ].join('\n');
}
