// The tuner's Node part: opening a storage by path or URL, Fashion-MNIST as a search dataset, and the
// worker that trains trials and saves their models.
import { fork, type ChildProcess } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, resolve } from 'node:path';
import { loadFashionMnist } from '../data/fashion-mnist.js';
import { getThreads } from '../backend/index.js';
import { saveModel } from '../io/model-file.js';
import { ecgSplitData, ecgSyntheticData } from '../data/ecg-source.js';
import { ECG_HZ } from '../techniques/ecg/rhythms.js';
import { ecgModelSpec } from '../techniques/ecg/model.js';
import { ecgParamsOf } from '../techniques/ecg/space.js';
import {
  registerSearchDataset,
  registerSearchDatasetFallback,
  registerSearchModel,
  runObjective,
  type SearchDataset,
} from './objective.js';
import { SearchSpaceError } from './space.js';
import { datasetKinds, resolveDataset } from '../data/sources.js';
import { openSqliteStorage } from './store-sqlite.js';
import { openPgStorage } from './store-pg.js';
import { Study, type SearchStorage, type TrialOutcome, type TrialRecord } from './study.js';
import type { Pruner } from './pruners.js';

registerSearchDataset('fashion-mnist', {
  input: [1, 28, 28],
  classes: 10,
  load: ({ dataDir }) => {
    const d = loadFashionMnist(dataDir);
    return { train: d.train, source: d.source };
  },
});

// Without options: the training strips of `--dataset ecg-synthetic` (validation split off by valSplit). With
// `"data": {"train": [Sh, NSh], "validation": [Sh, NSh], "seed": S}`: the generated splits of the reproduction.
registerSearchDataset('ecg-synthetic', {
  input: [1, Math.round(5 * ECG_HZ)],
  classes: 2,
  load: ({ options }) =>
    options
      ? { ...ecgSplitData(options as Parameters<typeof ecgSplitData>[0]), source: 'generated' }
      : { train: ecgSyntheticData().train, source: 'generated' },
});
// Any other `frugal train --dataset` kind (digits, idx:DIR, csv:FILE, folder:DIR): read once with the kind's
// default options; only its training set is used (a search never looks at the test set).
const resolved = new Map<string, SearchDataset>();
registerSearchDatasetFallback({
  kinds: () => datasetKinds().filter((k) => k !== 'fashion-mnist'),
  find: (name) => {
    const kind = name.split(':')[0];
    if (kind === 'fashion-mnist' || !datasetKinds().some((k) => k.split(':')[0] === kind)) return undefined;
    let d = resolved.get(name);
    if (!d) {
      let r;
      try {
        r = resolveDataset(name);
      } catch (e) {
        // Named as the objective's problem, so a draw check stops the search at once rather than counting 1,000
        // refused draws.
        throw new SearchSpaceError(`objective.dataset ${name}: ${(e as Error).message}`);
      }
      if (!r.train) throw new SearchSpaceError(`objective.dataset ${name}: it has no training set`);
      const train = r.train,
        dir = r.dir;
      d = { input: train.sampleShape, classes: train.classes, load: () => ({ train, source: dir }) };
      resolved.set(name, d);
    }
    return d;
  },
});
// `"model": "ecg"`: spec 09's block network of a draw { N, blocks.i.F, blocks.i.K } (ecgModelSpec).
registerSearchModel('ecg', (p) => ecgModelSpec(ecgParamsOf(p)));

/** Whether a --storage value names a PostgreSQL server rather than a SQLite file. */
export function isPgUrl(s: string): boolean {
  return /^postgres(ql)?:\/\//.test(s);
}

/**
 * The storage a `--storage` value names: `postgresql://…` (or `postgres://…`) a PostgreSQL server,
 * anything else a SQLite file (created unless `create` is false).
 */
export async function openSearchStorage(where: string, o: { create?: boolean } = {}): Promise<SearchStorage> {
  return isPgUrl(where) ? openPgStorage(where) : openSqliteStorage(where, { create: o.create });
}

/** Where a study's trial models go by default: beside a SQLite file, else under runs/search/STUDY. */
export function defaultModelDir(storage: string, study: string): string {
  return isPgUrl(storage) ? resolve('runs', 'search', study) : join(dirname(resolve(storage)), `${study}-models`);
}

export interface SearchWorkerOptions {
  storage: string;
  study: string;
  worker?: string;
  pruner?: Pruner;
  /** Directory of the trials' models (null: do not save them). */
  modelDir?: string | null;
  dataDir?: string;
  heartbeatTimeoutMs?: number;
  maxAttempts?: number;
  maxTrials?: number;
  onTrial?: (t: TrialRecord, o: TrialOutcome) => void;
}

/**
 * Run trials of an existing study until none is left: each trial trains its filled spec (runObjective),
 * reports every epoch (written at once when a pruner reads them, else with a heartbeat or the result; the pruner
 * may stop it), and saves its model (best epoch) to
 * `modelDir/trial-N.safetensors`. Refuses a study that does not exist.
 */
export async function runSearchWorker(o: SearchWorkerOptions): Promise<{ ran: number }> {
  const storage = await openSearchStorage(o.storage, { create: false });
  // SIGINT/SIGTERM: stop after the current epoch and give the running trial back to the queue, so a resumed
  // or another worker runs it without waiting for the heartbeat timeout.
  let stopping = false;
  const onSignal = () => void (stopping = true);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const study = await Study.open(storage, o.study);
    const modelDir = o.modelDir === undefined ? defaultModelDir(o.storage, o.study) : o.modelDir;
    return await study.work(
      async (t, ctx) => {
        const r = await runObjective(study.def.objective, t.params, { dataDir: o.dataDir, report: ctx.report });
        let modelPath: string | null = null;
        try {
          if (modelDir) {
            mkdirSync(modelDir, { recursive: true });
            modelPath = join(modelDir, `trial-${t.number}.safetensors`);
            saveModel(modelPath, r.model, r.spec, {
              study: o.study,
              trial: t.number,
              params: t.params,
              value: r.value,
              epoch: r.epoch,
              metric: r.settings.metric,
            });
          }
        } finally {
          r.model.dispose();
        }
        return { value: r.value, modelPath };
      },
      {
        worker: o.worker ?? `${process.pid}`,
        pruner: o.pruner,
        heartbeatTimeoutMs: o.heartbeatTimeoutMs,
        maxAttempts: o.maxAttempts,
        maxTrials: o.maxTrials,
        onTrial: o.onTrial,
        stop: () => stopping,
      },
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await storage.close();
  }
}

/**
 * The environment of a forked worker: this process's, with its thread count (a `--threads` given to `frugal search`
 * holds for its workers, which would otherwise each take every core).
 */
export function workerEnv(env: NodeJS.ProcessEnv, threads: number): NodeJS.ProcessEnv {
  return { ...env, FRUGAL_THREADS: String(threads) };
}

/**
 * Fork K local `frugal search worker` processes with the given worker flags (after `search worker`), and
 * resolve when every one has exited, with each failure as `worker PID exited CODE: last stderr line`.
 * SIGINT/SIGTERM of this process is passed on to the workers (each gives its running trial back).
 */
export async function forkSearchWorkers(flags: string[], k: number): Promise<{ errors: string[] }> {
  const main = fileURLToPath(new URL('../cli/main.js', import.meta.url));
  const kids: ChildProcess[] = [];
  const errors: string[] = [];
  const exits = Array.from({ length: k }, () => {
    const kid = fork(main, ['search', 'worker', ...flags], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      env: workerEnv(process.env, getThreads()),
    });
    kids.push(kid);
    let err = '';
    kid.stderr?.on('data', (d) => (err = (err + String(d)).slice(-2000)));
    return new Promise<void>((res) =>
      kid.on('exit', (code, sig) => {
        if (code !== 0) errors.push(`worker ${kid.pid} exited ${code ?? sig}: ${err.trim().split('\n').pop() ?? ''}`);
        res();
      }),
    );
  });
  const stop = () => kids.forEach((kid) => kid.kill('SIGTERM'));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  try {
    await Promise.all(exits);
  } finally {
    process.off('SIGINT', stop);
    process.off('SIGTERM', stop);
  }
  return { errors };
}

export { openSqliteStorage, SqliteStorage } from './store-sqlite.js';
export { openPgStorage, PgStorage, redactUrl } from './store-pg.js';
