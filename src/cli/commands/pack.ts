import { statSync } from 'node:fs';
import { evaluate, loadModel, packBinary, profileModel, saveModel, specOf } from '../../node.js';
import { retrainingData } from '../data.js';
import { DATA_DIR_DEFAULT, defaultsText, emit, parse, UsageError, type Options } from '../args.js';
import { groupOptions } from '../option-groups.js';
import { checkOutputFile } from '../output.js';

export const usage = `frugal pack MODEL --out PATH [--data-dir DIR] [--json]
  Turn a trained binarized model (binary-conv2d, binary-linear, jet-conv2d layers) into its
  inference form: binary weights stored and run as packed bits (XNOR-popcount), batch norm +
  sign folded into integer thresholds. Checks on the test set that the packed model predicts
  exactly what the float simulation predicts, and reports both files' sizes.
${defaultsText([`--data-dir ${DATA_DIR_DEFAULT}`])}`;

const options: Options = { out: { type: 'string' }, ...groupOptions(['data-dir']) };

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required');
  checkOutputFile('--out', out);
  const { model, spec, training, bytes } = loadModel(positionals[0]);
  const { model: packed, report } = packBinary(model);
  if (report.packed.length === 0)
    throw new Error(`${positionals[0]} has no binarized layer to pack (binary-conv2d, binary-linear or jet-conv2d)`);
  saveModel(out, packed, specOf(packed, spec.input), { ...training, packedFrom: positionals[0] });
  const outBytes = statSync(out).size;
  const { test } = retrainingData(values, { training, spec });
  const a = evaluate(model, test, { shape: spec.input }),
    b = evaluate(packed, test, { shape: spec.input });
  // Predictions of both, sample by sample.
  const same = a.predictions.every((p, i) => p === b.predictions[i]);
  const p1 = profileModel(packed, spec.input);
  emit(
    !!values.json,
    {
      command: 'pack',
      model: positionals[0],
      out,
      packedLayers: report.packed,
      foldedBatchNorms: report.folded,
      bytesBefore: bytes,
      bytesAfter: outBytes,
      testAccuracy: b.accuracy,
      simulatedAccuracy: a.accuracy,
      predictionsEqual: same,
      samples: a.predictions.length,
      binary: p1.summary.binary,
    },
    [
      `packed layers ${report.packed.join(', ')}; batch norms folded into thresholds: ` +
        `${report.folded.join(', ') || 'none'}`,
      `test accuracy ${(100 * b.accuracy).toFixed(2)}% (float simulation ${(100 * a.accuracy).toFixed(2)}%); ` +
        `predictions ${same ? 'identical' : 'DIFFER'} on ${a.predictions.length} images`,
      `file ${bytes.toLocaleString('en-US')} → ${outBytes.toLocaleString('en-US')} bytes; saved ${out}`,
    ].join('\n'),
  );
  return same ? 0 : 1;
}
