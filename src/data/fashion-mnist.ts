import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { parseIdx, IdxError } from './idx.js';
import type { ImageDataset } from './dataset.js';

/** Where data came from: the --data-dir flag, FRUGAL_DATA_DIR, Debian's package, or the subset shipped in the repo. */
export type DataSource = 'flag' | 'env' | 'system' | 'subset';

export const SYSTEM_DIR = '/usr/share/datasets/fashion-mnist';
export const SUBSET_DIR = fileURLToPath(new URL('../../../data/fashion-mnist-subset', import.meta.url));
export const FILES = {
  trainImages: 'train-images-idx3-ubyte',
  trainLabels: 'train-labels-idx1-ubyte',
  testImages: 't10k-images-idx3-ubyte',
  testLabels: 't10k-labels-idx1-ubyte',
};

/** Fashion-MNIST's ten classes, by label (Xiao, Rasul & Vollgraf 2017, Table 1). */
export const FASHION_MNIST_CLASSES = [
  'T-shirt/top',
  'Trouser',
  'Pullover',
  'Dress',
  'Coat',
  'Sandal',
  'Shirt',
  'Sneaker',
  'Bag',
  'Ankle boot',
];

/** 512 MiB: far above Fashion-MNIST, small enough that a gzip bomb cannot exhaust memory. */
const MAX_UNZIPPED = 512 * 1024 * 1024;

function findFile(dir: string, base: string): string | null {
  for (const name of [base, `${base}.gz`]) if (existsSync(join(dir, name))) return join(dir, name);
  return null;
}

function hasAll(dir: string, testOnly = false): boolean {
  const need = testOnly ? [FILES.testImages, FILES.testLabels] : Object.values(FILES);
  return need.every((f) => findFile(dir, f));
}

/**
 * Find Fashion-MNIST, in order: dataDir (if given, it must hold the files), FRUGAL_DATA_DIR,
 * /usr/share/datasets/fashion-mnist (Debian's dataset-fashion-mnist), the shipped subset.
 */
export function locateFashionMnist(dataDir?: string, testOnly = false): { dir: string; source: DataSource } {
  if (dataDir) {
    if (!hasAll(dataDir, testOnly))
      throw new Error(
        `--data-dir ${dataDir} does not hold the Fashion-MNIST files ` +
          `(${(testOnly ? [FILES.testImages, FILES.testLabels] : Object.values(FILES)).join(', ')}, optionally .gz)`,
      );
    return { dir: dataDir, source: 'flag' };
  }
  const env = process.env.FRUGAL_DATA_DIR;
  if (env) {
    if (!hasAll(env))
      throw new Error(
        `FRUGAL_DATA_DIR=${env} does not hold the Fashion-MNIST files ` +
          `(${Object.values(FILES).join(', ')}, optionally .gz)`,
      );
    return { dir: env, source: 'env' };
  }
  if (hasAll(SYSTEM_DIR)) return { dir: SYSTEM_DIR, source: 'system' };
  if (hasAll(SUBSET_DIR)) return { dir: SUBSET_DIR, source: 'subset' };
  throw new Error(
    `Fashion-MNIST not found: install Debian's dataset-fashion-mnist (apt-get install ` +
      `dataset-fashion-mnist) or pass --data-dir DIR`,
  );
}

/** Read an IDX file, gunzipping when it starts with the gzip magic. */
export function readIdxFile(path: string): ReturnType<typeof parseIdx> {
  let bytes: Uint8Array = readFileSync(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_UNZIPPED });
    } catch (e) {
      throw new IdxError(`${path}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  return parseIdx(bytes, path);
}

function loadPair(dir: string, images: string, labels: string): ImageDataset {
  const ds = loadIdxPair(findFile(dir, images)!, findFile(dir, labels)!, 10);
  return { ...ds, classNames: FASHION_MNIST_CLASSES };
}

/**
 * An IDX pair: ubyte images [N, rows, cols] and ubyte labels [N], each label below `maxClasses`
 * (default 256); classes is the largest label + 1 when maxClasses is not given.
 */
export function loadIdxPair(ip: string, lp: string, maxClasses?: number): ImageDataset {
  const im = readIdxFile(ip),
    lb = readIdxFile(lp);
  if (im.dims.length !== 3 || !(im.data instanceof Uint8Array))
    throw new IdxError(`${ip}: expected ubyte images [N, rows, cols], got rank ${im.dims.length}`);
  if (lb.dims.length !== 1 || !(lb.data instanceof Uint8Array)) throw new IdxError(`${lp}: expected ubyte labels [N]`);
  if (im.dims[0] !== lb.dims[0])
    throw new IdxError(`${ip} has ${im.dims[0]} images but ${lp} has ${lb.dims[0]} labels`);
  let top = 0;
  for (let i = 0; i < lb.data.length; i++) {
    if (maxClasses !== undefined && lb.data[i] >= maxClasses)
      throw new IdxError(`${lp}: label ${lb.data[i]} at ${i} is outside 0..${maxClasses - 1}`);
    top = Math.max(top, lb.data[i]);
  }
  const classes = maxClasses ?? top + 1;
  return { images: im.data, labels: lb.data, count: im.dims[0], sampleShape: [1, im.dims[1], im.dims[2]], classes };
}

/** Fashion-MNIST's test set alone (a --data-dir may hold only t10k-images and t10k-labels). */
export function loadFashionMnistTest(dataDir?: string): { test: ImageDataset; dir: string; source: DataSource } {
  const { dir, source } = locateFashionMnist(dataDir, true);
  return { test: loadPair(dir, FILES.testImages, FILES.testLabels), dir, source };
}

/** Load Fashion-MNIST train and test sets; says which source it used. */
export function loadFashionMnist(dataDir?: string): {
  train: ImageDataset;
  test: ImageDataset;
  dir: string;
  source: DataSource;
} {
  const { dir, source } = locateFashionMnist(dataDir);
  return {
    train: loadPair(dir, FILES.trainImages, FILES.trainLabels),
    test: loadPair(dir, FILES.testImages, FILES.testLabels),
    dir,
    source,
  };
}
