import { statSync } from 'node:fs';
import { compact, loadModel, profileModel, saveModel, specOf } from '../../node.js';
import { choice, defaultsText, emit, parse, UsageError, type Options } from '../args.js';
import { checkOutputFile } from '../output.js';

export const usage = `frugal compact MODEL --out PATH [--sparse auto|always|never] [--json]
  Delete the channels and neurons a pruned model no longer uses (with their batch-norm entries
  and the next layer's inputs); with --sparse auto (default), layers whose weights are mostly
  zero are stored and run in compressed-sparse-row form. Outputs are unchanged.
${defaultsText(['--sparse auto'])}`;

const options: Options = { out: { type: 'string' }, sparse: { type: 'string' } };

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const out = values.out as string | undefined;
  if (!out) throw new UsageError('--out PATH is required');
  const mode = choice(values, 'sparse', ['auto', 'always', 'never'] as const, 'auto');
  checkOutputFile('--out', out);
  const { model, spec, training, bytes } = loadModel(positionals[0]);
  const { model: small, report } = compact(model, spec.input, { sparse: mode === 'auto' ? 'auto' : mode === 'always' });
  saveModel(out, small, specOf(small, spec.input), { ...training, compactedFrom: positionals[0] });
  const outBytes = statSync(out).size;
  const p0 = profileModel(model, spec.input),
    p1 = profileModel(small, spec.input);
  emit(
    !!values.json,
    {
      command: 'compact',
      model: positionals[0],
      out,
      bytesBefore: bytes,
      bytesAfter: outBytes,
      paramsBefore: p0.params,
      paramsAfter: p1.params,
      nonzeroBefore: p0.nonzeroParams,
      nonzeroAfter: p1.nonzeroParams,
      macsBefore: p0.macs,
      macsAfter: p1.macs,
      channels: report.removed,
      sparseLayers: report.sparseLayers,
    },
    [
      ...report.removed.map((c) => `layer ${c.layer} (${c.type}): ${c.before} → ${c.after} channels`),
      report.sparseLayers.length
        ? `stored as CSR: layers ${report.sparseLayers.join(', ')}`
        : 'no layer sparse enough for CSR',
      `parameters ${p0.params.toLocaleString('en-US')} → ${p1.params.toLocaleString('en-US')} (non-zero ` +
        `${p0.nonzeroParams.toLocaleString('en-US')} → ${p1.nonzeroParams.toLocaleString('en-US')}), MACs ` +
        `${p0.macs.toLocaleString('en-US')} → ${p1.macs.toLocaleString('en-US')}`,
      `file ${bytes.toLocaleString('en-US')} → ${outBytes.toLocaleString('en-US')} bytes; saved ${out}`,
    ].join('\n'),
  );
  return 0;
}
