// The shared option groups: the training and data flags are declared once (src/cli/option-groups.ts)
// and train, prune and circulant read each of them the same way.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel, referenceMlp, saveModel } from '../src/node.js';
import { readTraining } from '../src/cli/option-groups.js';
import { UsageError } from '../src/cli/args.js';
import { frugal } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-options-'));

test('readTraining: per-command defaults, lr and momentum follow the optimizer, checks in one place', () => {
  const d = {
    epochs: 3,
    batchSize: 64,
    optimizers: ['sgd', 'adam'] as const,
    optimizer: 'sgd' as const,
    schedule: 'cosine' as const,
  };
  assert.deepEqual(readTraining({}, d), {
    epochs: 3,
    batchSize: 64,
    optimizer: 'sgd',
    lr: 0.01,
    momentum: 0.9,
    weightDecay: 0,
    seed: 1,
    schedule: 'cosine',
    valSplit: 0,
    patience: 0,
    resume: false,
  });
  const a = readTraining({ optimizer: 'adam', epochs: '2', 'batch-size': '32', seed: '7' }, d);
  assert.deepEqual([a.optimizer, a.lr, a.momentum, a.epochs, a.batchSize, a.seed], ['adam', 1e-3, 0, 2, 32, 7]);
  assert.throws(() => readTraining({ optimizer: 'adamw' }, d), /--optimizer must be one of sgd, adam, got "adamw"/);
  assert.throws(() => readTraining({ epochs: '0' }, d), UsageError);
  assert.equal(readTraining({ epochs: '0' }, { ...d, minEpochs: 0 }).epochs, 0);
  assert.throws(() => readTraining({ 'early-stopping': '2' }, d), /--early-stopping needs --val-split/);
});

test('train, prune and circulant refuse a bad training flag with one message, and list the flags in --help', () => {
  const model = join(dir, 'mlp.safetensors');
  saveModel(model, buildModel(referenceMlp, 1), referenceMlp);
  const commands: Record<string, string[]> = {
    train: ['train', '--model', 'mlp', '--out', join(dir, 't.safetensors')],
    prune: ['prune', model, '--target-params', '0.5', '--out', join(dir, 'p.safetensors')],
    circulant: ['circulant', model, '--block-size', '2', '--out', join(dir, 'c.safetensors')],
  };
  const bad: [string[], RegExp][] = [
    [['--lr', '0'], /--lr must be a number > 0, got "0"/],
    [['--batch-size', 'many'], /--batch-size must be an integer ≥ 1, got "many"/],
    [['--seed=-1'], /--seed must be an integer ≥ 0, got "-1"/],
    [['--limit', '0'], /--limit must be an integer ≥ 1, got "0"/],
    [['--optimizer', 'rmsprop'], /--optimizer must be one of sgd, adam/],
  ];
  for (const [name, args] of Object.entries(commands)) {
    for (const [flag, re] of bad) {
      const r = frugal(...args, ...flag);
      assert.equal(r.code, 2, `${name} ${flag.join(' ')}: exit ${r.code}; ${r.stderr}`);
      assert.match(r.stderr, re, `${name} ${flag.join(' ')}`);
    }
    const help = frugal(name, '--help').stdout;
    for (const f of ['[--epochs N]', '[--batch-size B]', '[--lr X]', '[--seed S]', '[--data-dir DIR]', '[--limit N]']) {
      assert.ok(help.includes(f), `${name} --help lacks ${f}`);
    }
  }
});
