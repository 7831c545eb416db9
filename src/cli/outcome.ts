// How a command's failure reaches the user: exit 2 and the usage for a wrong flag, 1 and a one-line reason
// for a run that cannot proceed (the stack with --debug), 130 for a run stopped by a signal; with --json, one
// JSON object {error, code, …} on stdout as well, so a script reading stdout always gets an object.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { TrainingInterrupted } from '../node.js';
import { UsageError } from './args.js';
import { INTERRUPTED, interruptedMessage } from './interrupt.js';

/** Report `e`, thrown by command `name` run with `args`, and return the exit status. */
export function failure(name: string, e: unknown, args: string[], usage: string): number {
  const err = e instanceof Error ? e : new Error(String(e));
  let code: number, text: string;
  const extra: Record<string, unknown> = {};
  if (err instanceof TrainingInterrupted) {
    code = INTERRUPTED;
    text = interruptedMessage(name, err);
    Object.assign(extra, { epoch: err.epoch, batch: err.batch, checkpointed: err.checkpointed });
  } else if (err instanceof UsageError) {
    code = 2;
    text = `frugal ${name}: ${err.message}\n${err.showUsage ? `\nusage: ${usage}\n` : ''}`;
  } else {
    code = 1;
    text = args.includes('--debug') ? `${err.stack}\n` : `frugal ${name}: ${err.message.split('\n')[0]}\n`;
  }
  process.stderr.write(text);
  if (args.includes('--json'))
    process.stdout.write(`${JSON.stringify({ command: name, error: err.message, code, ...extra })}\n`);
  return code;
}

/**
 * --threads above the core count: more threads than cores only wait for each other (measured on 2 cores:
 * ×2.6 slower at 4 threads, ×75 at 64), so the count is capped at the cores, with a warning.
 */
export function capThreads(n: number): number {
  const cores = availableParallelism();
  if (n <= cores) return n;
  process.stderr.write(`frugal: warning: --threads ${n} is more than this machine's ${cores} cores; using ${cores}\n`);
  return cores;
}

/** The package's version, from package.json beside dist/. */
export function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8'));
  return `frugal ${pkg.version} (Node.js ${process.versions.node})`;
}
