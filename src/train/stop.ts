// Stopping a training run cleanly (Ctrl-C, SIGTERM, a browser's "stop" button): fit() checks a stop request
// between steps, finishes the current step, writes a checkpoint at that batch and throws TrainingInterrupted.
// The loop is synchronous, so the request is a flag it reads (an AbortSignal, or a flag in shared memory
// set by another thread); a process-wide default lets a program stop every fit() it runs, also those deep
// inside a technique or a reproduction, without passing the signal through each.

/** What fit() reads between steps; an AbortSignal is one. */
export interface StopSignal {
  readonly aborted: boolean;
}

let processSignal: StopSignal | undefined;

/**
 * Set (or clear, with undefined) the stop request every fit() call watches when its own `signal` option
 * is not given. The CLI sets it to a flag its signal handler raises.
 * @example
 * const ac = new AbortController(); setDefaultStopSignal(ac.signal); // later: ac.abort()
 */
export function setDefaultStopSignal(signal: StopSignal | undefined): void {
  processSignal = signal;
}

/** The stop request set by setDefaultStopSignal, if any. */
export function defaultStopSignal(): StopSignal | undefined {
  return processSignal;
}

/**
 * fit() stopped on request after finishing a step. `epoch` is 1-based; `batch` is the number of
 * batches done in it (0: at the epoch's start). `checkpointed` says whether a checkpoint holding
 * exactly this point was written (fit's `checkpoint` option), so `resume: true` continues from it.
 */
export class TrainingInterrupted extends Error {
  constructor(
    readonly epoch: number,
    readonly batch: number,
    readonly checkpointed: boolean,
  ) {
    super(`interrupted at epoch ${epoch}, batch ${batch}`);
    this.name = 'TrainingInterrupted';
  }
}
