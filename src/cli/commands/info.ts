import { formatProfile, loadModel, profileJson, profileModel } from '../../node.js';
import { emit, parse } from '../args.js';

export const usage = `frugal info MODEL [--json]
  Per-layer table of parameters, non-zero parameters, MACs per sample and bytes, with totals.`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const { model, spec, bytes, training } = loadModel(positionals[0]);
  const p = profileModel(model, spec.input);
  emit(
    !!values.json,
    { command: 'info', model: positionals[0], fileBytes: bytes, ...profileJson(p), training },
    `${formatProfile(p)}\nfile: ${bytes.toLocaleString('en-US')} bytes`,
  );
  return 0;
}
