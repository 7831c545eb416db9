import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Rng, SUBSET_DIR } from '../src/node.js';

/** The built CLI entry point. */
export const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** Point commands at the subset shipped in the repo. */
export const DATA = ['--data-dir', SUBSET_DIR];

/** Run the CLI to completion. */
export function frugal(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * A command's JSON report that must not be an error: a failure shows the error and the end of stderr (a
 * flaky failure in CI is then diagnosable from the log alone).
 */
export function reportJson(r: { code: number; stdout: string; stderr: string }): Record<string, any> {
  const o = oneJson(r.stdout) as Record<string, any>;
  assert.equal(o.error, undefined, `exit ${r.code}: ${o.error}\n${r.stderr.slice(-3000)}`);
  return o;
}

/** stdout must be exactly one JSON object. */
export function oneJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout has ${lines.length} lines: ${stdout.slice(0, 300)}`);
  return JSON.parse(lines[0]);
}

/**
 * A small learnable CSV dataset in dir: 300 rows of 3 classes, each a shifted Gaussian blob in 12 features (label
 * first, as csv:FILE reads by default), and a 12 → 32 → 3 MLP spec for it. Returns both paths.
 */
export function blobsCsv(dir: string): { csv: string; spec: string } {
  const rng = new Rng(5);
  const rows = Array.from({ length: 300 }, (_, i) => {
    const c = i % 3;
    return [c, ...Array.from({ length: 12 }, (_, j) => (j % 3 === c ? 3 : 0) + rng.normal())].join(',');
  });
  const csv = join(dir, 'blobs.csv');
  writeFileSync(csv, `${rows.join('\n')}\n`);
  const spec = join(dir, 'blobs-spec.json');
  writeFileSync(
    spec,
    JSON.stringify({
      format: 'frugal-model',
      version: 1,
      input: [12],
      layers: [{ type: 'linear', in: 12, out: 32 }, { type: 'relu' }, { type: 'linear', in: 32, out: 3 }],
    }),
  );
  return { csv, spec };
}
