/** Where progress goes: a terminal gets a redrawn bar, anything else plain log lines. */
export interface ProgressSink {
  isTTY?: boolean;
  write(s: string): unknown;
}

export interface ProgressState {
  epoch: number;
  epochs: number;
  batch: number;
  batches: number;
  loss: number;
  accuracy: number;
  samplesPerSecond: number;
}

function clock(s: number): string {
  if (!Number.isFinite(s)) return '--:--';
  s = Math.round(s);
  const h = Math.floor(s / 3600),
    m = Math.floor((s % 3600) / 60),
    sec = s % 60;
  return `${h ? `${h}:` : ''}${String(m).padStart(h ? 2 : 1, '0')}:${String(sec).padStart(2, '0')}`;
}

/** Training progress: a bar with loss, accuracy, samples/s and ETA on a TTY; one line per 10% otherwise. */
export class Progress {
  private lastPlain = -1;
  private lastDraw = 0;
  constructor(
    private readonly out: ProgressSink,
    private readonly batchSize: number,
  ) {}

  update(p: ProgressState): void {
    const remainingBatches = (p.epochs - p.epoch) * p.batches + (p.batches - p.batch);
    const eta = (remainingBatches * this.batchSize) / Math.max(p.samplesPerSecond, 1e-9);
    const acc = Number.isFinite(p.accuracy) ? ` acc ${(100 * p.accuracy).toFixed(1)}%` : '';
    const stats = `loss ${p.loss.toFixed(4)}${acc} ${Math.round(p.samplesPerSecond)} samples/s ETA ${clock(eta)}`;
    if (this.out.isTTY) {
      const now = Date.now();
      if (now - this.lastDraw < 100 && p.batch < p.batches) return;
      this.lastDraw = now;
      const width = 24,
        fill = Math.round((width * p.batch) / p.batches);
      const bar = '='.repeat(Math.max(0, fill - 1)) + (fill ? '>' : '') + ' '.repeat(width - fill);
      this.out.write(`\r\x1b[2Kepoch ${p.epoch}/${p.epochs} [${bar}] ${p.batch}/${p.batches} ${stats}`);
    } else {
      const decile = Math.floor((10 * p.batch) / p.batches);
      if (decile === this.lastPlain && p.batch < p.batches) return;
      this.lastPlain = p.batch === p.batches ? -1 : decile;
      this.out.write(`epoch ${p.epoch}/${p.epochs} batch ${p.batch}/${p.batches} ${stats}\n`);
    }
  }

  /** A line that ends the bar (epoch summary). */
  line(s: string): void {
    this.out.write(this.out.isTTY ? `\r\x1b[2K${s}\n` : `${s}\n`);
  }
}
