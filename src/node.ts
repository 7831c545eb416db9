// Node.js extras: files, datasets on disk, model files, checkpoints. Re-exports the browser-safe API.
import { existsSync, readFileSync } from 'node:fs';
import type { CheckpointStore } from './train/fit.js';
import { writeFileAtomic } from './io/model-file.js';

export * from './index.js';
export {
  locateFashionMnist,
  loadFashionMnist,
  readIdxFile,
  SYSTEM_DIR,
  SUBSET_DIR,
  type DataSource,
} from './data/fashion-mnist.js';
export { saveModel, loadModel, writeFileAtomic } from './io/model-file.js';

/** A checkpoint kept in one file, replaced atomically after every epoch. */
export function fileCheckpoint(path: string): CheckpointStore {
  return {
    save: (bytes) => writeFileAtomic(path, bytes),
    load: () => (existsSync(path) ? readFileSync(path) : null),
  };
}
export {
  openSearchStorage,
  openSqliteStorage,
  openPgStorage,
  runSearchWorker,
  defaultModelDir,
  isPgUrl,
  redactUrl,
  SqliteStorage,
  PgStorage,
  type SearchWorkerOptions,
} from './search/node.js';
