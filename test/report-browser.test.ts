// Issue 22, point 5: a report from a real (tiny) `frugal compare` run, opened in headless Chromium through
// playwright-core: no console errors, every chart has its marks (the Pareto charts one point per variant),
// and a model name holding <script> and quotes shows as text and never runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Page } from 'playwright-core';
import { referenceMlp } from '../src/node.js';
import { DATA, frugal, oneJson } from './cli-helpers.js';

const EXE = '/usr/bin/chromium';
// A file name cannot hold '/', so the hostile spec path spans a directory: …/evil"q'<script>…<  /  script>.json.
const EVIL_DIR = `evil"q'<script>window.__pwned=1<`;
const EVIL = `${EVIL_DIR}/script>.json`;

/** In the page: every chart figure's problems (missing mark group, wrong number of marks), as chartProblems. */
function domProblems(): string[] {
  const out: string[] = [];
  for (const f of Array.from(document.querySelectorAll<HTMLElement>('figure.chart'))) {
    const g = f.querySelector(`svg g.role-mark.${f.dataset.marks}_marks`);
    if (!g) {
      out.push(`chart ${f.id}: no mark group ${f.dataset.marks}`);
      continue;
    }
    const n = g.querySelectorAll(':scope > [role="graphics-symbol"]').length;
    const expect = f.dataset.expect === undefined ? undefined : Number(f.dataset.expect);
    if (expect !== undefined ? n !== expect : n === 0)
      out.push(`chart ${f.id}: ${n} marks in ${f.dataset.marks}, expected ${expect ?? 'at least 1'}`);
  }
  return out;
}

async function open(page: Page, url: string) {
  const errors: string[] = [];
  page.on('console', (m) => m.type() === 'error' && errors.push(m.text()));
  page.on('pageerror', (e) => errors.push(String(e)));
  page.on('dialog', (d) => {
    errors.push(`dialog: ${d.message()}`);
    void d.dismiss();
  });
  await page.goto(url);
  return errors;
}

test(
  'a compare report opens in Chromium: no errors, every chart has its marks, a hostile name is text',
  {
    skip: existsSync(EXE) ? false : `${EXE} is not installed (.ci/run installs Debian's chromium)`,
  },
  async () => {
    const dir = mkdtempSync(join(tmpdir(), 'frugal-report-'));
    const browser = await chromium.launch({ executablePath: EXE, args: ['--no-sandbox'] });
    try {
      mkdirSync(join(dir, EVIL_DIR));
      const spec = join(dir, EVIL);
      writeFileSync(spec, JSON.stringify(referenceMlp));
      const out = join(dir, 'cmp');
      // Tiny: 300 training images, one epoch, one latency round; binary does not apply to an MLP (skipped).
      const r = frugal(
        'compare',
        '--model',
        spec,
        ...DATA,
        '--limit',
        '300',
        '--epochs',
        '1',
        '--rounds',
        '1',
        '--variants',
        'dense,pruned-90,circulant-4,binary',
        '--out',
        out,
        '--json',
      );
      assert.equal(r.code, 0, r.stderr);
      const res = oneJson(r.stdout) as { variants: { name: string; status: string; reason?: string }[] };
      const done = res.variants.filter((v) => v.status === 'done');
      assert.deepEqual(
        done.map((v) => v.name),
        ['dense', 'pruned-90', 'circulant-4'],
      );
      assert.match(res.variants.find((v) => v.name === 'binary')!.reason!, /convolutions/);
      const json = JSON.parse(readFileSync(join(out, 'report.json'), 'utf8'));
      assert.equal(json.variants.length, 4);

      const page = await browser.newPage();
      const errors = await open(page, pathToFileURL(join(out, 'report.html')).href);
      assert.deepEqual(errors, []);
      assert.deepEqual(await page.evaluate(domProblems), []);
      const ids = await page.$$eval('figure.chart', (fs) => fs.map((f) => f.id));
      for (const id of ['pareto-latency', 'pareto-bytes', 'layer-cost', 'curves-accuracy', 'curves-loss'])
        assert.ok(ids.includes(id), `report lacks chart ${id}`);
      for (const id of ['pareto-latency', 'pareto-bytes']) {
        const n = await page.$$eval(`#${id} g.points_marks > [role="graphics-symbol"]`, (e) => e.length);
        assert.equal(n, done.length, `${id}: one point per variant`);
      }
      // The hostile name: shown as text in the title, no script element, nothing ran.
      assert.ok((await page.textContent('h1'))!.includes(EVIL));
      assert.equal(await page.evaluate(() => document.scripts.length), 0);
      assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
      await page.screenshot({ path: join(dir, 'shot.png') });

      // Negatives: the same checks catch a report whose chart lost its marks, and a name that was not escaped.
      const html = readFileSync(join(out, 'report.html'), 'utf8');
      const broken = join(dir, 'broken.html');
      writeFileSync(broken, html.replace(/points_marks/, 'nothing_marks'));
      const p2 = await browser.newPage();
      await open(p2, pathToFileURL(broken).href);
      assert.match((await p2.evaluate(domProblems)).join(), /pareto-latency: no mark group points/);
      const unescaped = join(dir, 'unescaped.html');
      writeFileSync(
        unescaped,
        html.replace('<h1>', '<h1><script>window.__pwned=1</script>').replace(/default-src[^"]*/, ''),
      );
      const p3 = await browser.newPage();
      await open(p3, pathToFileURL(unescaped).href);
      assert.equal(await p3.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), 1);
    } finally {
      await browser.close();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
