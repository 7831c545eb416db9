// Choosing a setting from finished trials: the robust median-of-top-k rule of spec 09 (Krasteva et al. 2020),
// and the retraining of that setting at several learning rates and seeds.
import { paramType, type ParamDef, type ParamValue, type Params } from './space.js';

/** What robust selection reads of a trial. */
export interface ScoredTrial {
  number: number;
  params: Params;
  /** The trial's metric; trials without one (failed, running) are ignored. */
  value?: number | null;
  state?: string;
}

export type Direction = 'maximize' | 'minimize';

/** One group's robust setting. */
export interface RobustGroup {
  /** The value of `groupBy` shared by the group (undefined without groupBy). */
  group?: ParamValue;
  /** The trial numbers of the top k, best first. */
  top: number[];
  /** Their metrics, best first. */
  values: number[];
  /** Per hyperparameter: the median of the top k (int, float, loguniform; ints stay ints), else the most frequent. */
  setting: Params;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * The robust setting of spec 09: rank the complete trials by metric, take the top k (per group when
 * `groupBy` names a parameter, e.g. the block count N), and set each hyperparameter to the median of
 * its top-k values: θ̂_j = median{θ_j^(1..k)}. An int parameter's median is rounded half up. A `choice`
 * parameter takes its most frequent top-k value (ties: the better-ranked trial's), whatever its values' type:
 * the median of 32 and 64 would be 48, which is not one of its values. The type is read from `space`; a name
 * not in it goes by its values (all numbers: the median, rounded when all are integers; else most frequent).
 * A hyperparameter present in only some of the top k (a conditional one) is set from those that have it.
 *
 * ```ts
 * const [g] = robustSetting(trials, { topK: 5, direction: 'maximize', space: def.params });
 * console.log(g.setting); // { lr: 0.0012, width: 64 }
 * ```
 */
export function robustSetting(
  trials: ScoredTrial[],
  o: { topK: number; direction: Direction; groupBy?: string; space: Record<string, ParamDef> },
): RobustGroup[] {
  if (!(Number.isInteger(o.topK) && o.topK >= 1)) throw new Error(`topK must be an integer ≥ 1, got ${o.topK}`);
  const done = trials.filter(
    (t) => typeof t.value === 'number' && Number.isFinite(t.value) && (t.state ?? 'complete') === 'complete',
  );
  const sign = o.direction === 'maximize' ? -1 : 1;
  done.sort((a, b) => sign * ((a.value as number) - (b.value as number)) || a.number - b.number);
  const groups = new Map<ParamValue | undefined, ScoredTrial[]>();
  for (const t of done) {
    const g = o.groupBy === undefined ? undefined : t.params[o.groupBy];
    if (o.groupBy !== undefined && g === undefined) continue;
    groups.set(g, [...(groups.get(g) ?? []), t]);
  }
  const out: RobustGroup[] = [];
  for (const [group, ts] of groups) {
    const top = ts.slice(0, o.topK);
    const names = [...new Set(top.flatMap((t) => Object.keys(t.params)))];
    const setting: Params = {};
    for (const n of names) {
      const vals = top.map((t) => t.params[n]).filter((v) => v !== undefined);
      const type = paramType(o.space, n);
      if (type === undefined ? vals.every((v) => typeof v === 'number') : type !== 'choice') {
        const m = median(vals as number[]);
        const int = type === undefined ? (vals as number[]).every(Number.isInteger) : type === 'int';
        setting[n] = int ? Math.floor(m + 0.5) : m;
      } else {
        const count = new Map<ParamValue, number>();
        for (const v of vals) count.set(v, (count.get(v) ?? 0) + 1);
        let best = vals[0];
        for (const v of vals) if ((count.get(v) ?? 0) > (count.get(best) ?? 0)) best = v;
        setting[n] = best;
      }
    }
    out.push({ group, top: top.map((t) => t.number), values: top.map((t) => t.value as number), setting });
  }
  // Groups in the order of their best trial.
  return out.sort((a, b) => sign * (a.values[0] - b.values[0]));
}

/** One retraining of the robust setting. */
export interface RetrainRun {
  lr: number;
  seed: number;
  value: number;
}

/** The retraining grid and its choice: the learning rate with the best mean over seeds. */
export interface RetrainResult {
  runs: RetrainRun[];
  byLr: { lr: number; mean: number; std: number }[];
  bestLr: number;
}

/**
 * Retrain a setting at each learning rate × seed (spec 09: LR ∈ [1e-5, 1e-2]) and pick the learning rate
 * whose mean metric over the seeds is best; `std` is the seed-to-seed sample standard deviation.
 * `train(params, seed)` is the objective (for example runObjective's value); the setting's own `lrParam`
 * entry is replaced by each learning rate.
 */
export async function retrainSetting(
  setting: Params,
  o: {
    lrs: number[];
    seeds: number[];
    direction: Direction;
    lrParam?: string;
    train: (params: Params, seed: number) => Promise<number> | number;
  },
): Promise<RetrainResult> {
  if (o.lrs.length === 0 || o.seeds.length === 0) throw new Error('retrainSetting needs at least one lr and one seed');
  const runs: RetrainRun[] = [];
  for (const lr of o.lrs)
    for (const seed of o.seeds)
      runs.push({ lr, seed, value: await o.train({ ...setting, [o.lrParam ?? 'lr']: lr }, seed) });
  const byLr = o.lrs.map((lr) => {
    const v = runs.filter((r) => r.lr === lr).map((r) => r.value);
    const mean = v.reduce((a, b) => a + b, 0) / v.length;
    const std = v.length > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (v.length - 1)) : 0;
    return { lr, mean, std };
  });
  const sign = o.direction === 'maximize' ? 1 : -1;
  const bestLr = byLr.reduce((a, b) => (sign * (b.mean - a.mean) > 0 ? b : a)).lr;
  return { runs, byLr, bestLr };
}
