// The SVG line chart of the results documents.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lineChart, niceTicks } from '../src/index.js';

test('lineChart: one polyline per series, dots, error bars, reference lines and a legend', () => {
  const svg = lineChart({
    title: 'loss <test>',
    xLabel: 'epoch',
    yLabel: 'loss',
    series: [
      { name: 'a', points: [1, 2, 3].map((x) => ({ x, y: 1 / x, err: 0.1 })) },
      { name: 'b', points: [1, 2, 3].map((x) => ({ x, y: 2 / x })) },
    ],
    refs: [{ name: 'baseline', y: 0.5 }],
  });
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^]*<\/svg>\n$/);
  assert.equal((svg.match(/<polyline/g) ?? []).length, 2);
  assert.equal((svg.match(/<circle/g) ?? []).length, 6);
  assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2, 'the reference line and its legend entry');
  assert.ok(svg.includes('loss &lt;test&gt;'), 'text is escaped');
  for (const name of ['>a<', '>b<', '>baseline<']) assert.ok(svg.includes(name), name);
});

test('lineChart: a log axis leaves out non-positive points; nothing to draw is an error', () => {
  const svg = lineChart({
    xLabel: 'x',
    yLabel: 'y',
    logY: true,
    series: [{ name: 's', points: [0, 1, 2, 3].map((x) => ({ x, y: x === 0 ? 0 : 10 ** x })) }],
  });
  assert.equal((svg.match(/<circle/g) ?? []).length, 3);
  assert.ok(svg.includes('(log scale)'));
  assert.throws(
    () => lineChart({ xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [{ x: 1, y: NaN }] }] }),
    /no finite point to draw/,
  );
});

test('niceTicks: round steps covering the range', () => {
  assert.deepEqual(niceTicks(0, 1, 5), [0, 0.2, 0.4, 0.6, 0.8, 1]);
  assert.deepEqual(niceTicks(3, 97, 4), [20, 40, 60, 80]);
});
