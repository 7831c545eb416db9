// The results document of `frugal reproduce ecg-search`: the paper's numbers (real ECG) beside ours (synthetic).
import { meanStd, type ReproduceReport } from './report.js';
import { lineChartSpec, type ChartSpec } from '../report/vega.js';
import type { EcgParams, ShockMetrics } from '../index.js';
import { LENGTHS, meanAt, PAPER_BEST } from './ecg-search-criteria.js';

/** Krasteva et al. 2020, abstract: validation on real OHCA/Holter ECG. */
export const PAPER_NUMBERS = {
  data: 'real ECG: out-of-hospital cardiac arrest and Holter recordings (train 720 + 3170, validation 739 + 5921)',
  models: 4216,
  best: { ...PAPER_BEST, blocks: 5 },
  '5s': { bac: 0.995, se: 0.996, sp: 0.994 },
  '2s': { bac: 0.982, se: 0.976, sp: 0.987 },
  optimalNAbove3: 'validation BAC 99.31–99.5%',
  source: 'abstract (Sensors 20(10):2875, 2020)',
};

const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(2)}%`);
const setting = (p: EcgParams | null | undefined) =>
  p ? `N = ${p.filters.length}, F = {${p.filters.join(', ')}}, K = {${p.kernels.join(', ')}}` : '—';

/** Rows N × lr of validation BAC (markdown). */
function lrTable(rows: { n: number; params: number; bac: Record<string, number> }[]): string[] {
  if (!rows.length) return ['(no robust setting yet)'];
  const lrs = Object.keys(rows[0].bac);
  return [
    `| N | params | ${lrs.map((l) => `lr ${l}`).join(' | ')} |`,
    `|---|---|${lrs.map(() => '---|').join('')}`,
    ...rows.map((r) => `| ${r.n} | ${r.params} | ${lrs.map((l) => pct(r.bac[l])).join(' | ')} |`),
  ];
}

export function ecgMarkdown(r: ReproduceReport): string {
  const o = r.ours as {
    config: { trials: number; epochs: number; k: number; split: unknown; lrGrid: number[]; searchLr: number };
    trials: { bac: number; filters: number[] }[];
    top1?: EcgParams & { bac: number };
    chosen: EcgParams | null;
    chosenParams: number;
    robustByK: Record<string, (EcgParams | null)[]>;
    lrSelection: Record<string, number>;
    robustByLr?: { n: number; params: number; bac: Record<string, number> }[];
    finalLr?: number;
    robustBac: { mean: number; std: number; n: number };
    top1Bac: { mean: number; std: number; n: number };
    robustTest: { mean: number; std: number; n: number };
    top1Test: { mean: number; std: number; n: number };
    test: Record<string, ShockMetrics>[];
    secondsPerTrial: { mean: number };
  };
  const p = PAPER_NUMBERS;
  const row = (s: number) => {
    const paper = (p as Record<string, unknown>)[`${s}s`] as ShockMetrics | undefined;
    const at = (k: 'bac' | 'se' | 'sp') => pct(meanAt(o.test, s, k));
    const b = (k: 'bac' | 'se' | 'sp') => pct(meanAt(o.test, `${s}-boundary`, k));
    return `| ${s} s | ${pct(paper?.bac)} / ${pct(paper?.se)} / ${pct(paper?.sp)} | ${at('bac')} / ${at('se')} / ${at(
      'sp',
    )} | ${b('bac')} / ${b('se')} / ${b('sp')} |`;
  };
  const byN = [1, 2, 3, 4, 5, 6, 7].map((n) => {
    const t = o.trials.filter((x) => x.filters.length === n);
    return `| ${n} | ${t.length} | ${pct(Math.max(...t.map((x) => x.bac)))} |`;
  });
  return [
    `# Random-search CNNs for shockable rhythms (Krasteva et al.) — ${r.mode} run`,
    '',
    '**Paper: real OHCA/Holter ECG. Ours: synthetic ECG from our generator (spec 09).** The numbers are not ' +
      'comparable as performance; the reproduction checks the procedure (search, median-of-top-k, length trend).',
    '',
    `Settings: ${o.config.trials} trials drawn from spec 09's space, ≤ ${o.config.epochs} epochs each with the ` +
      `best-validation-BAC epoch kept, Adam lr ${o.config.searchLr}, k = ${o.config.k}; splits (Sh, NSh) ` +
      `${JSON.stringify(o.config.split)}. Every choice (epoch, setting, N, lr) is made on the validation split; ` +
      'the test split (10-s strips, cropped to 2 and 5 s) is read once by each final model and each seed-spread ' +
      'model, and only reported.',
    '',
    '| | paper (real ECG) | ours (synthetic) |',
    '|---|---|---|',
    `| models trained | ${p.models} | ${o.trials.length} |`,
    `| best single model | ${setting(PAPER_BEST)}, ${PAPER_BEST.params} params | ${setting(o.top1)}, ` +
      `validation BAC ${pct(o.top1?.bac)} |`,
    `| robust (median of top-k) setting | — | ${setting(o.chosen)}, ${o.chosenParams} params |`,
    `| robust, 5-s test BAC over seeds (criteria 2a, 2b) | — | ${pct(o.robustTest.mean)} ± ` +
      `${pct(o.robustTest.std)} (n = ${o.robustTest.n}); top-1 setting ${pct(o.top1Test.mean)} ± ` +
      `${pct(o.top1Test.std)} |`,
    `| robust, validation BAC over seeds (each run's best epoch) | — | ${pct(o.robustBac.mean)} ± ` +
      `${pct(o.robustBac.std)} (n = ${o.robustBac.n}); top-1 setting ${pct(o.top1Bac.mean)} ± ${pct(o.top1Bac.std)} |`,
    '',
    "Each N's robust setting trained at the search lr and at spec 09's grid (validation BAC, search seed); the best " +
      'cell is the robust setting and the final lr:',
    '',
    ...lrTable(o.robustByLr ?? []),
    '',
    `Final model: the robust setting at lr ${o.finalLr ?? '—'}. Test BAC / Se / Sp, mean over final models (Se on ` +
      'the shockable class):',
    '',
    '| length | paper (real ECG, validation) | ours (synthetic test, all) | ours (boundary cases only) |',
    '|---|---|---|---|',
    ...LENGTHS.map(row),
    '',
    `![BAC by analysis length](${lengthChartName(r.mode === 'quick')})`,
    '',
    'Best validation BAC per N:',
    '',
    '| N | trials | best BAC |',
    '|---|---|---|',
    ...byN,
    '',
    `Median-of-top-k settings per N for k = 3, ${o.config.k}, 10:`,
    '',
    ...Object.entries(o.robustByK).map(
      ([k, ps]) =>
        `- ${k}: ` +
        ps
          .map((q, i) => (q ? `N=${i + 1}: F {${q.filters}}, K {${q.kernels}}` : null))
          .filter(Boolean)
          .join('; '),
    ),
    '',
    `Mean seconds per search trial: ${o.secondsPerTrial.mean.toFixed(1)} (backend on a shared machine; not a ` +
      'benchmark).',
    '',
  ].join('\n');
}

/** The chart's file name beside the results document. */
export const lengthChartName = (quick: boolean) => `ecg-search${quick ? '-quick' : ''}-length.svg`;

/** BAC against analysis length: ours (mean ± std over final models) and the paper's two points (real ECG). */
export function ecgCharts(r: ReproduceReport): Record<string, ChartSpec> {
  const test = ((r.ours as { test?: Record<string, ShockMetrics>[] }).test ?? []).filter((t) => t);
  if (!test.length) return {};
  const ours = LENGTHS.map((s) => {
    const v = meanStd(test.map((t) => t[String(s)]?.bac ?? NaN));
    return { x: s, y: 100 * v.mean, err: 100 * v.std };
  });
  const spec = lineChartSpec({
    title: 'BAC by analysis length',
    xLabel: 'strip length (s)',
    yLabel: 'BAC (%)',
    series: [
      { name: 'ours (synthetic test)', points: ours, dots: true },
      {
        name: 'paper (real ECG, validation)',
        points: [2, 5].map((s) => ({ x: s, y: 100 * (PAPER_NUMBERS[`${s}s` as '2s' | '5s'].bac as number) })),
        dashed: true,
        dots: true,
      },
    ],
  });
  return { [lengthChartName(r.mode === 'quick')]: spec };
}
