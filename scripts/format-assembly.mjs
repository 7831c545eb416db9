// Prettier for the AssemblyScript kernels: `@inline` on a function is not TypeScript, so it is
// written as a comment marker for Prettier and put back after. `--check` fails on unformatted files.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import * as prettier from 'prettier';

const check = process.argv.includes('--check');
const options = { ...(await prettier.resolveConfig('assembly/index.ts')), parser: 'typescript' };
const hide = (s) => s.replace(/^(\s*)@inline /gm, '$1/*@inline*/ ');
const show = (s) => s.replace(/^(\s*)\/\*@inline\*\/ /gm, '$1@inline ');
let bad = 0;
for (const name of readdirSync('assembly').filter((n) => n.endsWith('.ts'))) {
  const path = join('assembly', name);
  const src = readFileSync(path, 'utf8');
  const out = show(await prettier.format(hide(src), options));
  if (out === src) continue;
  if (check) {
    process.stderr.write(`[warn] ${path}\n`);
    bad++;
  } else writeFileSync(path, out);
}
if (bad) {
  process.stderr.write(`${bad} AssemblyScript file(s) not formatted: run npm run format\n`);
  process.exit(1);
}
