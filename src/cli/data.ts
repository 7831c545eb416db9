import { backendName, loadFashionMnist, subset, trainValSplit, type ImageDataset } from '../node.js';
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
 * Fashion-MNIST as `frugal train` takes it (both trainers): --data-dir, the first --limit training images, then a
 * seeded --val-split validation part; the source is noted on stderr (`extra` ends the line, e.g. the trainer).
 */
export function trainingData(
  values: Record<string, unknown>,
  o: { limit: number; valSplit: number; seed: number; extra?: string },
): { data: ReturnType<typeof loadFashionMnist>; train: ImageDataset; validation?: ImageDataset } {
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  note(
    `frugal: Fashion-MNIST from ${data.source === 'subset' ? 'the subset shipped in the repo' : data.dir} ` +
      `(${data.source}): ${data.train.count} train, ${data.test.count} test; backend ${backendName()}${o.extra ?? ''}`,
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
