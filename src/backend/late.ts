// When the kernel threads share the machine with other busy processes, a worker woken for a task can wait
// milliseconds for a core while the caller spins: measured on 2 cores with two other processes running, the
// reference CNN trained at 555 samples/s on 2 threads and 2,262 on 1. So the pool watches how long its workers
// take to start a task, and runs on the calling thread alone for a while when they keep starting late.

/** A worker that starts a task more than this many ms after it was posted is late (woken ones take ~0.1 ms). */
export const LATE_MS = 1;
/**
 * Late calls among the last WINDOW before the pool runs alone: an idle virtual machine has a few late wake-ups
 * in a row too, a busy one has late calls among on-time ones.
 */
export const LATE_CALLS = 8;
export const WINDOW = 16;
/** How long the pool first runs alone before it tries its workers again (ms); doubled each time they are late. */
export const SOLO_MS = 2000;
/** The longest solo period (ms). */
export const MAX_SOLO_MS = 32000;
/** Calls on time in a row after which the solo period is back to SOLO_MS. */
export const RECOVER_CALLS = 100;

/** The pool's record of its workers' start delays, and whether it should run alone now. */
export class LateWorkers {
  /** The last WINDOW calls, one bit each (1: late), newest lowest. */
  private history = 0;
  private onTime = 0;
  private until = -Infinity;
  private period = SOLO_MS;
  /** Set when a run of late calls starts a solo period: the next advice reads the clock. */
  tripped = false;
  /** Solo periods started so far. */
  trips = 0;

  /** One threaded call's lateness (ms: its slowest worker's start delay, or the caller's wait), at `now` (ms). */
  record(delayMs: number, now: number): void {
    const late = delayMs > LATE_MS;
    this.history = ((this.history << 1) | +late) & ((1 << WINDOW) - 1);
    if (late) this.onTime = 0;
    else if (++this.onTime >= RECOVER_CALLS) this.period = SOLO_MS;
    if (popcount(this.history) < LATE_CALLS) return;
    // A machine that stays busy is probed less and less often: each probe costs some slow calls.
    this.history = 0;
    this.until = now + this.period;
    this.period = Math.min(2 * this.period, MAX_SOLO_MS);
    this.tripped = true;
    this.trips++;
  }

  /** Whether to run on the calling thread alone at time `now`: within the solo period of the last late run. */
  solo(now: number): boolean {
    const s = now < this.until;
    this.tripped = s;
    return s;
  }
}

function popcount(x: number): number {
  let n = 0;
  for (; x; x &= x - 1) n++;
  return n;
}
