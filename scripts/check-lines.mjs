// npm run lint's second half: no source line over 120 characters (Prettier cannot break long strings
// and comments). Lines holding a URL are exempt, and so is test data under test/fixtures/data.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const MAX = 120;
const roots = ['src', 'test', 'bench', 'assembly', 'scripts', 'demo'];
const exts = ['.ts', '.mjs', '.js', '.py'];
const bad = [];
function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) {
      if (p !== join('test', 'fixtures', 'data')) walk(p);
    } else if (exts.some((e) => p.endsWith(e))) {
      readFileSync(p, 'utf8')
        .split('\n')
        .forEach((line, i) => {
          // Count code points, not UTF-16 units: '×' and '≤' are one column each.
          if ([...line].length > MAX && !/https?:\/\//.test(line))
            bad.push(`${p}:${i + 1}: ${[...line].length} columns`);
        });
    }
  }
}
for (const r of roots) walk(r);
if (bad.length) {
  process.stderr.write(
    `${bad.join('\n')}\n${bad.length} line(s) over ${MAX} columns: break them (strings with +, comments over lines)\n`,
  );
  process.exit(1);
}
process.stdout.write(`lines: none over ${MAX} columns\n`);
