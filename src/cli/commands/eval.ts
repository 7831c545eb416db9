import { backendName, evaluate, LIMITS, loadFashionMnist, loadModel } from '../../node.js';
import { emit, note, num, parse, type Options } from '../args.js';

export const usage = `frugal eval MODEL [--data-dir DIR] [--batch-size B] [--json]
  Test accuracy, balanced accuracy, loss and confusion matrix of a saved model on Fashion-MNIST.`;

const options: Options = { 'data-dir': { type: 'string' }, 'batch-size': { type: 'string' } };

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const batchSize = num(values, 'batch-size', 256, {
    int: true,
    min: 1,
    limit: [LIMITS.maxBatchSize, 'maxBatchSize in core/limits.ts'],
  });
  const { model, spec } = loadModel(positionals[0]);
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  note(
    `frugal: evaluating on ${data.test.count} test images from ${data.dir} (${data.source}); backend ${backendName()}`,
  );
  const r = evaluate(model, data.test, { batchSize, shape: spec.input });
  emit(
    !!values.json,
    {
      command: 'eval',
      model: positionals[0],
      dataSource: data.source,
      testAccuracy: r.accuracy,
      balancedAccuracy: r.balancedAccuracy,
      loss: r.loss,
      count: r.count,
      seconds: r.seconds,
      samplesPerSecond: r.samplesPerSecond,
      confusion: r.confusion,
    },
    `test accuracy ${(100 * r.accuracy).toFixed(2)}% (balanced ${(100 * r.balancedAccuracy).toFixed(2)}%), loss ` +
      `${r.loss.toFixed(4)}, ${r.count} images, ${Math.round(r.samplesPerSecond)} samples/s`,
  );
  return 0;
}
