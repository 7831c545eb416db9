// Running statistics of the importance weights an epoch drew, shared by the unbiased samplers.

/** Sums over one epoch's draws: enough for the max weight and Kish's effective sample size. */
export class WeightTally {
  draws = 0;
  sum = 0;
  sum2 = 0;
  max = 0;

  add(w: number): void {
    this.draws++;
    this.sum += w;
    this.sum2 += w * w;
    if (w > this.max) this.max = w;
  }

  /**
   * Kish's effective sample size as a share of the draws, (Σω)² / (n·Σω²) ∈ (0, 1]: 1 when every
   * weight is equal (uniform sampling), small when a few rows carry most of the weight.
   */
  essFraction(): number {
    return this.sum2 > 0 ? (this.sum * this.sum) / this.sum2 / this.draws : 1;
  }

  summary(): { maxWeight: number; meanWeight: number; effectiveSampleSize: number; draws: number } {
    return {
      maxWeight: this.max,
      meanWeight: this.draws ? this.sum / this.draws : 0,
      effectiveSampleSize: this.essFraction(),
      draws: this.draws,
    };
  }
}

/** Rejects a non-finite or negative per-sample score, naming the row (fit() adds the epoch and step). */
export function checkScores(s: ArrayLike<number>, what: string): void {
  for (let j = 0; j < s.length; j++) {
    const v = s[j];
    if (!(v >= 0) || !Number.isFinite(v)) {
      throw new Error(`sampler: per-sample ${what} ${v} at batch row ${j}; the model's outputs are not finite`);
    }
  }
}
