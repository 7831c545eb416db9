// Issue 26, point 5: every command's --help shows each option's default, and docs/cli.md says the same.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { frugal } from './cli-helpers.js';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
// The defaults list lives in docs/cli.md; the command table in the README.
const cliDoc = readFileSync(new URL('../../docs/cli.md', import.meta.url), 'utf8');
const commands = [
  'train',
  'eval',
  'predict',
  'info',
  'bench',
  'prune',
  'compact',
  'circulant',
  'pack',
  'reproduce',
  'layerwise',
  'control',
  'snn',
  'compare',
  'runs',
  'export',
  'import',
  'search',
];
const norm = (s: string) => s.split(/\s+/).join(' ').trim();

test('every command lists in the usage overview, and each --help gives the default of each option it takes', () => {
  const overview = frugal('--help').stdout;
  for (const c of commands) {
    assert.ok(overview.includes(`frugal ${c}`), `frugal --help lacks ${c}`);
    const help = frugal(c, '--help');
    assert.equal(help.code, 0);
    // Options taking a value: `[--flag VALUE]` or `--flag VALUE` in the synopsis (the lines before the text).
    const synopsis = help.stdout.split(/\n  (?=\S)/)[0];
    const valued = [...synopsis.matchAll(/--([a-z][a-z0-9-]*) (?:[A-Z]|[a-z0-9]+[|,])/g)].map((m) => m[1]);
    const required = ['out', 'model', 'block-size', 'target-params', 'target-flops', 'system', 'x0', 'timesteps'];
    const at = help.stdout.indexOf('  Defaults:');
    if (!valued.some((f) => !required.includes(f))) continue;
    assert.ok(at >= 0, `${c} --help has no Defaults paragraph`);
    const defaults = help.stdout.slice(at);
    for (const f of valued)
      if (!required.includes(f) || (c === 'train' && f === 'out'))
        assert.match(defaults, new RegExp(`--${f}\\b`), `${c} --help gives no default for --${f}`);
  }
});

test('docs/cli.md gives the same defaults as --help; the README names only flags the commands take', () => {
  for (const c of commands) {
    const help = frugal(c, '--help').stdout;
    const at = help.indexOf('  Defaults:');
    const m = new RegExp(`^- \`frugal ${c}\`: ((?:.|\\n  )*)`, 'm').exec(cliDoc);
    if (at < 0) {
      assert.equal(m, null, `docs/cli.md gives defaults for ${c}, whose --help has none`);
      continue;
    }
    assert.ok(m, `docs/cli.md lacks the defaults line of frugal ${c}`);
    assert.equal(norm(m[1]), norm(help.slice(at + '  Defaults:'.length)), `docs/cli.md and --help differ for ${c}`);
    // Each flag the README's command table shows for this command is one it takes.
    for (const row of readme.split('\n').filter((l) => l.startsWith(`| \`frugal ${c} `)))
      for (const f of row.matchAll(/--([a-z][a-z0-9-]*)/g))
        assert.ok(help.includes(`--${f[1]}`), `README shows --${f[1]} for ${c}; its --help does not`);
  }
});
