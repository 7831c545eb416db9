#!/usr/bin/env node
// frugal: the command line. Parses the command name and dispatches; commands call only the public API.
import { UsageError } from './args.js';
import { checkThreads, setThreads } from '../index.js';
import * as train from './commands/train.js';
import * as evalCmd from './commands/eval.js';
import * as predictCmd from './commands/predict.js';
import * as info from './commands/info.js';
import * as bench from './commands/bench.js';
import * as prune from './commands/prune.js';
import * as compactCmd from './commands/compact.js';
import * as packCmd from './commands/pack.js';
import * as reproduce from './commands/reproduce.js';
import * as circulant from './commands/circulant.js';
import * as layerwise from './commands/layerwise.js';
import * as control from './commands/control.js';
import * as snn from './commands/snn.js';
import * as search from './commands/search.js';
import * as compare from './commands/compare.js';
import * as runs from './commands/runs.js';
import * as exportCmd from './commands/export.js';
import * as importCmd from './commands/import.js';
import { runInterruptible } from './interrupt.js';
import { capThreads, failure, version } from './outcome.js';
import { quietOnClosedOutput } from './closed-output.js';
import { didYouMean } from '../core/suggest.js';

interface Command {
  usage: string;
  run(argv: string[]): Promise<number>;
  /** Runs on a worker thread so that Ctrl-C stops it cleanly at a checkpoint (see interrupt.ts). */
  interruptible?: boolean;
}
const commands: Record<string, Command> = {
  train,
  eval: evalCmd,
  predict: predictCmd,
  info,
  prune,
  compact: compactCmd,
  pack: packCmd,
  circulant,
  layerwise,
  control,
  snn,
  search,
  compare,
  runs,
  export: exportCmd,
  import: importCmd,
  reproduce,
  bench,
};

function usage(): string {
  return `usage: frugal COMMAND [options]   (every command takes --json, --help and --threads N)\n\n${Object.values(
    commands,
  )
    .map((c) => c.usage)
    .join('\n\n')}\n`;
}

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  if (name === '--version' || name === '-V' || name === 'version') {
    process.stdout.write(`${version()}\n`);
    return 0;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(
      `frugal: unknown command ${JSON.stringify(name)}${didYouMean(name, Object.keys(commands))}\n${usage()}`,
    );
    return 2;
  }
  if (cmd.interruptible) {
    const code = await runInterruptible(new URL(import.meta.url), argv);
    if (code !== null) return code;
  }
  try {
    // The backend refused a bad FRUGAL_THREADS at start-up and fell back to one thread; a command
    // run with it is refused, as a flag would be (exit 1: it is the environment, not the command line).
    if (process.env.FRUGAL_THREADS !== undefined) checkThreads('FRUGAL_THREADS', process.env.FRUGAL_THREADS);
    const i = rest.findIndex((a) => a === '--threads' || a.startsWith('--threads='));
    if (i >= 0) {
      const raw = rest[i].includes('=') ? rest[i].split('=')[1] : rest[i + 1];
      let n: number;
      try {
        n = checkThreads('--threads', raw);
      } catch (e) {
        throw new UsageError((e as Error).message);
      }
      rest.splice(i, rest[i].includes('=') ? 1 : 2);
      await setThreads(capThreads(n));
    }
    return await cmd.run(rest);
  } catch (e) {
    return failure(name, e, rest, cmd.usage);
  }
}

quietOnClosedOutput();
process.exitCode = await main(process.argv.slice(2));
