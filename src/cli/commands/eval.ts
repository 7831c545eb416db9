import { backendName, evaluate, LIMITS, loadModel, MAX_SUBSTEPS, simulateFitDnn } from '../../node.js';
import { choice, DATA_DIR_DEFAULT, defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { checkDataFitsModel, resolveFlags } from '../data.js';
import { DATA, groupOptions } from '../option-groups.js';

/** N_h sub-steps per θ of the delay-system simulation (spec 04). */
const SUBSTEPS_DEFAULT = '--substeps max(32, ⌊16θ⌋)';

export const usage = `frugal eval MODEL [--dataset NAME] [--data-dir DIR] [--csv-header auto|yes|no] [--label-column K]
             [--batch-size B] [--simulate map|dde] [--substeps N] [--json]
  Test accuracy, balanced accuracy, loss, per-class accuracy and confusion matrix (rows: true class,
  columns: predicted) of a saved model on the test set of the data it was trained on (or --dataset).
  --data-dir may hold only the test files (t10k-images-idx3-ubyte, t10k-labels-idx1-ubyte).
  --simulate dde (Fit-DNN models): integrate the delayed neuron in time (spec 04's semi-analytic solver,
  --substeps N_h per node separation θ, default max(32, ⌊16θ⌋)) instead of the equivalent network map.
${defaultsText([
  "--dataset the model's (fashion-mnist if it names none)",
  `--data-dir ${DATA_DIR_DEFAULT}`,
  '--csv-header auto',
  '--label-column 0 (first; −1 last)',
  '--batch-size 256',
  '--simulate map',
  SUBSTEPS_DEFAULT,
])}`;

const options: Options = {
  ...groupOptions(['dataset', 'data-dir', 'csv-header', 'label-column']),
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
  const { model, spec, training } = loadModel(positionals[0]);
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
  const stored = Array.isArray(training.classNames) ? (training.classNames as string[]) : undefined;
  const data = resolveFlags(values, { testOnly: true, training });
  checkDataFitsModel(spec, data);
  note(
    `frugal: evaluating on ${data.test.count} test samples of ${data.name} from ${data.dir} (${data.source}, ` +
      `${data.split}); backend ${backendName()}` +
      (simulate === 'dde' ? '; Fit-DNN layers integrated as a delay system (DDE)' : ''),
  );
  const r = evaluate(model, data.test, { batchSize, shape: spec.input });
  const names = stored ?? data.classNames;
  const perClass = r.confusion.map((row, k) => {
    const n = row.reduce((a, b) => a + b, 0);
    return { class: k, name: names[k] ?? String(k), count: n, accuracy: n ? row[k] / n : null };
  });
  emit(
    !!values.json,
    {
      command: 'eval',
      model: positionals[0],
      dataset: data.name,
      dataSource: data.source,
      simulate,
      ...(substeps !== undefined ? { substeps } : {}),
      testAccuracy: r.accuracy,
      balancedAccuracy: r.balancedAccuracy,
      loss: r.loss,
      count: r.count,
      seconds: r.seconds,
      samplesPerSecond: r.samplesPerSecond,
      classNames: names,
      perClass,
      confusion: r.confusion,
    },
    `${formatPerClass(perClass, r.confusion)}\n` +
      `test accuracy ${(100 * r.accuracy).toFixed(2)}% (balanced ${(100 * r.balancedAccuracy).toFixed(2)}%), loss ` +
      `${r.loss.toFixed(4)}, ${r.count} images, ${Math.round(r.samplesPerSecond)} samples/s` +
      (simulate === 'dde' ? ' (delay system simulated)' : ''),
  );
  return 0;
}

/** Per-class accuracy, then the confusion matrix (rows: true class, columns: predicted), named. */
export function formatPerClass(
  perClass: { name: string; count: number; accuracy: number | null }[],
  confusion: number[][],
): string {
  const w = Math.min(16, Math.max(5, ...perClass.map((p) => p.name.length)));
  const cut = (s: string) => (s.length > w ? `${s.slice(0, w - 1)}~` : s);
  const lines = [`${'class'.padEnd(w)}  ${'accuracy'.padStart(8)}  ${'count'.padStart(6)}`];
  for (const p of perClass)
    lines.push(
      `${cut(p.name).padEnd(w)}  ${(p.accuracy === null ? '-' : `${(100 * p.accuracy).toFixed(1)}%`).padStart(8)}` +
        `  ${String(p.count).padStart(6)}`,
    );
  const cw = Math.max(5, ...confusion.flat().map((v) => String(v).length + 1));
  const abbrev = (s: string) => (s.length > cw - 1 ? s.slice(0, cw - 1) : s);
  lines.push('', `confusion matrix (rows: true, columns: predicted)`);
  lines.push(`${''.padEnd(w)}${perClass.map((p) => abbrev(p.name).padStart(cw)).join('')}`);
  confusion.forEach((row, k) =>
    lines.push(`${cut(perClass[k].name).padEnd(w)}${row.map((v) => String(v).padStart(cw)).join('')}`),
  );
  return lines.join('\n');
}
