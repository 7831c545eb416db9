// Issue 25, point 1: the search core — spaces, seeded draws with rejection, grid, robust median-of-top-k,
// the median stopping rule and ASHA, templates, the objective, and a study run over an in-memory store.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  Rng,
  SUBSET_DIR,
  Study,
  SearchSpaceError,
  ashaPruner,
  bestTrial,
  fillTemplate,
  gridPoints,
  medianPruner,
  objectiveCheck,
  openSqliteStorage,
  retrainSetting,
  robustSetting,
  runObjective,
  sampleParams,
  trialSettings,
  validateSpace,
  validateStudyDef,
  type ParamDef,
  type StudyDef,
  type TrialCurve,
} from '../src/node.js';

/** Spec 09's space: N blocks of (filters, kernel), a draw refused when the valid-padding length reaches ≤ 0. */
const ecgSpace: Record<string, ParamDef> = {
  N: { type: 'int', min: 1, max: 7 },
  blocks: {
    type: 'repeat',
    count: 'N',
    params: { F: { type: 'int', min: 5, max: 50 }, K: { type: 'int', min: 5, max: 100 } },
  },
};
const lengthCheck = (p: Record<string, unknown>) => {
  let len = 625;
  for (let i = 0; i < (p.N as number); i++) {
    len = Math.floor((len - (p[`blocks.${i}.K`] as number) + 1) / 2);
    if (len <= 0) return `length ≤ 0 after block ${i + 1}`;
  }
  return null;
};

test('space: bad ranges, empty choices, unknown types and dangling references are refused with the field named', () => {
  const bad: [unknown, RegExp][] = [
    [{ a: { type: 'choice', values: [] } }, /params\.a: a choice needs a non-empty "values"/],
    [{ a: { type: 'int', min: 5, max: 1 } }, /params\.a: min 5 > max 1/],
    [{ a: { type: 'loguniform', min: 0, max: 1 } }, /min > 0/],
    [{ a: { type: 'int', min: 0.5, max: 2 } }, /integer min and max/],
    [{ a: { type: 'normal', min: 0, max: 1 } }, /unknown type "normal"/],
    [{ g: { type: 'repeat', count: 'n', params: {} } }, /must name an int parameter declared before it/],
    [{ a: { type: 'float', min: 0, max: 1, if: { b: 1 } } }, /names "b", which is not declared before it/],
    [{ g: { type: 'repeat', count: 2, params: { x: { type: 'int', min: 3, max: 2 } } } }, /g\.params\.x: min 3/],
    [
      { opt: { type: 'choice', values: ['sgd', 'adam'] }, m: { type: 'float', min: 0, max: 1, if: { opt: 'sdg' } } },
      /params\.m\.if wants opt = "sdg", which it never takes \(its values: \["sgd","adam"\]\)/,
    ],
  ];
  for (const [space, msg] of bad) assert.throws(() => validateSpace(space), msg);
  assert.throws(() => validateStudyDef({ study: 'a b', objective: {}, params: {} }), /"study" must be a name/);
  validateSpace(ecgSpace);
  validateSpace({
    opt: { type: 'choice', values: ['sgd', 'adam'] },
    m: { type: 'float', min: 0, max: 1, if: { opt: ['x', 'sgd'] } },
  });
});

test('space: an unknown key at the top level, in a parameter, a group, the objective or robust is refused', () => {
  const def = (over: Record<string, unknown> = {}, objective = {}, params = {}) => ({
    study: 's',
    objective: { model: 'mlp', ...objective },
    params: { w: { type: 'int', min: 1, max: 5 }, ...params },
    ...over,
  });
  const bad: [unknown, RegExp][] = [
    [def({ seeed: 2 }), /top level: unknown key 'seeed'; .*study, objective, params.* \(did you mean 'seed'\?\)/],
    [
      def({}, {}, { n: { type: 'int', mn: 1, max: 5 } }),
      /params\.n: unknown key 'mn'; .*step.* \(did you mean 'min'\?\)/,
    ],
    [def({}, {}, { c: { type: 'choice', value: [1] } }), /params\.c: unknown key 'value'.*did you mean 'values'/],
    [
      def({}, {}, { g: { type: 'repeat', count: 1, parms: {}, params: { x: { type: 'int', min: 1, max: 2 } } } }),
      /params\.g: unknown key 'parms'.*did you mean 'params'/,
    ],
    [
      def({}, {}, { g: { type: 'repeat', count: 1, params: { x: { type: 'float', min: 0, max: 1, step: 2 } } } }),
      /params\.g\.params\.x: unknown key 'step'; .*steps.*did you mean 'steps'/,
    ],
    [def({}, { metrik: 'valLoss' }), /objective: unknown key 'metrik'; .*dataset.* \(did you mean 'metric'\?\)/],
    [def({}, { datset: 'ecg-synthetic' }), /objective: unknown key 'datset'.*did you mean 'dataset'/],
    [def({ robust: { topk: 3 } }), /robust: unknown key 'topk'; .*groupBy.*did you mean 'topK'/],
  ];
  for (const [d, msg] of bad) assert.throws(() => validateStudyDef(d), msg);
  validateStudyDef(def({ seed: 2, sampler: 'random', robust: { topK: 3, groupBy: 'w' } }, { metric: 'valLoss' }));
});

test('sampling: seeded per trial, repeat groups sized by their count, conditionals, rejections counted', () => {
  const a = sampleParams(ecgSpace, 7, 3, lengthCheck),
    b = sampleParams(ecgSpace, 7, 3, lengthCheck);
  assert.deepEqual(a, b);
  assert.notDeepEqual(sampleParams(ecgSpace, 7, 4, lengthCheck).params, a.params);
  let rejected = 0;
  for (let i = 0; i < 200; i++) {
    const { params: p, rejections } = sampleParams(ecgSpace, 1, i, lengthCheck);
    const n = p.N as number;
    assert.ok(n >= 1 && n <= 7);
    assert.equal(Object.keys(p).length, 1 + 2 * n, 'one F and one K per block');
    for (let k = 0; k < n; k++) assert.ok((p[`blocks.${k}.F`] as number) >= 5 && (p[`blocks.${k}.K`] as number) <= 100);
    assert.equal(lengthCheck(p), null, 'a returned draw is valid');
    for (const [why, c] of Object.entries(rejections)) {
      assert.match(why, /^length ≤ 0 after block \d$/);
      rejected += c;
    }
  }
  assert.ok(rejected > 0, 'deep blocks with large kernels are drawn and refused');
  const cond: Record<string, ParamDef> = {
    opt: { type: 'choice', values: ['sgd', 'adam'] },
    momentum: { type: 'float', min: 0, max: 0.99, if: { opt: 'sgd' } },
  };
  for (let i = 0; i < 30; i++) {
    const { params } = sampleParams(cond, 1, i);
    assert.equal('momentum' in params, params.opt === 'sgd');
  }
  const lr = Array.from({ length: 400 }, (_, i) =>
    Math.log10(sampleParams({ lr: { type: 'loguniform', min: 1e-4, max: 1e-2 } }, 1, i).params.lr as number),
  );
  const below = lr.filter((x) => x < -3).length;
  assert.ok(below > 150 && below < 250, `log-uniform: half the draws below 1e-3, got ${below}/400`);
});

test('a group with no valid draw fails after the rejection limit, naming the reason', () => {
  const space: Record<string, ParamDef> = { N: { type: 'int', min: 7, max: 7 }, ...{ blocks: ecgSpace.blocks } };
  const never = (p: Record<string, unknown>) => ((p['blocks.0.K'] as number) > 200 ? null : 'kernel too small');
  assert.throws(
    () => sampleParams(space, 1, 0, never, 50),
    /no valid draw after 50 rejections \(50× kernel too small\)/,
  );
});

test('grid: every point in order, float ranges need steps, refused points skipped', () => {
  const pts = [...gridPoints({ a: { type: 'int', min: 1, max: 2 }, b: { type: 'choice', values: ['x', 'y', 'z'] } })];
  assert.deepEqual(
    pts.map((p) => `${p.a}${p.b}`),
    ['1x', '1y', '1z', '2x', '2y', '2z'],
  );
  assert.throws(() => [...gridPoints({ lr: { type: 'float', min: 0, max: 1 } })], /needs "steps"/);
  const lr = [...gridPoints({ lr: { type: 'loguniform', min: 1e-5, max: 1e-2, steps: 4 } })].map((p) => p.lr as number);
  lr.forEach((v, i) => assert.ok(Math.abs(Math.log10(v) - (-5 + i)) < 1e-9));
  const blocks = [
    ...gridPoints(
      {
        N: { type: 'int', min: 1, max: 2 },
        g: { type: 'repeat', count: 'N', params: { k: { type: 'int', min: 1, max: 2 } } },
      },
      (p) => (p['g.0.k'] === 2 ? 'no' : null),
    ),
  ];
  assert.deepEqual(
    blocks.map((p) => JSON.stringify(p)),
    ['{"N":1,"g.0.k":1}', '{"N":2,"g.0.k":1,"g.1.k":1}', '{"N":2,"g.0.k":1,"g.1.k":2}'],
  );
});

test('robust setting: per-parameter median of the top k, per group; not the single best draw', () => {
  const t = (number: number, value: number, params: Record<string, number | string>, state = 'complete') => ({
    number,
    value,
    params,
    state,
  });
  const trials = [
    t(0, 0.99, { N: 5, F: 50, lr: 0.01, act: 'tanh' }),
    t(1, 0.98, { N: 5, F: 20, lr: 0.001, act: 'relu' }),
    t(2, 0.97, { N: 5, F: 15, lr: 0.002, act: 'relu' }),
    t(3, 0.5, { N: 5, F: 5, lr: 0.1, act: 'tanh' }),
    t(4, 0.999, { N: 5, F: 5, lr: 0.1, act: 'tanh' }, 'pruned'),
    t(5, 0.9, { N: 2, F: 10, lr: 0.003, act: 'relu' }),
    t(6, 0.8, { N: 2, F: 13, lr: 0.004, act: 'relu' }),
  ];
  const [all] = robustSetting(trials, { topK: 3, direction: 'maximize', space: {} });
  assert.deepEqual(all.top, [0, 1, 2]);
  assert.deepEqual(all.setting, { N: 5, F: 20, lr: 0.002, act: 'relu' });
  const groups = robustSetting(trials, { topK: 3, direction: 'maximize', groupBy: 'N', space: {} });
  assert.deepEqual(
    groups.map((g) => [g.group, g.setting.F]),
    [
      [5, 20],
      [2, 12], // median of 10 and 13 = 11.5, an integer parameter: rounded half up
    ],
  );
  const [low] = robustSetting(trials, { topK: 1, direction: 'minimize', space: {} });
  assert.deepEqual(low.top, [3]);
  assert.throws(() => robustSetting(trials, { topK: 0, direction: 'maximize', space: {} }), /topK/);
});

test('robust setting: a choice parameter takes its most frequent top-k value, never a median between values', () => {
  const space: Record<string, ParamDef> = {
    width: { type: 'choice', values: [32, 64] },
    p: { type: 'choice', values: [0.1, 0.5] },
    n: { type: 'int', min: 1, max: 9 },
    g: {
      type: 'repeat',
      count: 2,
      params: { c: { type: 'choice', values: [1, 2, 4] }, k: { type: 'int', min: 1, max: 9 } },
    },
  };
  const t = (number: number, value: number, params: Record<string, number>) => ({ number, value, params });
  const trials = [
    t(0, 0.9, { width: 64, p: 0.5, n: 2, 'g.0.c': 4, 'g.0.k': 2 }),
    t(1, 0.8, { width: 32, p: 0.1, n: 5, 'g.0.c': 1, 'g.0.k': 5 }),
    t(2, 0.7, { width: 32, p: 0.1, n: 9, 'g.0.c': 1, 'g.0.k': 9 }),
  ];
  // Top 2: one each, the tie goes to the better-ranked trial's value; ints keep the median (rounded half up).
  const [two] = robustSetting(trials, { topK: 2, direction: 'maximize', space });
  assert.deepEqual(two.setting, { width: 64, p: 0.5, n: 4, 'g.0.c': 4, 'g.0.k': 4 });
  const [three] = robustSetting(trials, { topK: 3, direction: 'maximize', space });
  assert.deepEqual(three.setting, { width: 32, p: 0.1, n: 5, 'g.0.c': 1, 'g.0.k': 5 });
});

test('retraining a setting at several learning rates and seeds picks the best mean', async () => {
  const r = await retrainSetting(
    { F: 20, lr: 1 },
    {
      lrs: [1e-4, 1e-3, 1e-2],
      seeds: [1, 2, 3],
      direction: 'maximize',
      train: (p, seed) => 1 - Math.abs(Math.log10(p.lr as number) + 3) / 10 + seed * 1e-3,
    },
  );
  assert.equal(r.runs.length, 9);
  assert.equal(r.bestLr, 1e-3);
  assert.ok(Math.abs(r.byLr[1].std - 1e-3) < 1e-12);
});

test('median stopping rule and ASHA stop the trials a broken pruner would keep, and keep the good ones', () => {
  const done: TrialCurve[] = [0.5, 0.6, 0.7, 0.8, 0.9].map((v, i) => ({
    number: i,
    state: 'complete',
    values: [v, v, v],
  }));
  const m = medianPruner({ minTrials: 5, warmupEpochs: 1 });
  assert.equal(m.shouldPrune({ number: 9, state: 'running', values: [0.2, 0.3] }, 2, done, 'maximize'), true);
  assert.equal(m.shouldPrune({ number: 9, state: 'running', values: [0.2, 0.75] }, 2, done, 'maximize'), false);
  assert.equal(m.shouldPrune({ number: 9, state: 'running', values: [0.2] }, 1, done, 'maximize'), false, 'warm-up');
  assert.equal(
    m.shouldPrune({ number: 9, state: 'running', values: [0.2, 0.3] }, 2, done.slice(0, 4), 'maximize'),
    false,
  );
  assert.equal(m.shouldPrune({ number: 9, state: 'running', values: [0.2, 0.3] }, 2, done, 'minimize'), false);
  const a = ashaPruner({ minEpochs: 1, reduction: 3 });
  const rungs: TrialCurve[] = [0.1, 0.2, 0.3, 0.4, 0.5].map((v, i) => ({ number: i, state: 'running', values: [v] }));
  // 6 values at rung 1 (epoch 1): the top ⌊6/3⌋ = 2 go on.
  assert.equal(a.shouldPrune({ number: 9, state: 'running', values: [0.45] }, 1, rungs, 'maximize'), false);
  assert.equal(a.shouldPrune({ number: 9, state: 'running', values: [0.35] }, 1, rungs, 'maximize'), true);
  assert.equal(
    a.shouldPrune({ number: 9, state: 'running', values: [0.35, 0.1] }, 2, rungs, 'maximize'),
    false,
    'no rung',
  );
  assert.equal(a.shouldPrune({ number: 9, state: 'running', values: [0.15] }, 1, rungs, 'minimize'), false);
});

test('templates: $param, defaults, $repeat blocks with the previous block and the last block', () => {
  const p = { N: 2, 'b.0.F': 20, 'b.0.K': 10, 'b.1.F': 15, 'b.1.K': 7, lr: 0.01 };
  const t = {
    lr: { $param: 'lr' },
    wd: { $param: 'wd', default: 0 },
    layers: [
      {
        $repeat: 'b',
        each: [
          {
            type: 'conv1d',
            in: { $param: 'F', block: 'prev', else: 1 },
            out: { $param: 'F' },
            kernel: { $param: 'K' },
          },
          { type: 'relu' },
        ],
      },
      { type: 'linear', in: { $param: 'b.last.F' }, out: 1 },
    ],
  };
  assert.deepEqual(fillTemplate(t, p), {
    lr: 0.01,
    wd: 0,
    layers: [
      { type: 'conv1d', in: 1, out: 20, kernel: 10 },
      { type: 'relu' },
      { type: 'conv1d', in: 20, out: 15, kernel: 7 },
      { type: 'relu' },
      { type: 'linear', in: 15, out: 1 },
    ],
  });
  assert.throws(() => fillTemplate({ x: { $param: 'nope' } }, p), /names no drawn parameter/);
});

const tinyDef: StudyDef = {
  study: 'core',
  objective: { model: 'mlp', epochs: 2, batchSize: 32, lr: { $param: 'lr' }, limit: 200, metric: 'valAccuracy' },
  params: { width: { type: 'int', min: 8, max: 32 }, lr: { type: 'loguniform', min: 1e-3, max: 1e-2 } },
};

test('objective: trains the filled spec, reports every epoch, keeps the best epoch, stops when told', async () => {
  const seen: number[] = [];
  const r = await runObjective(
    tinyDef.objective,
    { width: 16, lr: 3e-3 },
    {
      dataDir: SUBSET_DIR,
      report: async (e, v) => (seen.push(v), 'continue'),
    },
  );
  assert.equal(seen.length, 2);
  assert.equal(r.value, Math.max(...seen));
  assert.equal(r.spec.layers[0].out, 16);
  const again = await runObjective(tinyDef.objective, { width: 16, lr: 3e-3 }, { dataDir: SUBSET_DIR });
  assert.deepEqual(again.values, seen, 'the same trial trains to the same numbers (seeded)');
  const stopped = await runObjective(
    tinyDef.objective,
    { width: 16, lr: 3e-3 },
    {
      dataDir: SUBSET_DIR,
      report: async () => 'prune',
    },
  );
  assert.equal(stopped.epochsRun, 1);
  assert.equal(stopped.pruned, true);
  // A draw whose filled spec does not fit (a linear layer's input against the data) is refused with why.
  const spec = {
    format: 'frugal-model',
    version: 1,
    input: [784],
    layers: [{ type: 'linear', in: { $param: 'w' }, out: 10 }],
  };
  const check = objectiveCheck({ ...tinyDef.objective, lr: 0.01, model: spec as unknown as string });
  assert.equal(check({ w: 784 }), null);
  assert.ok(check({ w: 5 }), 'a linear layer of 5 inputs after 784 features is refused');
});

test('study: trials run once each over a store, pruned and failed trials recorded with reasons', async () => {
  const storage = openSqliteStorage(':memory:');
  const def: StudyDef = { ...tinyDef, params: { x: { type: 'int', min: 0, max: 99 } } };
  const study = await Study.create(storage, def);
  assert.equal(await study.enqueue(12), 12);
  assert.equal(await study.enqueue(12), 12, 'enqueue is idempotent');
  const ran = await study.work(
    async (t, ctx) => {
      const x = t.params.x as number;
      if (x % 7 === 0) throw new Error(`x = ${x} is a multiple of 7`);
      for (let e = 1; e <= 3; e++) if ((await ctx.report(e, x / 100)) === 'prune') return { value: x / 100 };
      return { value: x / 100 };
    },
    { worker: 'w', pruner: medianPruner({ minTrials: 3 }) },
  );
  assert.equal(ran.ran, 12);
  const ts = await study.trials();
  assert.equal(new Set(ts.map((t) => t.number)).size, 12);
  for (const t of ts) {
    const x = t.params.x as number;
    if (x % 7 === 0) {
      assert.equal(t.state, 'failed');
      assert.match(String(t.reason), /multiple of 7/);
    } else assert.ok(t.state === 'complete' || t.state === 'pruned');
    assert.equal(t.attempts, 1);
  }
  assert.ok(
    ts.some((t) => t.state === 'pruned'),
    'the median rule stopped a trial below the median',
  );
  for (const t of ts.filter((x) => x.state === 'pruned')) assert.ok(t.values.length < 3);
  await storage.close();
});

test('a loss metric with no direction: the study minimizes, as its trials do; ASHA prunes that way', async () => {
  const storage = openSqliteStorage(':memory:');
  const def: StudyDef = {
    study: 'loss',
    objective: { ...tinyDef.objective, lr: 1e-3, metric: 'valLoss' },
    params: { x: { type: 'int', min: 0, max: 99 } },
  };
  // A row written before loss metrics defaulted to minimize says maximize: the study still minimizes.
  await storage.createStudy(def, 'maximize');
  assert.equal((await Study.open(storage, 'loss')).direction, 'minimize');
  const study = await Study.create(storage, def);
  assert.equal(study.direction, 'minimize');
  assert.equal(trialSettings(def.objective, {}).direction, 'minimize');
  await study.enqueue(27);
  // Loss x/100 at every epoch; ASHA at rungs 1, 3, 9 keeps the lowest third of the trials that reached a rung.
  await study.work(
    async (t, ctx) => {
      const x = t.params.x as number;
      for (let e = 1; e <= 9; e++) if ((await ctx.report(e, x / 100)) === 'prune') return { value: x / 100 };
      return { value: x / 100 };
    },
    { worker: 'w', pruner: ashaPruner() },
  );
  const ts = await study.trials();
  const lowest = ts.reduce((a, t) => ((t.params.x as number) < (a.params.x as number) ? t : a));
  assert.equal(bestTrial(ts, study.direction)?.number, lowest.number, 'the best trial is the lowest loss');
  assert.equal(lowest.state, 'complete', 'no trial is ever ahead of the lowest loss');
  assert.ok(
    ts.some((t) => t.state === 'pruned'),
    'ASHA stopped trials',
  );
  await storage.close();
});

test("objective: frugal train's schedule, L1 and importance samplers, on a --dataset kind (csv:FILE)", async () => {
  // Two noisy Gaussian blobs in 4 features, 300 rows: a CSV as `frugal train --dataset csv:FILE` reads it.
  const rng = new Rng(3);
  const rows = ['label,a,b,c,d'];
  for (let i = 0; i < 300; i++) {
    const y = i % 2;
    rows.push(`${y},` + [0, 1, 2, 3].map(() => (y * 1.5 + rng.normal()).toFixed(4)).join(','));
  }
  const file = join(mkdtempSync(join(tmpdir(), 'frugal-obj-')), 'blobs.csv');
  writeFileSync(file, rows.join('\n'));
  const base = { model: 'mlp', dataset: `csv:${file}`, epochs: 4, batchSize: 16, lr: 0.02, metric: 'valAccuracy' };
  const run = (extra: Record<string, unknown>) => runObjective({ ...base, ...extra }, { width: 16 });
  const plain = await run({});
  assert.ok(plain.value > 0.8, `the blobs are learned: ${plain.value}`);
  assert.equal(plain.spec.input[0], 4);
  const l1 = await run({ l1: 0.2 });
  const norm = (r: typeof plain) =>
    r.model.parameters().reduce((a, p) => a + [...p.data].reduce((b, v) => b + Math.abs(v), 0), 0);
  assert.ok(norm(l1) < 0.9 * norm(plain), `L1 shrinks the weights: ${norm(l1)} vs ${norm(plain)}`);
  for (const extra of [{ schedule: 'cosine' }, { sampler: 'ras', samplerLambda: 0.3 }, { sampler: 'kf' }]) {
    const r = await run(extra);
    assert.notDeepEqual(r.values, plain.values, `${JSON.stringify(extra)} changes training`);
    assert.ok(r.value > 0.7, `${JSON.stringify(extra)} still learns: ${r.value}`);
  }
  assert.throws(() => trialSettings({ ...base, sampler: 'rass' }, {}), /objective\.sampler must be one of .*ras-kl/);
  assert.throws(() => trialSettings({ ...base, schedule: 'exp' }, {}), /objective\.schedule must be none, cosine/);
  assert.throws(() => trialSettings({ ...base, dataset: 'csv:/nope.csv' }, {}), /nope\.csv/);
  // As the objective's problem: the draw check stops the search at once (not 1,000 refused draws).
  assert.throws(() => objectiveCheck({ ...base, dataset: 'csv:/nope.csv' })({ width: 16 }), /objective\.dataset csv:/);
  assert.throws(() => trialSettings({ ...base, dataset: 'mnist' }, {}), /not known; known: .*csv:FILE.*digits/);
});
