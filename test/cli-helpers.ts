import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { SUBSET_DIR } from '../src/node.js';

/** The built CLI entry point. */
export const MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));
/** Point commands at the subset shipped in the repo. */
export const DATA = ['--data-dir', SUBSET_DIR];

/** Run the CLI to completion. */
export function frugal(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [MAIN, ...args], { encoding: 'utf8' });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** stdout must be exactly one JSON object. */
export function oneJson(stdout: string): Record<string, unknown> {
  const lines = stdout.trim().split('\n');
  assert.equal(lines.length, 1, `stdout has ${lines.length} lines: ${stdout.slice(0, 300)}`);
  return JSON.parse(lines[0]);
}
