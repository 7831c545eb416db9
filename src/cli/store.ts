// Recording CLI runs in the run store (src/store/runs.ts): --store PATH on train, compare and reproduce.
import { openRunStore, recordRun, type CompareResult } from '../node.js';
import { gitCommit } from '../reproduce/results.js';

/** The store a command writes to: --store PATH, else `dflt` (undefined: off), never with --no-store. */
export function storePath(values: Record<string, unknown>, dflt?: string): string | undefined {
  if (values['no-store']) return undefined;
  return (values.store as string | undefined) ?? dflt;
}

/** Record one run (command, commit, spec, config, metrics, curves) in one transaction; returns its id. */
export function storeRun(
  path: string,
  r: {
    command: string;
    name: string;
    argv: string[];
    spec?: unknown;
    config: Record<string, unknown>;
    metrics: Record<string, number | undefined>;
    curves?: { series: string; key: string; step: number; value: number | undefined }[];
  },
): number {
  const db = openRunStore(path);
  try {
    const metrics = Object.fromEntries(
      Object.entries(r.metrics).filter((e): e is [string, number] => typeof e[1] === 'number'),
    );
    const curves = (r.curves ?? []).filter((c): c is typeof c & { value: number } => typeof c.value === 'number');
    return recordRun(db, { ...r, commit: gitCommit().commit, metrics, curves });
  } finally {
    db.close();
  }
}

/** A comparison as a run: one metric per variant and measure, its training curves per variant. */
export function recordCompare(path: string, r: CompareResult, argv: string[], config: Record<string, unknown>) {
  const metrics: Record<string, number | undefined> = {};
  const curves: { series: string; key: string; step: number; value: number | undefined }[] = [];
  for (const v of r.variants) {
    if (v.status !== 'done') continue;
    Object.assign(metrics, {
      [`${v.name}.testAccuracy`]: v.testAccuracy,
      [`${v.name}.testBalancedAccuracy`]: v.testBalancedAccuracy,
      [`${v.name}.nonzeroParams`]: v.nonzeroParams,
      [`${v.name}.bytesOnDisk`]: v.bytesOnDisk,
      [`${v.name}.effectiveMacs`]: v.effectiveMacs,
      [`${v.name}.latencyMs1`]: v.latencyMs?.batch1,
      [`${v.name}.latencyMs64`]: v.latencyMs?.batch64,
    });
    for (const h of v.history ?? [])
      for (const key of ['loss', 'accuracy', 'valLoss', 'valAccuracy'] as const)
        curves.push({ series: v.name, key, step: h.epoch, value: h[key] });
  }
  const { spec, ...rest } = config;
  return storeRun(path, { command: 'compare', name: r.model, argv, spec, config: rest, metrics, curves });
}
