// frugal search retrain: spec 09's last step — a study's robust setting (each group's, e.g. each N) trained again
// with the study's objective at several learning rates and several seeds; the learning rate with the best mean wins.
import {
  objectiveMetric,
  openSearchStorage,
  retrainSetting,
  runObjective,
  trialSettings,
  type Params,
} from '../../node.js';
import { emit, note, num, parse, UsageError } from '../args.js';
import { robustGroups, studyIn } from './search-show.js';
import { DEFAULT_STORAGE, usage } from './search.js';

/** A comma-separated list of positive numbers (--lrs, --seeds). */
function list(values: Record<string, unknown>, flag: string, int: boolean): number[] | undefined {
  const raw = values[flag];
  if (raw === undefined) return undefined;
  const parts = String(raw).split(',');
  const v = parts.map((s) => Number(s.trim()));
  const ok = (x: number) => Number.isFinite(x) && (int ? Number.isInteger(x) && x >= 0 : x > 0);
  if (parts.some((s) => !s.trim()) || !v.every(ok))
    throw new UsageError(`--${flag} takes ${int ? 'integers ≥ 0' : 'numbers > 0'} separated by commas, got ${raw}`);
  return v;
}

export async function retrain(argv: string[]): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      storage: { type: 'string' },
      'top-k': { type: 'string' },
      'group-by': { type: 'string' },
      lrs: { type: 'string' },
      seeds: { type: 'string' },
      'data-dir': { type: 'string' },
    },
    { min: 0 },
  );
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  if (positionals.length > 1) throw new UsageError(`unexpected argument ${positionals[1]}`);
  const seeds = list(values, 'seeds', true) ?? [1, 2, 3],
    lrList = list(values, 'lrs', false);
  const where = (values.storage as string | undefined) ?? DEFAULT_STORAGE;
  const storage = await openSearchStorage(where, { create: false });
  let study, trials;
  try {
    study = await studyIn(storage, positionals[0], where);
    trials = await study.trials();
  } finally {
    await storage.close();
  }
  const def = study.def;
  const topK = num(values, 'top-k', def.robust?.topK ?? 5, { int: true, min: 1 });
  const groupBy = (values['group-by'] as string | undefined) ?? def.robust?.groupBy;
  const groups = robustGroups(study.record, trials, { topK, groupBy });
  if (!groups.length)
    throw new Error(`study ${study.record.name} has no complete trial: nothing to retrain (run its trials first)`);
  const dataDir = values['data-dir'] as string | undefined;
  const out = [];
  for (const g of groups) {
    // Without --lrs: the setting's own learning rate (a parameter, else the objective's) ×0.1, ×1 and ×10.
    const own = trialSettings(def.objective, g.setting).lr;
    const lrs = lrList ?? [own / 10, own, own * 10];
    const train = async (p: Params, seed: number) => {
      const r = await runObjective({ ...def.objective, lr: p.lr }, p, { seed, dataDir });
      r.model.dispose();
      note(`retrain${g.group === undefined ? '' : ` ${groupBy}=${g.group}`} lr ${p.lr} seed ${seed}: ${r.value}`);
      return r.value;
    };
    const r = await retrainSetting(g.setting, { lrs, seeds, direction: study.direction, train });
    out.push({ group: g.group ?? null, setting: g.setting, ...r });
  }
  const human = out.map(
    (g) =>
      `${g.group === null ? 'robust setting' : `${groupBy}=${g.group}`}: ` +
      g.byLr.map((b) => `lr ${b.lr}: ${b.mean.toFixed(4)} ± ${b.std.toFixed(4)}`).join('; ') +
      ` (over seeds ${seeds.join(', ')}); best lr ${g.bestLr}`,
  );
  const json = {
    command: 'search retrain',
    study: study.record.name,
    metric: objectiveMetric(def.objective),
    direction: study.direction,
    seeds,
    groupBy: groupBy ?? null,
    groups: out,
  };
  emit(!!values.json, json, human.join('\n'));
  return 0;
}
