// Writes the README's table of layer types, fields and defaults from the layer registry (between the
// <!-- layer-table --> markers). Run after `npx tsc`: node scripts/layer-table.mjs. test/layer-table.test.ts
// fails when the README drifts from the registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { layerTableMarkdown } from '../dist/src/node.js';

const path = new URL('../README.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- layer-table -->',
  end = '<!-- /layer-table -->';
const a = readme.indexOf(start),
  b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`README.md lacks the ${start} … ${end} markers`);
writeFileSync(path, `${readme.slice(0, a + start.length)}\n${layerTableMarkdown()}\n${readme.slice(b)}`);
