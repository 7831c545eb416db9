import {
  backendName,
  evaluate,
  LIMITS,
  loadFashionMnist,
  loadModel,
  MAX_SUBSTEPS,
  simulateFitDnn,
} from '../../node.js';
import { choice, DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';

/** N_h sub-steps per θ of the delay-system simulation (spec 04). */
const SUBSTEPS_DEFAULT = '--substeps max(32, ⌊16θ⌋)';

export const usage = `frugal eval MODEL [--data-dir DIR] [--batch-size B] [--simulate map|dde] [--substeps N] [--json]
  Test accuracy, balanced accuracy, loss and confusion matrix of a saved model on Fashion-MNIST.
  --simulate dde (Fit-DNN models): integrate the delayed neuron in time (spec 04's semi-analytic solver,
  --substeps N_h per node separation θ, default max(32, ⌊16θ⌋)) instead of the equivalent network map.
${defaultsText([`--data-dir ${DATA_DIR_DEFAULT}`, '--batch-size 256', '--simulate map', SUBSTEPS_DEFAULT])}`;

const options: Options = {
  'data-dir': { type: 'string' },
  'batch-size': { type: 'string' },
  simulate: { type: 'string' },
  substeps: { type: 'string' },
};

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
  const simulate = choice(values, 'simulate', ['map', 'dde'] as const, 'map');
  if (values.substeps !== undefined && simulate !== 'dde') throw new UsageError('--substeps goes with --simulate dde');
  const substeps =
    values.substeps === undefined
      ? undefined
      : num(values, 'substeps', 32, { int: true, min: 1, limit: [MAX_SUBSTEPS, 'MAX_SUBSTEPS of the DDE solver'] });
  const { model, spec } = loadModel(positionals[0]);
  if (values.simulate !== undefined) {
    const n = simulateFitDnn(model, simulate === 'dde' ? { kind: 'dde', substeps } : { kind: 'map' });
    if (n === 0) {
      process.stderr.write(
        `frugal eval: ${positionals[0]} has no fit-dnn layer; --simulate applies to Fit-DNN models only ` +
          '(drop the flag to evaluate this model)\n',
      );
      return 1;
    }
  }
  const data = loadFashionMnist(values['data-dir'] as string | undefined);
  note(
    `frugal: evaluating on ${data.test.count} test images from ${data.dir} (${data.source}); backend ${backendName()}` +
      (simulate === 'dde' ? '; Fit-DNN layers integrated as a delay system (DDE)' : ''),
  );
  const r = evaluate(model, data.test, { batchSize, shape: spec.input });
  emit(
    !!values.json,
    {
      command: 'eval',
      model: positionals[0],
      dataSource: data.source,
      simulate,
      ...(substeps !== undefined ? { substeps } : {}),
      testAccuracy: r.accuracy,
      balancedAccuracy: r.balancedAccuracy,
      loss: r.loss,
      count: r.count,
      seconds: r.seconds,
      samplesPerSecond: r.samplesPerSecond,
      confusion: r.confusion,
    },
    `test accuracy ${(100 * r.accuracy).toFixed(2)}% (balanced ${(100 * r.balancedAccuracy).toFixed(2)}%), loss ` +
      `${r.loss.toFixed(4)}, ${r.count} images, ${Math.round(r.samplesPerSecond)} samples/s` +
      (simulate === 'dde' ? ' (delay system simulated)' : ''),
  );
  return 0;
}
