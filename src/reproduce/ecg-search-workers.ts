// `frugal reproduce ecg-search --workers K`: the search phase as a src/search study in a SQLite file of --out, run
// by K local `frugal search worker` processes (as `frugal search --workers K` runs them); the finished trials are
// copied into the reproduction's state as they complete, so --resume continues from either record.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  Study,
  drawTrials,
  ecgDrawCheck,
  ecgParamCount,
  ecgParamsOf,
  type StudyDef,
  type TrialRecord,
} from '../index.js';
import { forkSearchWorkers, openSearchStorage } from '../node.js';
import type { ReproContext } from './report.js';
import type { EcgConfig } from './ecg-search.js';

/** The study of the search phase: spec 09's space, and an objective that trains each draw as trainSetting does. */
export function ecgStudyDef(c: EcgConfig, seed: number): StudyDef {
  return {
    study: `ecg-search${c.quick ? '-quick' : ''}`,
    seed: c.drawSeed,
    params: c.space,
    robust: { topK: c.k, groupBy: 'N' },
    objective: {
      model: 'ecg',
      dataset: 'ecg-synthetic',
      data: { train: c.split.train, validation: c.split.validation, seed: c.dataSeed },
      epochs: c.epochs,
      patience: c.patience,
      batchSize: c.batchSize,
      optimizer: 'adam',
      lr: c.searchLr,
      seed,
      sampler: 'balanced',
      metric: 'valBalancedAccuracy',
      direction: 'maximize',
      select: 'best',
    },
  };
}

/** Where the study lives: beside the state file in --out. */
export const ecgStudyPath = (outDir: string, quick: boolean) =>
  join(outDir, `reproduce-ecg-search${quick ? '-quick' : ''}.search.db`);

/** A finished study trial as the state's `trial:N` record (the fields trainSetting's runs have). */
function record(t: TrialRecord) {
  const p = ecgParamsOf(t.params);
  const bac = t.value as number;
  return {
    id: t.number,
    ...p,
    bac,
    epoch: t.values.indexOf(bac) + 1,
    epochs: t.values.length,
    seconds: t.seconds ?? NaN,
    rejections: t.rejections,
    paramCount: ecgParamCount(p),
  };
}

/**
 * Run the trials missing from `runs` through K worker processes and copy each finished one into `runs` (saved).
 * Without --resume an old study file is removed first (the state starts empty too); with it, failed trials run
 * again. Throws, naming the first failure, when a trial failed or is left unfinished.
 */
export async function searchWithWorkers(
  c: EcgConfig,
  seed: number,
  workers: number,
  ctx: Pick<ReproContext, 'outDir' | 'resume' | 'log'>,
  runs: Record<string, unknown>,
  save: () => void,
): Promise<void> {
  const have = new Set(Array.from({ length: c.trials }, (_, i) => i).filter((i) => runs[`trial:${i}`]));
  if (have.size === c.trials) return;
  const db = ecgStudyPath(ctx.outDir, c.quick);
  if (!ctx.resume) for (const f of [db, `${db}-wal`, `${db}-shm`]) if (existsSync(f)) rmSync(f);
  const def = ecgStudyDef(c, seed);
  const storage = await openSearchStorage(db);
  try {
    const study = await Study.create(storage, def);
    // A resumed run retries the trials that failed (their cause, memory or a killed machine, is dealt with first).
    const retried = ctx.resume ? await storage.retryFailed(study.record.id) : 0;
    if (retried) ctx.log(`ecg-search: ${retried} failed trial(s) back in the queue`);
    const inStudy = new Set((await study.trials()).map((t) => t.number));
    // Trials the state already has are not queued again (an earlier run with fewer workers finished them).
    const { trials } = drawTrials(def, c.trials, ecgDrawCheck(), new Set([...have, ...inStudy]));
    await storage.enqueue(study.record.id, trials);
    const copy = async () => {
      for (const t of await study.trials()) {
        const k = `trial:${t.number}`;
        if (t.number >= c.trials || runs[k] || t.state !== 'complete' || t.value === null) continue;
        runs[k] = record(t);
        save();
        ctx.log(
          `ecg-search: trial ${t.number + 1}/${c.trials} (worker ${t.worker}): validation BAC ` +
            `${(100 * t.value).toFixed(2)}%`,
        );
      }
    };
    // Trials the study finished before (a resumed run) go to the state first; trials left running by a killed
    // run have no live worker (this run owns the study): back to the queue, not waiting for the heartbeat timeout.
    await copy();
    const open = (await study.trials()).filter((t) => t.number < c.trials && !runs[`trial:${t.number}`]);
    for (const t of open) if (t.state === 'running') await storage.release(t.id);
    let errors: string[] = [];
    if (open.some((t) => t.state === 'queued' || t.state === 'running')) {
      ctx.log(`ecg-search: ${open.length} trial(s) to ${workers} workers, study ${def.study} in ${db}`);
      let busy = Promise.resolve();
      const tick = setInterval(() => void (busy = busy.then(copy)), 1000);
      ({ errors } = await forkSearchWorkers(['--storage', db, '--study', def.study, '--models', 'none'], workers));
      clearInterval(tick);
      await busy;
      await copy();
    }
    const bad = (await study.trials()).filter((t) => t.number < c.trials && !runs[`trial:${t.number}`]);
    if (bad.length)
      throw new Error(
        `ecg-search: ${bad.length} search trial(s) did not complete (${bad[0].reason ?? errors[0] ?? bad[0].state}); ` +
          `the study is in ${db}: continue with --resume`,
      );
  } finally {
    await storage.close();
  }
}
