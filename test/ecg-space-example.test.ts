// Issue 25 / spec 09: examples/ecg-space.json runs the reproduction's search through the generic `frugal search`:
// the same space, the same objective settings, a model template that fills to ecgModelSpec, the same draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import {
  ECG_SPACE,
  drawTrials,
  ecgDrawCheck,
  ecgModelSpec,
  ecgParamsOf,
  fillTemplate,
  objectiveCheck,
  trialSettings,
  validateStudyDef,
} from '../src/node.js';
import { ecgConfig } from '../src/reproduce/ecg-search.js';
import { ecgStudyDef } from '../src/reproduce/ecg-search-workers.js';

const path = new URL('../../examples/ecg-space.json', import.meta.url);

test('examples/ecg-space.json: the ecg-search study of a full run, with the model as a spec template', () => {
  const def = validateStudyDef(JSON.parse(readFileSync(path, 'utf8')));
  const repro = ecgStudyDef(ecgConfig(false, [1]), 1);
  assert.deepEqual(def.params, ECG_SPACE);
  assert.deepEqual(def.params, repro.params);
  assert.deepEqual(def.robust, repro.robust);
  assert.equal(def.seed ?? 1, repro.seed);
  assert.deepEqual({ ...def.objective, model: 'ecg' }, repro.objective);
  const check = objectiveCheck(def.objective);
  const a = drawTrials(def, 40, check),
    b = drawTrials(repro, 40, ecgDrawCheck());
  // The generic check (build the filled spec) refuses exactly the draws spec 09's length rule refuses.
  assert.deepEqual(
    a.trials.map((t) => t.params),
    b.trials.map((t) => t.params),
  );
  assert.ok(
    a.trials.some((t) => Object.keys(t.rejections).length > 0),
    'some draws were refused',
  );
  for (const t of a.trials.slice(0, 10)) {
    const s = trialSettings(def.objective, t.params);
    assert.deepEqual(s.spec, ecgModelSpec(ecgParamsOf(t.params)));
    assert.deepEqual(fillTemplate(def.objective.model, t.params), s.spec);
    assert.equal(s.metric, 'valBalancedAccuracy');
    assert.equal(s.sampler, 'balanced');
  }
  const best = {
    N: 5,
    ...Object.fromEntries(
      [20, 15, 15, 10, 5].flatMap((f, i) => [
        [`blocks.${i}.F`, f],
        [`blocks.${i}.K`, 10],
      ]),
    ),
  };
  assert.equal(check(best), null);
  assert.match(
    String(
      check({
        N: 3,
        'blocks.0.F': 5,
        'blocks.0.K': 100,
        'blocks.1.F': 5,
        'blocks.1.K': 100,
        'blocks.2.F': 5,
        'blocks.2.K': 100,
      }),
    ),
    /does not fit/,
  );
  assert.throws(
    () => trialSettings({ ...def.objective, sampler: 'heavy' }, best),
    /objective\.sampler must be one of balanced, uniform, obs, kf, as, ras, ras-kl, ras-floor, got "heavy"/,
  );
  assert.throws(
    () => trialSettings({ ...def.objective, patience: -1 }, best),
    /objective\.patience must be an integer ≥ 0/,
  );
});
