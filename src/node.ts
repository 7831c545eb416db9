// Node.js extras: files, datasets on disk, model files, checkpoints. Re-exports the browser-safe API.
import { existsSync, readFileSync } from 'node:fs';
import type { CheckpointStore } from './train/fit.js';
import { writeFileAtomic } from './io/model-file.js';

export * from './index.js';
export {
  locateFashionMnist,
  loadFashionMnist,
  readIdxFile,
  loadFashionMnistTest,
  loadIdxPair,
  FASHION_MNIST_CLASSES,
  SYSTEM_DIR,
  SUBSET_DIR,
  type DataSource,
} from './data/fashion-mnist.js';
export {
  resolveDataset,
  registerDataset,
  datasetKinds,
  DatasetError,
  HOLDOUT,
  DIGITS_FILE,
  type DatasetOptions,
  type ResolvedDataset,
} from './data/sources.js';
export { ecgSyntheticData, ecgSplitData, ECG_CLASS_NAMES } from './data/ecg-source.js';
export { parseCsvDataset, CsvError, type CsvOptions } from './data/csv.js';
export { loadImageFolder, FolderError } from './data/folder.js';
export {
  readImageFile,
  decodeImage,
  imageKind,
  imageToSample,
  resizeArea,
  hasColour,
  ImageError,
  MAX_IMAGE_PIXELS,
  type RgbaImage,
} from './data/image-file.js';
export { saveModel, loadModel, writeFileAtomic } from './io/model-file.js';

/** A checkpoint kept in one file, replaced atomically after every epoch. */
export function fileCheckpoint(path: string): CheckpointStore {
  return {
    save: (bytes) => writeFileAtomic(path, bytes),
    load: () => (existsSync(path) ? readFileSync(path) : null),
  };
}
export {
  renderChart,
  paretoFront,
  paretoSpec,
  linesSpec,
  barsSpec,
  heatmapSpec,
  lineChart,
  lineChartSpec,
  panelsSpec,
  type ChartSpec,
  type LineChartOptions,
  type Series,
} from './report/vega.js';
export {
  escapeHtml,
  htmlPage,
  chartProblems,
  type ReportPage,
  type ReportSection,
  type ReportChart,
  type ReportTable,
} from './report/html.js';
export { compareHtml, compareCharts, type CompareResult, type CompareVariant } from './report/compare-report.js';
export { openSqlite, BUSY_TIMEOUT_MS, type Db, type Schema } from './store/sqlite.js';
export {
  openRunStore,
  recordRun,
  listRuns,
  getRun,
  diffRuns,
  RUNS_SCHEMA,
  type RunRecord,
  type StoredRun,
} from './store/runs.js';
export { trainHtml, type TrainReportInput } from './report/train-report.js';
export {
  searchHtml,
  paramSpec,
  trialsSpec,
  type ParamScale,
  type SearchReportInput,
  type SearchReportTrial,
} from './report/search-report.js';
export {
  openSearchStorage,
  openSqliteStorage,
  openPgStorage,
  runSearchWorker,
  forkSearchWorkers,
  workerEnv,
  defaultModelDir,
  isPgUrl,
  redactUrl,
  SqliteStorage,
  PgStorage,
  type SearchWorkerOptions,
} from './search/node.js';
