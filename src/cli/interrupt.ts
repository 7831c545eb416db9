// Ctrl-C and SIGTERM during a training command: the run stops after the current step, saves a checkpoint and
// exits 130. Training is synchronous, so a signal handler on its thread would never run until it ended: the
// command runs on a worker thread instead, and this (main) thread only turns signals into a stop flag in
// shared memory that fit() reads between steps (setDefaultStopSignal).
import { isMainThread, Worker, workerData } from 'node:worker_threads';
import { setDefaultStopSignal, TrainingInterrupted } from '../node.js';
import { onStdoutClosed, stderrClosed } from './closed-output.js';

/** Exit status of a run stopped by a signal (128 + SIGINT's 2, as shells report Ctrl-C). */
export const INTERRUPTED = 130;

/**
 * On the main thread: run `entry` with `argv` on a worker thread, turn the first SIGINT or SIGTERM into a
 * stop request (a second one quits at once) and return the worker's exit status. On that worker: install
 * the stop request and return null, so the caller runs the command itself.
 */
export async function runInterruptible(entry: URL, argv: string[]): Promise<number | null> {
  if (!isMainThread) {
    const flag = (workerData as { frugalStop?: Int32Array } | null)?.frugalStop;
    if (flag) {
      setDefaultStopSignal({
        get aborted() {
          return Atomics.load(flag, 0) !== 0;
        },
      });
      // Progress bars redraw in place when the real stderr is a terminal.
      if ((workerData as { stderrTTY?: boolean }).stderrTTY) (process.stderr as { isTTY?: boolean }).isTTY = true;
    }
    return null;
  }
  const flag = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(entry, { argv, workerData: { frugalStop: flag, stderrTTY: !!process.stderr.isTTY } });
  let count = 0;
  const onSignal = (sig: NodeJS.Signals): void => {
    if (++count > 1) {
      process.stderr.write(`\nfrugal: ${sig} again: quitting now; the last checkpoint written stays\n`);
      process.exit(INTERRUPTED);
    }
    Atomics.store(flag, 0, 1);
    process.stderr.write(`\nfrugal: ${sig}: stopping after the current step to save a checkpoint (again: quit now)\n`);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // stdout's reader went away (`frugal train … | head`): stop as on Ctrl-C, so the checkpoint is kept.
  onStdoutClosed(() => {
    Atomics.store(flag, 0, 1);
    if (!stderrClosed())
      process.stderr.write('\nfrugal: stdout closed: stopping after the current step to save a checkpoint\n');
  });
  return new Promise((resolve) => {
    worker.on('error', (e) => {
      process.stderr.write(`frugal: ${e.message}\n`);
      onStdoutClosed(null);
      resolve(1);
    });
    worker.on('exit', (code) => {
      onStdoutClosed(null);
      resolve(code);
    });
  });
}

/** The CLI's report of a stopped run: where it stopped and how to continue. */
export function interruptedMessage(command: string, e: TrainingInterrupted): string {
  return e.checkpointed
    ? `frugal ${command}: ${e.message}; continue with --resume\n`
    : `frugal ${command}: ${e.message}; this step keeps no checkpoint, so it starts again on the next run\n`;
}
