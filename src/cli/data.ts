import { backendName, ecgDataset, loadFashionMnist, subset, trainValSplit, type ImageDataset } from '../node.js';
import { note } from './args.js';
import { readLimit } from './option-groups.js';

/** Fashion-MNIST as the commands that retrain a saved model take it: --data-dir, then --limit N training images. */
export function retrainingData(values: Record<string, unknown>): {
  train: ImageDataset;
  test: ImageDataset;
  dir: string;
  source: string;
} {
  const limit = readLimit(values);
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  note(`frugal: Fashion-MNIST from ${data.dir} (${data.source}); backend ${backendName()}`);
  const train = limit
    ? subset(
        data.train,
        Array.from({ length: Math.min(limit, data.train.count) }, (_, i) => i),
      )
    : data.train;
  return { train, test: data.test, dir: data.dir, source: data.source };
}

/**
 * `--dataset ecg-synthetic`: spec 09's synthetic 5-s ECG strips (src/techniques/ecg), generated, not read: training
 * 720 + 3170 (Sh + NSh, the paper's counts), test 200 + 1600 (1 : 8), from fixed data seeds 1001 and 1003.
 */
export function ecgSyntheticData(): { train: ImageDataset; test: ImageDataset; dir: string; source: string } {
  const set = (sh: number, nsh: number, seed: number) =>
    ecgDataset({ shockable: sh, nonShockable: nsh, seconds: 5, seed }).data;
  return { train: set(720, 3170, 1001), test: set(200, 1600, 1003), dir: 'synthetic', source: 'ecg-synthetic' };
}

/**
 * The data `frugal train` takes (both trainers): Fashion-MNIST from --data-dir (or --dataset ecg-synthetic), the
 * first --limit training rows, then a seeded --val-split validation part; the source is noted on stderr (`extra`
 * ends the line, e.g. the trainer).
 */
export function trainingData(
  values: Record<string, unknown>,
  o: { limit: number; valSplit: number; seed: number; extra?: string },
): {
  data: { train: ImageDataset; test: ImageDataset; dir: string; source: string };
  train: ImageDataset;
  validation?: ImageDataset;
} {
  const ecg = values.dataset === 'ecg-synthetic';
  const data = ecg ? ecgSyntheticData() : loadFashionMnist(values['data-dir'] as string | undefined);
  const from = ecg
    ? 'synthetic ECG (spec 09 generator, 5 s at 125 Hz, label 0 shockable)'
    : `Fashion-MNIST from ${data.source === 'subset' ? 'the subset shipped in the repo' : data.dir}`;
  note(
    `frugal: ${from} (${data.source}): ${data.train.count} train, ${data.test.count} test; backend ` +
      `${backendName()}${o.extra ?? ''}`,
  );
  let train = data.train;
  if (o.limit)
    train = subset(
      train,
      Array.from({ length: Math.min(o.limit, train.count) }, (_, i) => i),
    );
  if (!o.valSplit) return { data, train };
  const { train: rest, val } = trainValSplit(train, o.valSplit, o.seed);
  return { data, train: rest, validation: val };
}
