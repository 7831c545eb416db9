// Reading Vega's SVG output in tests: the mark groups a chart names (class `role-mark NAME_marks`) and the marks
// (role="graphics-symbol") each holds. A line with a colour per series is one group holding one path per series.
import assert from 'node:assert/strict';

/** The number of marks in each group named `name` (or `name_K`, panel K's), in document order. */
export function markGroups(svg: string, name: string): number[] {
  const out: number[] = [];
  for (const m of svg.matchAll(
    new RegExp(`<g class="mark-\\w+ role-mark ${name}(?:_\\d+)?_marks"[^>]*>(.*?)</g>`, 'gs'),
  ))
    out.push((m[1].match(/role="graphics-symbol"/g) ?? []).length);
  return out;
}

/** Asserts a chart file is an SVG drawn by Vega (its root class and a mark group of the given kind). */
export function assertVegaSvg(svg: string, kind: 'line' | 'symbol' | 'rule' | 'text', what = 'chart'): void {
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]* class="marks"[^]*<\/svg>\s*$/, what);
  assert.match(svg, new RegExp(`class="mark-${kind} role-mark `), `${what}: a ${kind} mark group`);
  assert.doesNotMatch(svg, /<script|<foreignObject/i, what);
}
