// A reader that closes early (`frugal … | head -1`) ends the command quietly: no EPIPE stack, status 0 for a
// closed stdout (a training command still saves its model), the command's own status for a closed stderr.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, referenceMlp, saveModel } from '../src/node.js';
import { DATA, MAIN } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-epipe-'));

/** Run the CLI with the reading end of its stdout (or stderr) closed before it writes anything. */
function closedReader(which: 'stdout' | 'stderr', ...args: string[]): Promise<{ code: number | null; other: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const open = which === 'stdout' ? c.stderr : c.stdout;
    (which === 'stdout' ? c.stdout : c.stderr).destroy();
    let other = '';
    open.on('data', (d: Buffer) => (other += d.toString()));
    c.on('close', (code) => resolve({ code, other }));
  });
}

test('a closed stdout ends a command quietly with status 0', async () => {
  const model = join(dir, 'm.safetensors');
  saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
  for (const args of [['--help'], ['info', '--help'], ['info', model], ['info', model, '--json']]) {
    const r = await closedReader('stdout', ...args);
    assert.equal(r.code, 0, `${args.join(' ')}: ${r.other}`);
    assert.doesNotMatch(r.other, /EPIPE|Unhandled|at .*\.js:/, args.join(' '));
  }
});

test('a training command whose stdout is closed still finishes and saves its model', async () => {
  const out = join(dir, 't.safetensors');
  const r = await closedReader(
    'stdout',
    'train',
    '--model',
    'mlp',
    ...DATA,
    '--limit',
    '100',
    '--epochs',
    '1',
    '--out',
    out,
  );
  assert.equal(r.code, 0, r.other);
  assert.doesNotMatch(r.other, /EPIPE|Unhandled/);
  assert.ok(existsSync(out), 'the model was saved');
});

test('a closed stderr drops the diagnostics and keeps the status', async () => {
  assert.equal((await closedReader('stderr', 'no-such-command')).code, 2);
  assert.equal((await closedReader('stderr', 'info', join(dir, 'missing.safetensors'))).code, 1);
  const r = await closedReader('stderr', 'info', join(dir, 'm.safetensors'));
  assert.equal(r.code, 0);
  assert.match(r.other, /param/i);
});
