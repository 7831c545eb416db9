import { statSync } from 'node:fs';
import { CIRCULANT_EXPORTS, loadModel, ONNX_OPSETS, toOnnx, writeFileAtomic } from '../../node.js';
import { choice, defaultsText, emit, num, parse, UsageError, type Options } from '../args.js';
import { checkOutputFile } from '../output.js';

export const usage = `frugal export MODEL --format onnx --out PATH [--opset N] [--circulant dense|blocks] [--json]
  Write a trained model as ONNX (dense, compacted pruned, circulant and binarized models; the spec
  and training metadata go into metadata_props). A layer ONNX cannot express is refused by index.
  --circulant blocks keeps block-circulant layers N× smaller: only their defining vectors are stored and
  each weight is gathered into its circulant blocks in the graph (dense: the expanded weights).
${defaultsText([`--format onnx`, `--opset ${ONNX_OPSETS.default}`, '--circulant dense'])}`;

const options: Options = {
  out: { type: 'string' },
  format: { type: 'string' },
  opset: { type: 'string' },
  circulant: { type: 'string' },
};

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required, e.g. --out runs/model.onnx');
  choice(values, 'format', ['onnx'] as const, 'onnx');
  const opset = num(values, 'opset', ONNX_OPSETS.default, { int: true, min: ONNX_OPSETS.min, max: ONNX_OPSETS.max });
  const circulant = choice(values, 'circulant', CIRCULANT_EXPORTS, 'dense');
  checkOutputFile('--out', out, 'model.onnx');
  const loaded = loadModel(positionals[0]);
  const name = positionals[0].replace(/^.*[/\\]/, '').replace(/\.[^.]*$/, '');
  const bytes = toOnnx(loaded, { opset, name, circulant });
  writeFileAtomic(out, bytes);
  emit(
    !!values.json,
    { command: 'export', model: positionals[0], format: 'onnx', opset, circulant, out, bytes: statSync(out).size },
    `ONNX (opset ${opset}): ${statSync(out).size.toLocaleString('en-US')} bytes; saved ${out}`,
  );
  return 0;
}
