import { buildModel, formatProfile, loadModel, profileJson, profileModel } from '../../node.js';
import { emit, parse } from '../args.js';
import { resolveModel } from './train.js';

export const usage = `frugal info MODEL|SPEC.json [--json]
  Per-layer table of parameters, non-zero parameters, MACs per sample, bytes and output shape, with totals.
  A SPEC.json (no weights) is built with fresh weights, so its widths can be checked before training
  ("in": "auto" shows the inferred value).`;

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, {}, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const path = positionals[0];
  if (path.endsWith('.json')) {
    const { spec } = resolveModel(path);
    const p = profileModel(buildModel(spec, 0), spec.input);
    emit(
      !!values.json,
      { command: 'info', spec: path, resolvedSpec: spec, ...profileJson(p) },
      `${formatProfile(p)}\n(a model spec: fresh weights, nothing trained)`,
    );
    return 0;
  }
  const { model, spec, bytes, training } = loadModel(path);
  const p = profileModel(model, spec.input);
  emit(
    !!values.json,
    { command: 'info', model: path, fileBytes: bytes, ...profileJson(p), training },
    `${formatProfile(p)}\nfile: ${bytes.toLocaleString('en-US')} bytes`,
  );
  return 0;
}
