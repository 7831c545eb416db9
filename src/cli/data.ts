import { backendName, loadFashionMnist, subset, type ImageDataset } from '../node.js';
import { note, num } from './args.js';

/** Fashion-MNIST as the commands that retrain a saved model take it: --data-dir, then --limit N training images. */
export function retrainingData(values: Record<string, unknown>): { train: ImageDataset; test: ImageDataset; dir: string; source: string } {
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  note(`frugal: Fashion-MNIST from ${data.dir} (${data.source}); backend ${backendName()}`);
  const limit = values.limit === undefined ? 0 : num(values, 'limit', 0, { int: true, min: 1 });
  const train = limit ? subset(data.train, Array.from({ length: Math.min(limit, data.train.count) }, (_, i) => i)) : data.train;
  return { train, test: data.test, dir: data.dir, source: data.source };
}
