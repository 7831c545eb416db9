// Policy selection on validation states (GdhpOptions.select): the networks of the best-scoring check are
// restored, selection does not change training, it survives a resume, and the reproduction's selection
// states are never a test stream.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  closedLoopScore,
  copyNets,
  cstrPlant,
  drawStates,
  gdhpNetworks,
  linearPolicy,
  lqrPlant,
  nonlinearPlant,
  recipeFor,
  rollout,
  solveDare,
  trainGdhp,
  validationStates,
  Rng,
  type GdhpNets,
  type GdhpOptions,
} from '../src/index.js';
import { cstrSelect, TEST_SEEDS } from '../src/reproduce/gdhp.js';
import { memoryStore } from './helpers.js';

const base: GdhpOptions = { arch: [8], episodes: 6, episodeLength: 5, parallel: 2, batchSize: 16, seed: 4 };

/** A score function that returns the scripted values in order and records the networks it saw. */
function scripted(values: number[]) {
  const seen: Record<string, number[]>[] = [];
  let i = 0;
  return {
    seen,
    score: (nets: GdhpNets) => {
      seen.push(copyNets(nets));
      return values[i++];
    },
  };
}

test('selection restores the networks of the best-scoring check, not the last', () => {
  const s = scripted([5, 3, 4, 2.5, 7, NaN]);
  const r = trainGdhp(nonlinearPlant(), { ...base, select: { every: 1, score: s.score } });
  assert.equal(r.selected?.episode, 4);
  assert.equal(r.selected?.score, 2.5);
  assert.deepEqual(
    r.selected?.scores.map((x) => x.score),
    [5, 3, 4, 2.5, 7, Infinity],
  );
  const now = copyNets(r.nets);
  assert.deepEqual(now, s.seen[3], 'the networks scored at episode 4 are the ones returned');
  assert.notDeepEqual(now, s.seen[5], 'the last networks were replaced');
  // Scoring reads the networks only: the same run without selection trains the same last networks.
  const plain = trainGdhp(nonlinearPlant(), base);
  assert.deepEqual(copyNets(plain.nets), s.seen[5]);
  assert.deepEqual(
    plain.history.map((l) => l.costateLoss),
    r.history.map((l) => l.costateLoss),
  );
});

test('selection checks every E episodes and after the last; ties go to the later check', () => {
  const s = scripted([2, 2]);
  const r = trainGdhp(nonlinearPlant(), { ...base, select: { every: 4, score: s.score } });
  assert.deepEqual(
    r.selected?.scores.map((x) => x.episode),
    [4, 6],
  );
  assert.equal(r.selected?.episode, 6);
  assert.throws(
    () => trainGdhp(nonlinearPlant(), { ...base, select: { every: 0, score: () => 0 } }),
    /select.every must be a positive integer/,
  );
});

test('a resumed run keeps the best networks found before the interruption; a stopped run keeps its last', () => {
  const values = [4, 1, 3, 5, 6, 7];
  const full = trainGdhp(nonlinearPlant(), { ...base, select: { every: 1, score: scripted(values).score } });
  const store = memoryStore();
  const first = scripted(values);
  const stopped = trainGdhp(nonlinearPlant(), {
    ...base,
    checkpoint: store,
    select: { every: 1, score: first.score },
    onEpisode: (l) => (l.episode === 3 ? 'stop' : undefined),
  });
  assert.ok(stopped.stopped);
  assert.deepEqual(copyNets(stopped.nets), first.seen[2], 'interrupted: the last networks, which the checkpoint holds');
  const rest = trainGdhp(nonlinearPlant(), {
    ...base,
    checkpoint: store,
    resume: true,
    select: { every: 1, score: scripted(values.slice(3)).score },
  });
  assert.equal(rest.selected?.episode, 2);
  assert.equal(rest.selected?.scores.length, 6);
  assert.deepEqual(copyNets(rest.nets), copyNets(full.nets));
});

test('closedLoopScore: mean min(J/J_ref, cap), an unbounded loop at the cap; mean cost without a reference', () => {
  const plant = lqrPlant(),
    dare = solveDare(plant.linear!);
  const nets = gdhpNetworks(2, 1, 'linear', 'tanh', 1);
  // The actor u = Wx set to the Riccati policy u = −K*x.
  nets.actor.parameters()[0].data.set(dare.K[0].map((v) => -v));
  const rng = new Rng(9),
    x0 = drawStates(plant, 5, () => rng.random());
  const ref = rollout(plant, linearPolicy(dare.K), x0, 5, 50).cost;
  assert.ok(Math.abs(closedLoopScore(plant, x0, 5, 50, { reference: ref })(nets) - 1) < 1e-4);
  const half = Array.from(ref, (v) => v / 2);
  assert.ok(Math.abs(closedLoopScore(plant, x0, 5, 50, { reference: half, cap: 1.5 })(nets) - 1.5) < 1e-9);
  assert.equal(closedLoopScore(plant, x0, 5, 50, { reference: ref, bound: 1e-6 })(nets), 3);
  const mean = Array.from(ref).reduce((a, b) => a + b, 0) / 5;
  assert.ok(Math.abs(closedLoopScore(plant, x0, 5, 50)(nets) / mean - 1) < 1e-4);
  assert.equal(closedLoopScore(plant, x0, 5, 50, { bound: 1e-6 })(nets), Infinity);
});

test("the CSTR's selection states come from their own stream, never a test stream", () => {
  const plant = cstrPlant(),
    sel = recipeFor(plant).selection!;
  assert.ok(!TEST_SEEDS.includes(sel.seed), 'the recipe selects on a test stream');
  assert.notEqual(sel.seed, 4242, 'the recipe bench scores on stream 4242: selection must use another');
  const v = validationStates(plant, sel);
  for (const seed of TEST_SEEDS) {
    const rng = new Rng(seed),
      t = drawStates(plant, 20, () => rng.random());
    for (let a = 0; a < sel.states; a++)
      for (let b = 0; b < 20; b++) assert.notDeepEqual(v.subarray(a * 6, a * 6 + 6), t.subarray(b * 6, b * 6 + 6));
  }
  const c = { cstrHorizon: 10, cstrSelection: { ...sel, seed: TEST_SEEDS[2] } };
  assert.throws(() => cstrSelect(c, new Array<number>(sel.states).fill(1)), /is a test stream/);
});
