// Online Batch Selection (Loshchilov & Hutter, ICLR 2016 workshop, arXiv 1511.06343), an anchor of
// spec 10: rows ranked by their latest loss, drawn with rank-based probabilities, NOT reweighted.
import { drawBatch, epochRng, type Sampler } from '../../data/sampler.js';
import { checkScores } from './stats.js';
import type { RowScorer } from './kf.js';

export interface ObsOptions {
  seed?: number;
  /** s_e, the ratio between the probabilities of the hardest and the easiest row (default 100). */
  selectionPressure?: number;
  /** Rows drawn per epoch (default: the dataset's size). */
  numSamples?: number;
  /**
   * Each row's current loss (lossScorer(model, train)): every row is re-scored at the start of every epoch, as
   * spec 10 runs OBS, at the cost of one forward pass over the data (counted in epochStats). Without it the
   * ranking uses the losses the training steps observed, which may be epochs old.
   */
  rescore?: RowScorer;
}

interface ObsState {
  /** Latest observed loss of each row; −1 for a row not seen yet. */
  loss: number[];
  /** Epoch (1-based) at which each row's loss was last observed; 0 for never. */
  seenAt: number[];
  epoch: number;
}

/**
 * The OBS distribution over n rows ranked by loss (rank 0 = highest loss):
 * p(r) ∝ exp(−r·ln(s_e)/n), so p(0)/p(n−1) ≈ s_e. Rows never seen rank first (loss +∞), ties by index.
 */
export function obsProbabilities(loss: ArrayLike<number>, selectionPressure: number): Float64Array {
  const n = loss.length,
    key = (i: number) => (loss[i] < 0 ? Infinity : loss[i]);
  const order = Array.from({ length: n }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
  const p = new Float64Array(n),
    decay = Math.log(selectionPressure) / n;
  let s = 0;
  for (let r = 0; r < n; r++) s += p[order[r]] = Math.exp(-r * decay);
  for (let i = 0; i < n; i++) p[i] /= s;
  return p;
}

/** An OBS sampler: marked biased, it attaches no weights. */
export interface ObsSampler extends Sampler {
  /** True: the estimator leans toward hard rows on purpose (no importance weights). */
  readonly biased: true;
}

/**
 * Online Batch Selection: at the start of every epoch, rank the rows by their latest observed loss
 * and draw the epoch's batches with replacement from p(rank r) ∝ exp(−r·ln(s_e)/n) (s_e = 100
 * constant, spec 10). BIASED: no importance weights, so training leans toward hard rows and the
 * mean batch gradient is not the full gradient. Rows not yet seen rank first. Losses come from
 * the training steps (observe), so a row's loss can be epochs old; epochStats reports the ages.
 * ```ts
 * fit(model, { train, epochs: 10, batchSize: 64, optimizer, sampler: obsSampler({ seed: 1 }) });
 * ```
 */
export function obsSampler(opts: ObsOptions = {}): ObsSampler {
  const se = opts.selectionPressure ?? 100,
    seed = opts.seed ?? 0;
  if (!(se >= 1) || !Number.isFinite(se)) throw new Error(`sampler: selectionPressure must be ≥ 1, got ${se}`);
  if (opts.numSamples !== undefined && !(Number.isInteger(opts.numSamples) && opts.numSamples >= 1)) {
    throw new Error(`sampler: numSamples must be a positive integer, got ${opts.numSamples}`);
  }
  let st: ObsState | null = null;
  let epochP: Float64Array | null = null;
  let rescored = 0;
  const perEpoch = (rows: number) => opts.numSamples ?? rows;
  const state = (n: number): ObsState => {
    if (!st) st = { loss: new Array(n).fill(-1), seenAt: new Array(n).fill(0), epoch: 0 };
    if (st.loss.length !== n) {
      throw new Error(`sampler: OBS holds losses of ${st.loss.length} rows, the dataset has ${n}`);
    }
    return st;
  };
  return {
    biased: true,
    requiresFeedback: true,
    length: (rows, bs, dropLast) => (dropLast ? Math.floor : Math.ceil)(perEpoch(rows) / bs),
    *batches(epoch, rows, bs, dropLast) {
      const s = state(rows);
      s.epoch = epoch + 1;
      rescored = 0;
      if (opts.rescore) {
        const loss = opts.rescore(Int32Array.from({ length: rows }, (_, i) => i));
        checkScores(loss, 'loss');
        for (let i = 0; i < rows; i++) {
          s.loss[i] = loss[i];
          s.seenAt[i] = s.epoch;
        }
        rescored = rows;
      }
      const p = (epochP = obsProbabilities(s.loss, se));
      const all = drawBatch(p, perEpoch(rows), epochRng(seed, epoch), true, false).index;
      const count = (dropLast ? Math.floor : Math.ceil)(all.length / bs);
      for (let b = 0; b < count; b++) yield { index: all.subarray(b * bs, Math.min(all.length, (b + 1) * bs)) };
    },
    observe(indices, loss) {
      checkScores(loss, 'loss');
      if (!st) throw new Error('sampler: OBS got feedback before drawing a batch; call batches() first');
      const s = st;
      for (let j = 0; j < indices.length; j++) {
        s.loss[indices[j]] = loss[j];
        s.seenAt[indices[j]] = s.epoch;
      }
    },
    epochStats() {
      if (!st || !epochP) return {};
      let seen = 0,
        age = 0,
        maxAge = 0,
        pmax = 0,
        pmin = Infinity;
      for (let i = 0; i < st.loss.length; i++) {
        if (st.seenAt[i]) {
          seen++;
          age += st.epoch - st.seenAt[i];
          maxAge = Math.max(maxAge, st.epoch - st.seenAt[i]);
        }
        pmax = Math.max(pmax, epochP[i]);
        pmin = Math.min(pmin, epochP[i]);
      }
      return {
        biased: true,
        maxWeight: 1,
        seenRows: seen,
        meanLossAge: seen ? age / seen : 0,
        maxLossAge: maxAge,
        pRatio: pmax / pmin,
        extraForwardRows: rescored,
      };
    },
    stateDict: () => (st ? { loss: [...st.loss], seenAt: [...st.seenAt], epoch: st.epoch } : null),
    loadStateDict(v: unknown) {
      if (v === null) return void (st = null);
      const o = v as ObsState;
      if (!o || !Array.isArray(o.loss) || !Array.isArray(o.seenAt) || o.loss.length !== o.seenAt.length) {
        throw new Error('sampler: saved OBS state is malformed; resume with the same sampler and data');
      }
      st = { loss: [...o.loss], seenAt: [...o.seenAt], epoch: o.epoch };
    },
  };
}
