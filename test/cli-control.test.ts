// frugal control train|rollout: a linear plant in JSON gets a gain next to the Riccati one; bad
// plants and flags are refused by name; a controller that diverges stops with the step named.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodeController, gdhpNetworks } from '../src/index.js';
import { frugal, oneJson } from './cli-helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'frugal-cli-control-'));
const json = (s: string) => oneJson(s) as Record<string, any>;
const plantFile = (name: string, v: unknown) => {
  const p = join(dir, name);
  writeFileSync(p, typeof v === 'string' ? v : JSON.stringify(v));
  return p;
};

test('frugal control train on a plant JSON: learned gain within 5% of the Riccati gain, then rollout', () => {
  const plant = plantFile('p.json', {
    A: [
      [0.95, 0.1],
      [0, 1.02],
    ],
    B: [[0], [0.1]],
    Q: [
      [1, 0],
      [0, 0.5],
    ],
    R: [[0.5]],
  });
  const out = join(dir, 'ctl.safetensors');
  const t = json(frugal('control', 'train', '--system', plant, '--out', out, '--json').stdout);
  assert.equal(t.gain.length, 1);
  assert.equal(t.dareGain[0].length, 2);
  assert.ok(t.gainRelativeError < 0.05, `gain error ${t.gainRelativeError}`);
  const r = json(frugal('control', 'rollout', out, '--x0', '0.5,-0.4', '--steps', '200', '--json').stdout);
  assert.equal(r.states.length, 201);
  assert.ok(Math.abs(r.cost - r.optimalCost) / r.optimalCost < 0.01, `cost ${r.cost} vs x0ᵀPx0 ${r.optimalCost}`);
  const human = frugal('control', 'rollout', out, '--x0', '0.5,-0.4');
  assert.equal(human.code, 0);
  assert.match(human.stdout, /cost over 100 steps from x0 = \[0\.5, -0\.4\]: .*\(optimal x0ᵀPx0 = /);
  // Targets three model steps ahead reach the Riccati gain too; a resumed run must keep the lookahead.
  const out3 = join(dir, 'ctl3.safetensors');
  const t3 = json(frugal('control', 'train', '--system', plant, '--out', out3, '--lookahead', '3', '--json').stdout);
  assert.equal(t3.lookahead, 3);
  assert.ok(t3.gainRelativeError < 0.05, `gain error ${t3.gainRelativeError} with lookahead 3`);
  const other = frugal('control', 'train', '--system', plant, '--out', out3, '--lookahead', '2', '--resume');
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /lookahead/);
  assert.equal(frugal('control', 'train', '--system', plant, '--out', out3, '--lookahead', '0').code, 2);
  assert.equal(frugal('control', 'rollout', out3, '--x0', '0.5,-0.4', '--lookahead', '2').code, 2);
});

test('frugal control refuses bad plants and flags, naming the field and the fix', () => {
  const ok = { A: [[1.1]], B: [[1]], Q: [[1]], R: [[1]] };
  // Nothing drives the second state (x₂' = x₂): its mode |λ| = 1 never decays.
  const I2 = [
    [1, 0],
    [0, 1],
  ];
  const uncontrollable = {
    A: [
      [0.9, 0.1],
      [0, 1],
    ],
    B: [[1], [0]],
    Q: I2,
    R: [[1]],
  };
  const cases: [string[], number, RegExp][] = [
    [['control', 'train', '--out', join(dir, 'x')], 2, /--system lqr\|nonlinear\|cstr\|PLANT\.json is required/],
    [['control', 'train', '--system', 'lqr'], 2, /--out PATH is required/],
    [['control', 'train', '--system', 'pendulum', '--out', join(dir, 'x')], 2, /--system must be lqr, nonlinear/],
    [['control', 'train', '--system', 'lqr', '--out', join(dir, 'x'), '--episodes', '0'], 2, /--episodes must be/],
    [['control', 'fly'], 2, /unknown subcommand "fly"/],
    [
      ['control', 'train', '--system', plantFile('r.json', { ...ok, R: [[0]] }), '--out', join(dir, 'x')],
      1,
      /r\.json\.R must be positive definite/,
    ],
    [
      ['control', 'train', '--system', plantFile('q.json', { ...ok, Q: [[-1]] }), '--out', join(dir, 'x')],
      1,
      /q\.json\.Q must be positive semidefinite/,
    ],
    [
      ['control', 'train', '--system', plantFile('d.json', { ...ok, B: [[1], [2]] }), '--out', join(dir, 'x')],
      1,
      /d\.json\.B must have n = 1 rows/,
    ],
    [
      ['control', 'train', '--system', plantFile('m.json', { A: [[1]], B: [[1]] }), '--out', join(dir, 'x')],
      1,
      /m\.json lacks Q, R/,
    ],
    [
      ['control', 'train', '--system', plantFile('j.json', '{"A": [[1]'), '--out', join(dir, 'x')],
      1,
      /j\.json is not valid JSON/,
    ],
    [
      ['control', 'train', '--system', plantFile('b0.json', { ...ok, A: [[0.9]], B: [[0]] }), '--out', join(dir, 'x')],
      1,
      /b0\.json: the plant \(A, B\) has no input: B is all zeros/,
    ],
    [
      ['control', 'train', '--system', plantFile('u.json', uncontrollable), '--out', join(dir, 'x')],
      1,
      /u\.json: the plant \(A, B\) is not stabilizable: .*rank \[B, AB, …\] = 1 < n = 2/,
    ],
    [['control', 'train', '--system', join(dir, 'none.json'), '--out', join(dir, 'x')], 1, /does not exist/],
    [['control', 'rollout', join(dir, 'none.safetensors'), '--x0', '1'], 1, /does not exist/],
  ];
  for (const [args, code, re] of cases) {
    const r = frugal(...args);
    assert.equal(r.code, code, `${args.join(' ')}: exit ${r.code}, stderr ${r.stderr}`);
    assert.match(r.stderr, re, args.join(' '));
  }
});

test('frugal control rollout: wrong --x0 is a usage error; a diverging controller stops with the step named', () => {
  // An unstable scalar plant and an actor that pushes the wrong way: x grows ×(1.5 + 10) per step.
  const spec = { linear: { A: [[1.5]], B: [[1]], Q: [[1]], R: [[1]] } };
  const nets = gdhpNetworks(1, 1, 'linear', 'tanh', 1);
  nets.actor.parameters()[0].data[0] = 10;
  const path = join(dir, 'bad.safetensors');
  writeFileSync(
    path,
    encodeController(nets, {
      format: 'frugal-controller',
      version: 1,
      plant: spec,
      arch: 'linear',
      activation: 'tanh',
      gamma: 1,
    }),
  );
  const wrong = frugal('control', 'rollout', path, '--x0', '1,2');
  assert.equal(wrong.code, 2);
  assert.match(wrong.stderr, /--x0 must be 1 comma-separated finite numbers/);
  const r = frugal('control', 'rollout', path, '--x0', '1', '--steps', '1000');
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, /non-finite (input|state)? ?at step \d+/);
});

test("frugal control train --resume refuses other settings than the checkpoint's, listing them", () => {
  const out = join(dir, 'resume.safetensors');
  const base = ['control', 'train', '--system', 'lqr', '--out', out];
  const first = frugal(...base, '--episodes', '2');
  assert.equal(first.code, 0, first.stderr);
  const other = frugal(...base, '--episodes', '3', '--seed', '2', '--resume');
  assert.equal(other.code, 2, other.stderr);
  assert.match(other.stderr, /was written with other settings: --episodes 2 there, 3 now; --seed 1 there, 2 now;/);
  const system = frugal('control', 'train', '--system', 'cstr', '--out', out, '--episodes', '2', '--resume');
  assert.equal(system.code, 2, system.stderr);
  assert.match(system.stderr, /--system lqr there, cstr now/);
  const same = json(frugal(...base, '--episodes', '2', '--resume', '--json').stdout);
  assert.equal(same.resumedFromEpisode, 2);
  // A plant file is compared by its contents: the same name with another A is another run.
  const plant = { A: [[0.9]], B: [[1]], Q: [[1]], R: [[1]] };
  const path = plantFile('resume-plant.json', plant);
  const pOut = join(dir, 'resume-plant.safetensors');
  const pArgs = ['control', 'train', '--system', path, '--out', pOut, '--episodes', '1'];
  assert.equal(frugal(...pArgs).code, 0);
  plantFile('resume-plant.json', { ...plant, A: [[0.8]] });
  const edited = frugal(...pArgs, '--resume');
  assert.equal(edited.code, 2, edited.stderr);
  assert.match(edited.stderr, /--system .*\.json \(contents (\w+)\) there, .*\.json \(contents (?!\1)\w+\) now/);
});
