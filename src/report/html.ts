// Self-contained HTML reports: one file, inline CSS and inline SVG charts, no script and nothing fetched, so it
// opens offline and a hostile model, run or label name can only ever show as text.

/** Escape text for HTML content and for attribute values in double or single quotes. */
export function escapeHtml(s: unknown): string {
  return String(s)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** A chart of a report: its SVG (from renderChart), the mark group it must contain, and how many marks. */
export interface ReportChart {
  /** A stable id (letters, digits, '-'), used by tests and links. */
  id: string;
  svg: string;
  /** The name of the Vega-Lite mark whose marks must be drawn (class `NAME_marks` in the SVG). */
  marks: string;
  /** The exact number of marks expected (e.g. one point per variant); otherwise at least one. */
  expect?: number;
  caption?: string;
}

/** A table: header cells and rows of cells (numbers are formatted by the caller; everything is escaped). */
export interface ReportTable {
  head: string[];
  rows: (string | number)[][];
  /** Columns (by index) aligned left; the others are numbers, aligned right. Default: the first. */
  textColumns?: number[];
}

export interface ReportSection {
  heading: string;
  /** Plain text paragraphs (escaped). */
  text?: string[];
  table?: ReportTable;
  charts?: ReportChart[];
}

export interface ReportPage {
  title: string;
  /** Key–value facts shown under the title (command, commit, date, data, machine load…). */
  meta: [string, string | number][];
  sections: ReportSection[];
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1100px;padding:0 1em;color:#222}
h1{font-size:1.5em;margin-bottom:.2em}h2{font-size:1.15em;margin-top:2em;border-bottom:1px solid #ddd}
dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:.1em 1em;color:#555;font-size:.9em}
dl.meta dt{font-weight:600}dl.meta dd{margin:0}
table{border-collapse:collapse;margin:1em 0;font-size:.92em}th,td{padding:.25em .7em;border-bottom:1px solid #eee}
th{text-align:left;background:#f6f6f6}td.num{text-align:right;font-variant-numeric:tabular-nums}
.charts{display:flex;flex-wrap:wrap;gap:1.5em}figure{margin:0}figcaption{color:#555;font-size:.85em;max-width:560px}`;

/** An id is used inside attributes and CSS selectors: letters, digits, '-' and '_' only. */
function checkId(id: string): string {
  if (!/^[A-Za-z][\w-]*$/.test(id)) throw new Error(`report chart id ${JSON.stringify(id)}: use letters, digits, -`);
  return id;
}

function tableHtml(t: ReportTable): string {
  const text = new Set(t.textColumns ?? [0]);
  const head = `<tr>${t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr>`;
  const rows = t.rows.map(
    (r) => `<tr>${r.map((c, i) => `<td${text.has(i) ? '' : ' class="num"'}>${escapeHtml(c)}</td>`).join('')}</tr>`,
  );
  return `<table>\n<thead>${head}</thead>\n<tbody>\n${rows.join('\n')}\n</tbody>\n</table>`;
}

function chartHtml(c: ReportChart): string {
  // Vega's SVG writer escapes every text it draws; a script element in a chart would still be a defect upstream.
  if (/<script|<foreignObject|\son\w+\s*=/i.test(c.svg)) throw new Error(`chart ${c.id}: SVG holds active content`);
  const expect = c.expect === undefined ? '' : ` data-expect="${c.expect}"`;
  const cap = c.caption ? `<figcaption>${escapeHtml(c.caption)}</figcaption>` : '';
  const attrs = `id="${checkId(c.id)}" data-marks="${escapeHtml(c.marks)}"${expect}`;
  return `<figure class="chart" ${attrs}>\n${c.svg}\n${cap}</figure>`;
}

/** The whole page as one HTML document (UTF-8, inline CSS, inline SVG; no script, no external resource). */
export function htmlPage(p: ReportPage): string {
  const meta = p.meta.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join('');
  const sections = p.sections.map((s) =>
    [
      `<section>\n<h2>${escapeHtml(s.heading)}</h2>`,
      ...(s.text ?? []).map((t) => `<p>${escapeHtml(t)}</p>`),
      s.table ? tableHtml(s.table) : '',
      s.charts?.length ? `<div class="charts">\n${s.charts.map(chartHtml).join('\n')}\n</div>` : '',
      '</section>',
    ]
      .filter(Boolean)
      .join('\n'),
  );
  return [
    '<!doctype html>',
    '<html lang="en"><head><meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width,initial-scale=1">',
    // No network: a content policy that forbids any fetch and any script, so the page is inert by construction.
    '<meta http-equiv="Content-Security-Policy" ' +
      `content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`,
    `<title>${escapeHtml(p.title)}</title>`,
    `<style>${CSS}</style>`,
    '</head><body>',
    `<h1>${escapeHtml(p.title)}</h1>`,
    `<dl class="meta">${meta}</dl>`,
    ...sections,
    '</body></html>',
    '',
  ].join('\n');
}

/**
 * Problems of a report page found from its text (no browser): a chart whose mark group is missing or empty,
 * or whose count of marks differs from its `data-expect`. An empty list means every chart has its marks.
 * The browser test checks the same on the rendered DOM.
 */
export function chartProblems(html: string): string[] {
  const problems: string[] = [];
  const figures = html.split('<figure class="chart"').slice(1);
  for (const f of figures) {
    const id = /id="([^"]*)"/.exec(f)?.[1] ?? '?';
    const marks = /data-marks="([^"]*)"/.exec(f)?.[1] ?? '';
    const expect = /data-expect="(\d+)"/.exec(f)?.[1];
    const body = f.slice(0, f.indexOf('</figure>'));
    const at = body.indexOf(`role-mark ${marks}_marks"`);
    if (!marks || at < 0) {
      problems.push(`chart ${id}: no mark group ${marks || '(unnamed)'}`);
      continue;
    }
    const group = body.slice(at, body.indexOf('</g>', at));
    const n = (group.match(/role="graphics-symbol"/g) ?? []).length;
    if (expect !== undefined ? n !== Number(expect) : n === 0)
      problems.push(`chart ${id}: ${n} marks in ${marks}, expected ${expect ?? 'at least 1'}`);
  }
  return problems;
}
