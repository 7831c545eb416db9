// The line charts of the results documents (lineChart / lineChartSpec / panelsSpec in src/report/vega.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart, lineChartSpec, panelsSpec, renderChart } from '../src/node.js';
import { assertVegaSvg, markGroups } from './vega-svg.js';

const HOSTILE = `<script>alert("x")</script>'"&`;

test('lineChart: one line per series and reference, dots, error bars, one legend; hostile text escaped', async () => {
  const svg = await lineChart({
    title: HOSTILE,
    xLabel: `epoch ${HOSTILE}`,
    yLabel: 'loss',
    series: [
      { name: HOSTILE, points: [1, 2, 3].map((x) => ({ x, y: 1 / x, err: 0.1 })) },
      { name: 'b', points: [1, 2, 3].map((x) => ({ x, y: 2 / x })), dashed: true },
    ],
    refs: [{ name: 'baseline', y: 0.5 }],
  });
  assertVegaSvg(svg, 'line');
  assert.deepEqual(markGroups(svg, 'lines'), [1, 1, 1], 'two series and the reference line');
  assert.deepEqual(markGroups(svg, 'dots'), [6]);
  assert.deepEqual(markGroups(svg, 'errors'), [3]);
  assert.equal((svg.match(/stroke-dasharray="5,4"/g) ?? []).length >= 2, true, 'dashed series and reference');
  assert.doesNotMatch(svg, /<script/i, 'no script element');
  assert.ok(svg.includes('&lt;script&gt;alert('), 'the hostile label is shown as text');
  // Negative: the helper sees a missing series.
  const oneLess = svg.replace(/<g class="mark-line role-mark lines_marks"[^>]*>.*?<\/g>/s, '');
  assert.deepEqual(markGroups(oneLess, 'lines'), [1, 1]);
});

test('lineChart: a log axis leaves out non-positive points and says so; nothing to draw is an error', async () => {
  const svg = await lineChart({
    xLabel: 'x',
    yLabel: 'y',
    logY: true,
    series: [{ name: 's', points: [0, 1, 2, 3].map((x) => ({ x, y: x === 0 ? 0 : 10 ** x })) }],
  });
  assert.deepEqual(markGroups(svg, 'dots'), [3]);
  assert.ok(svg.includes('y (log scale)'));
  assert.throws(
    () => lineChartSpec({ xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 1, y: NaN }] }] }),
    /no finite point to draw/,
  );
});

test('panelsSpec: panels side by side in one SVG, empty panels left out', async () => {
  const panel = (title: string, ys: number[], series = 1) => ({
    title,
    xLabel: 'step',
    yLabel: 'gap',
    logY: true,
    series: Array.from({ length: series }, (_, k) => ({
      name: `depth ${k + 1}`,
      points: ys.map((y, x) => ({ x: x * (k + 1), y })),
    })),
  });
  const panels = [panel('a', [1, 0.1], 3), panel('empty', [0, -1]), panel('c', [1, 0.5])];
  const svg = await renderChart(panelsSpec(panels));
  assertVegaSvg(svg, 'line');
  // Each panel draws its own data (3 lines, then 1: a group per line), not one panel's data in every panel.
  assert.deepEqual(markGroups(svg, 'lines'), [1, 1, 1, 1]);
  assert.equal(markGroups(svg, 'lines_1').length, 3);
  assert.equal(markGroups(svg, 'lines_2').length, 1);
  assert.ok(svg.includes('>a<') && svg.includes('>c<') && !svg.includes('>empty<'));
  assert.throws(() => panelsSpec([panel('empty', [0])]), /no panel/);
});
