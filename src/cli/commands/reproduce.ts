import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { reproducePruning, pruningMarkdown } from '../../reproduce/pruning.js';
import { reproduceCircconv, circconvMarkdown } from '../../reproduce/circconv.js';
import { reproduceBinaryJets, binaryJetsMarkdown } from '../../reproduce/binary.js';
import { writeFileAtomic } from '../../node.js';
import { emit, note, num, parse, UsageError, type Options } from '../args.js';

export const usage = `frugal reproduce NAME [--quick] [--seeds K] [--data-dir DIR] [--out DIR] [--resume] [--json]
             [--train-samples N] [--epochs E] [--prune-epochs P]
  Reproduce a paper on Fashion-MNIST and print its numbers beside ours, with pass/fail criteria;
  a Markdown report is written to DIR (default runs/). NAME: pruning, circconv, binary-jets. --quick runs a small
  version in seconds; --resume continues an interrupted run from its finished parts.`;

const options: Options = {
  quick: { type: 'boolean', default: false }, seeds: { type: 'string' }, 'data-dir': { type: 'string' }, out: { type: 'string' },
  resume: { type: 'boolean', default: false }, 'train-samples': { type: 'string' }, epochs: { type: 'string' }, 'prune-epochs': { type: 'string' },
};

const NAMES = ['pruning', 'circconv', 'binary-jets'];

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, 1);
  if (values.help) { process.stdout.write(`${usage}\n`); return 0; }
  const name = positionals[0];
  if (!NAMES.includes(name)) throw new UsageError(`unknown reproduction ${JSON.stringify(name)}; available: ${NAMES.join(', ')}`);
  const k = num(values, 'seeds', 1, { int: true, min: 1, max: 10 });
  const outDir = (values.out as string | undefined) ?? 'runs';
  mkdirSync(outDir, { recursive: true });
  const opt = (n: string) => (values[n] === undefined ? undefined : num(values, n, 0, { int: true, min: 1 }));
  const common = {
    quick: !!values.quick, seeds: Array.from({ length: k }, (_, i) => i + 1), dataDir: values['data-dir'] as string | undefined,
    trainSamples: opt('train-samples'), outDir, resume: !!values.resume, progress: values.json ? undefined : process.stderr, log: note,
  };
  const report = name === 'pruning' ? reproducePruning({ ...common, denseEpochs: opt('epochs'), pruneEpochs: opt('prune-epochs') })
    : name === 'circconv' ? reproduceCircconv({ ...common, epochs: opt('epochs') })
      : reproduceBinaryJets({ ...common, epochs: opt('epochs') });
  const md = name === 'pruning' ? pruningMarkdown(report) : name === 'circconv' ? circconvMarkdown(report) : binaryJetsMarkdown(report);
  const mdPath = join(outDir, `reproduce-${name}${values.quick ? '-quick' : ''}.md`);
  writeFileAtomic(mdPath, md);
  emit(!!values.json, { ...report, report: mdPath } as unknown as Record<string, unknown>, `${md}\nreport written to ${mdPath}`);
  return 0;
}
