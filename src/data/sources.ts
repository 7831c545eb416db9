// Named datasets: `--dataset NAME` resolves here. Each kind registers one resolver; `fashion-mnist`,
// `idx:DIR`, `csv:FILE`, `folder:DIR` and `digits` (scikit-learn's 8×8 digits, when Debian ships it) are
// built in, and registerDataset adds more without editing the commands.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { trainValSplit, type ImageDataset } from './dataset.js';
import { loadFashionMnist, loadFashionMnistTest, loadIdxPair, type DataSource } from './fashion-mnist.js';
import { parseCsvDataset } from './csv.js';
import { hasTrainTest, loadImageFolder } from './folder.js';
import { fileReason } from '../io/fs-reason.js';

/** What a dataset resolver is told. */
export interface DatasetOptions {
  /** Fashion-MNIST's --data-dir (other kinds name their place in the dataset name). */
  dataDir?: string;
  /** Only the test set is needed (eval): a directory may then hold only the test files. */
  testOnly?: boolean;
  /** Class names to number the labels by (a model's), so a test set lacking a class keeps the numbering. */
  classNames?: string[];
  /** csv: the header row and the label column (see CsvOptions). */
  csvHeader?: 'auto' | 'yes' | 'no';
  labelColumn?: number;
  /** digits: where scikit-learn's digits.csv.gz is (default: Debian python3-sklearn's copy). */
  digitsFile?: string;
}

/** A resolved dataset: the train set (absent with testOnly), the test set, and where they came from. */
export interface ResolvedDataset {
  /** The name as given (`csv:data.csv`), stored in the model file. */
  name: string;
  train?: ImageDataset;
  test: ImageDataset;
  classNames: string[];
  /** The directory or file read. */
  dir: string;
  source: DataSource | 'file' | 'generated';
  /**
   * What one raw stored value (a byte, a CSV number) is multiplied by to become a model input: 1/255 for
   * pixels, 1/16 for the digits' 0..16, 1 for CSV features. `frugal predict` scales raw inputs by it.
   */
  inputScale: number;
  /** How the test set was formed, for the run's note (e.g. "20% held out, seed 0"). */
  split: string;
  /** The options that read it again the same way (csv's header and label column), kept in the model file. */
  reread?: Pick<DatasetOptions, 'csvHeader' | 'labelColumn'>;
}

type Resolver = (arg: string, o: DatasetOptions) => Omit<ResolvedDataset, 'name'>;
const resolvers = new Map<string, { resolve: Resolver; usage: string }>();

/** Register a dataset kind: `kind` alone (`digits`) or a prefix used as `kind:ARG`. */
export function registerDataset(kind: string, resolve: Resolver, usage = kind): void {
  resolvers.set(kind, { resolve, usage });
}

/** The dataset names --dataset accepts, for help and errors. */
export function datasetKinds(): string[] {
  return [...resolvers.values()].map((r) => r.usage);
}

export class DatasetError extends Error {}

/** Resolve `--dataset NAME` (e.g. `fashion-mnist`, `csv:iris.csv`) into its train and test sets. */
export function resolveDataset(name: string, o: DatasetOptions = {}): ResolvedDataset {
  const colon = name.indexOf(':');
  const kind = colon < 0 ? name : name.slice(0, colon),
    arg = colon < 0 ? '' : name.slice(colon + 1);
  const r = resolvers.get(kind);
  if (!r) throw new DatasetError(`unknown dataset ${JSON.stringify(name)}; use one of ${datasetKinds().join(', ')}`);
  if (r.usage.includes(':') && !arg) throw new DatasetError(`--dataset ${kind}: needs a path, as in ${r.usage}`);
  return { name, ...r.resolve(arg, o) };
}

/** The fraction held out as the test set when a dataset comes as one set (fixed seed 0, so eval finds it again). */
export const HOLDOUT = 0.2;

/** Split one set into train and a seeded 20% test part (the same rows every time for the same data). */
function holdout(all: ImageDataset): { train: ImageDataset; test: ImageDataset; split: string } {
  const { train, val } = trainValSplit(all, HOLDOUT, 0);
  const names = all.classNames ? { classNames: all.classNames } : {};
  return { train: { ...train, ...names }, test: { ...val, ...names }, split: `${HOLDOUT * 100}% held out, seed 0` };
}

function isDir(p: string): boolean {
  try {
    return statSync(p).isDirectory();
  } catch {
    return false;
  }
}

registerDataset('fashion-mnist', (_arg, o) => {
  const FASHION = 1 / 255;
  if (o.testOnly) {
    const d = loadFashionMnistTest(o.dataDir);
    const classNames = d.test.classNames!;
    return { test: d.test, classNames, dir: d.dir, source: d.source, inputScale: FASHION, split: 'test files' };
  }
  const d = loadFashionMnist(o.dataDir);
  const classNames = d.train.classNames!;
  return {
    train: d.train,
    test: d.test,
    classNames,
    dir: d.dir,
    source: d.source,
    inputScale: 1 / 255,
    split: 'test files',
  };
});

/** IDX pairs in a directory: `X-images...` with `X-labels...` (idx3/idx1, optionally .gz); t10k/test: the test pair. */
function idxPairs(dir: string): { train?: [string, string]; test?: [string, string] } {
  const files = readdirSync(dir);
  const r: { train?: [string, string]; test?: [string, string] } = {};
  for (const f of files.filter((n) => n.includes('images')).sort()) {
    const base = f.replace(/\.gz$/, '').replace('images', 'labels').replace('idx3', 'idx1');
    const lab = [base, `${base}.gz`].find((n) => files.includes(n));
    if (!lab) continue;
    const which = /t10k|test/.test(f) ? 'test' : 'train';
    if (r[which]) throw new DatasetError(`idx:${dir} holds two ${which} pairs (${r[which]![0]} and ${f}); keep one`);
    r[which] = [join(dir, f), join(dir, lab)];
  }
  return r;
}

registerDataset(
  'idx',
  (dir, o) => {
    if (!isDir(dir)) throw new DatasetError(`idx:${dir} is not a directory`);
    const p = idxPairs(dir);
    const names = (ds: ImageDataset): string[] => {
      const file = join(dir, 'classes.txt');
      if (existsSync(file)) return readFileSync(file, 'utf8').split(/\r?\n/).filter(Boolean);
      return o.classNames ?? Array.from({ length: ds.classes }, (_, i) => String(i));
    };
    const base = { dir, source: 'flag' as const, inputScale: 1 / 255 };
    if (o.testOnly && p.test) {
      const test = loadIdxPair(...p.test, o.classNames?.length);
      return { ...base, test, classNames: names(test), split: 'test files' };
    }
    if (!p.train && !p.test)
      throw new DatasetError(
        `idx:${dir} holds no IDX pair (NAME-images-idx3-ubyte with NAME-labels-idx1-ubyte, optionally .gz)`,
      );
    const train = loadIdxPair(...(p.train ?? p.test)!, o.classNames?.length);
    let test = p.train && p.test ? loadIdxPair(...p.test, o.classNames?.length) : undefined;
    let split = 'test files';
    let tr: ImageDataset | undefined = train;
    if (!test) ({ train: tr, test, split } = holdout(train));
    const classes = Math.max(train.classes, test.classes, o.classNames?.length ?? 0);
    const classNames = names({ ...train, classes });
    if (classNames.length < classes)
      throw new DatasetError(
        `idx:${dir}: classes.txt names ${classNames.length} classes, the labels reach ${classes - 1}`,
      );
    const fix = (ds: ImageDataset): ImageDataset => ({ ...ds, classes: classNames.length, classNames });
    return { ...base, train: fix(tr), test: fix(test), classNames, split };
  },
  'idx:DIR',
);

registerDataset(
  'csv',
  (file, o) => {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (e) {
      throw new DatasetError(`csv:${file}: cannot read it (${fileReason(e)})`);
    }
    const all = parseCsvDataset(text, `csv:${file}`, {
      header: o.csvHeader,
      labelColumn: o.labelColumn,
      classNames: o.classNames,
    });
    const reread = { csvHeader: o.csvHeader ?? 'auto', labelColumn: o.labelColumn ?? 0 };
    return { ...holdout(all), classNames: all.classNames!, dir: file, source: 'file', inputScale: 1, reread };
  },
  'csv:FILE',
);

registerDataset(
  'folder',
  (dir, o) => {
    if (!isDir(dir)) throw new DatasetError(`folder:${dir} is not a directory`);
    const base = { dir, source: 'flag' as const, inputScale: 1 / 255 };
    if (hasTrainTest(dir)) {
      if (o.testOnly) {
        const test = loadImageFolder(join(dir, 'test'), { classNames: o.classNames });
        return { ...base, test, classNames: test.classNames!, split: 'test/ folder' };
      }
      const train = loadImageFolder(join(dir, 'train'), { classNames: o.classNames });
      const test = loadImageFolder(join(dir, 'test'), { classNames: train.classNames, sampleShape: train.sampleShape });
      return { ...base, train, test, classNames: train.classNames!, split: 'test/ folder' };
    }
    const all = loadImageFolder(dir, { classNames: o.classNames });
    return { ...base, ...holdout(all), classNames: all.classNames! };
  },
  'folder:DIR',
);

/** Debian python3-sklearn's copy of the UCI 8×8 digits (1,797 rows: 64 pixels 0..16, then the digit). */
export const DIGITS_FILE = '/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz';

registerDataset('digits', (_arg, o) => {
  const file = o.digitsFile ?? DIGITS_FILE;
  if (!existsSync(file))
    throw new DatasetError(
      `--dataset digits: scikit-learn's 8×8 digits are not installed (${file} is missing); install Debian's ` +
        'python3-sklearn (apt-get install python3-sklearn), or use --dataset fashion-mnist, csv:FILE or folder:DIR',
    );
  const text = new TextDecoder().decode(gunzipSync(readFileSync(file), { maxOutputLength: 64 * 2 ** 20 }));
  // Pixels 0..16 are scaled to [0, 1] as bytes are by /255, so a PNG given to `frugal predict` matches.
  const all = parseCsvDataset(text, file, { header: 'no', labelColumn: -1, sampleShape: [1, 8, 8], scale: 1 / 16 });
  return { ...holdout(all), classNames: all.classNames!, dir: file, source: 'system', inputScale: 1 / 16 };
});
