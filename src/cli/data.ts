import { backendName, loadFashionMnist, subset, type ImageDataset } from '../node.js';
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
