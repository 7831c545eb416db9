// Writes docs/cli.md's table of layer types, fields and defaults from the layer registry (between the
// <!-- layer-table --> markers). Run after `npx tsc`: node scripts/layer-table.mjs. test/layer-table.test.ts
// fails when docs/cli.md drifts from the registry.
import { readFileSync, writeFileSync } from 'node:fs';
import { layerTableMarkdown } from '../dist/src/node.js';

const path = new URL('../docs/cli.md', import.meta.url);
const readme = readFileSync(path, 'utf8');
const start = '<!-- layer-table -->',
  end = '<!-- /layer-table -->';
const a = readme.indexOf(start),
  b = readme.indexOf(end);
if (a < 0 || b < a) throw new Error(`docs/cli.md lacks the ${start} … ${end} markers`);
writeFileSync(path, `${readme.slice(0, a + start.length)}\n${layerTableMarkdown()}\n${readme.slice(b)}`);
