// A trial's per-epoch reports, written behind its objective: one write in flight at a time, and the reports that
// arrive meanwhile go together in the next. The objective waits for the store only when it must: a pruner reads
// the study, or the trial ends. On a shared store a report is a network round trip, and training need not wait
// for it.
import type { EpochValue, SearchStorage } from './study.js';

export class ReportWriter {
  private pending: EpochValue[] = [];
  private beat = false;
  private writing: Promise<void> | null = null;
  private failure: unknown = null;
  /** A write found the trial ended elsewhere (its worker was taken for dead and the trial re-queued or failed). */
  ended = false;

  constructor(
    private readonly storage: SearchStorage,
    private readonly trial: number,
    private readonly worker: string,
  ) {}

  /**
   * Queue a value; with `beat` its write is the worker's heartbeat too. With `hold` no write starts for it: it goes
   * with the next write (a later report's, one in flight, or the result's). Throws the error of a failed write.
   */
  add(epoch: number, value: number, beat: boolean, hold = false): void {
    if (this.failure) throw this.failure;
    this.pending.push({ epoch, value });
    this.beat ||= beat;
    if (!hold || beat) this.writing ??= this.drain();
  }

  private async drain(): Promise<void> {
    while (this.pending.length && !this.failure) {
      const batch = this.pending,
        beat = this.beat;
      this.pending = [];
      this.beat = false;
      try {
        if (!(await this.storage.report(this.trial, batch, this.worker, beat))) this.ended = true;
      } catch (e) {
        this.failure = e;
        // Kept, for the trial's result to carry (settle) if the objective ends well.
        this.pending = batch.concat(this.pending);
      }
    }
    this.writing = null;
  }

  /**
   * Wait for the write in flight and hand over the values still queued, a failed write's among them, for the caller
   * to write with the trial's result. (A failed write has already failed the next report; a trial whose objective
   * ended well is not failed for it.)
   */
  async settle(): Promise<EpochValue[]> {
    while (this.writing) {
      const w = this.writing;
      // Values queued after the write in flight would start their own write when it ends: take them first.
      const queued = this.pending;
      this.pending = [];
      await w;
      // After a failed write its values are back in pending: older than the queued ones, so first.
      this.pending = this.pending.concat(queued);
    }
    const rest = this.pending;
    this.pending = [];
    return rest;
  }

  /** Wait until every queued value is written; throws the error of a failed write. */
  async flush(): Promise<void> {
    while (this.writing) await this.writing;
    if (this.failure) throw this.failure;
  }
}
