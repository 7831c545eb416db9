import { readFileSync, statSync } from 'node:fs';
import { fromOnnx, profileModel, saveModel } from '../../node.js';
import { emit, parse, UsageError, type Options } from '../args.js';
import { checkOutputFile } from '../output.js';
import { fileReason } from '../../io/fs-reason.js';

export const usage = `frugal import MODEL.onnx --out PATH [--json]
  Read an ONNX model whose graph is a chain of layers Frugal expresses (Gemm/MatMul+Add, Conv, pools,
  Flatten/Reshape, BatchNormalization, activations, Softmax) and save it as a Frugal model file, to
  prune, compress, evaluate or benchmark it. Anything else is refused naming the node and operator.`;

const options: Options = { out: { type: 'string' } };

/** Files above this are refused before reading: far above any model within LIMITS.maxModelParams (256 MiB). */
const MAX_ONNX_BYTES = 2 ** 30;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required, e.g. --out runs/imported.safetensors');
  checkOutputFile('--out', out);
  const path = positionals[0];
  let bytes: Uint8Array;
  try {
    const st = statSync(path);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size > MAX_ONNX_BYTES) throw new Error(`${st.size} bytes, above the ${MAX_ONNX_BYTES}-byte limit`);
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ONNX file ${path}: ${fileReason(e)}`);
  }
  const r = fromOnnx(bytes);
  const training = { importedFrom: path, onnxOpset: r.opset, onnxMetadata: r.metadata };
  saveModel(out, r.model, r.spec, training);
  const p = profileModel(r.model, r.spec.input);
  emit(
    !!values.json,
    {
      command: 'import',
      model: path,
      out,
      opset: r.opset,
      input: r.spec.input,
      layers: r.spec.layers.map((l) => l.type),
      params: p.params,
      bytes: statSync(out).size,
    },
    `${r.spec.layers.length} layers (${r.spec.layers.map((l) => l.type).join(', ')}), input [${r.spec.input}], ` +
      `${p.params.toLocaleString('en-US')} parameters; saved ${out}`,
  );
  return 0;
}
