// A reader that closes early (`frugal runs list | head -1`) is normal use, not an error. Without a listener,
// the EPIPE that the next write to the closed pipe gets is an unhandled 'error' event and Node prints a stack.
// Policy (as `git log | head` seen from a shell without pipefail, and Python's `signal(SIGPIPE, SIG_DFL)`
// users expect): a closed STDOUT ends the command quietly with status 0, because whoever read stdout has
// decided it has what it wanted; a training command stops as on Ctrl-C instead (it saves its checkpoint first,
// so an hour of work is not lost to `| head`) and exits with its own status. A closed STDERR only drops the
// diagnostics that follow: the command goes on and exits with its own status, since stdout may still be read.

let stdoutClosed: (() => void) | null = null;
let closed = { stdout: false, stderr: false };

function isClosedPipe(e: NodeJS.ErrnoException): boolean {
  return e.code === 'EPIPE' || e.code === 'ERR_STREAM_DESTROYED' || e.code === 'ERR_STREAM_WRITE_AFTER_END';
}

/**
 * Install the policy above on this process's stdout and stderr (once, before anything is written).
 * Any other stream error is rethrown as before.
 */
export function quietOnClosedOutput(): void {
  closed = { stdout: false, stderr: false };
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (!isClosedPipe(e)) throw e;
    if (closed.stdout) return;
    closed.stdout = true;
    if (stdoutClosed) stdoutClosed();
    else process.exit(0);
  });
  process.stderr.on('error', (e: NodeJS.ErrnoException) => {
    if (!isClosedPipe(e)) throw e;
    closed.stderr = true;
  });
}

/** While a training command runs, a closed stdout calls `stop` (a stop request) instead of exiting at once. */
export function onStdoutClosed(stop: (() => void) | null): void {
  stdoutClosed = stop;
}

/** Whether stderr's reader has gone (then nothing more is written to it). */
export function stderrClosed(): boolean {
  return closed.stderr;
}
