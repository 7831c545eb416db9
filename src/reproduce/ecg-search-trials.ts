// TO BE REPLACED BY src/search AT MERGE (issue 25, point 1): the two pieces of the search engine this reproduction
// needs, kept to a minimum — a seeded draw from spec 09's space with rejection of invalid draws, and the robust
// per-hyperparameter median of the top-k. When src/search lands, express the space in its JSON form
// ({ N: int 1..7, per block: F int 5..50, K int 5..100 }) and call its sampler and robustSetting instead.
import type { Rng } from '../index.js';
import type { EcgParams } from '../index.js';

/** A box of the space: inclusive integer ranges of N, F_i and K_i. */
export interface EcgSpace {
  blocks: readonly [number, number] | readonly number[];
  filters: readonly [number, number] | readonly number[];
  kernels: readonly [number, number] | readonly number[];
}

/** Spec 09's grid (Krasteva et al. 2020): N ∈ {1..7}, F_i ∈ [5, 50], K_i ∈ [5, 100]. */
export const ECG_SPACE: EcgSpace = { blocks: [1, 7], filters: [5, 50], kernels: [5, 100] };

/** A finished search trial: its setting and its best validation BAC over the epochs. */
export interface Trial extends EcgParams {
  id: number;
  bac: number;
}

const uniformInt = (rng: Rng, [lo, hi]: readonly number[]) => lo + rng.int(hi - lo + 1);

/** Fewest samples n blocks need under 'valid' padding with the smallest kernel k: m ← 2m + k − 1 from m = 1. */
const minSamples = (n: number, k: number) => Array.from({ length: n }).reduce<number>((m) => 2 * m + k - 1, 1);

/**
 * One draw from spec 09's space: N ~ U{1..7}, then per block F_i ~ U{5..50} and K_i ~ U{5..100}. A K_i that
 * leaves too few samples for the remaining blocks (even at the smallest kernel) under 'valid' padding is rejected
 * and redrawn, so N stays uniform over the feasible N and each K_i uniform over its feasible range; an N that no
 * kernels fit is rejected and redrawn (with 625 samples N = 7 needs ≥ 636: never feasible). Reasons are returned.
 */
export function sample(
  rng: Rng,
  samples = 625,
  space: EcgSpace = ECG_SPACE,
): { params: EcgParams; rejected: string[] } {
  const rejected: string[] = [],
    kMin = space.kernels[0];
  for (let tries = 0; tries < 1000; tries++) {
    const n = uniformInt(rng, space.blocks);
    if (minSamples(n, kMin) > samples) {
      rejected.push(`N=${n}: needs ≥ ${minSamples(n, kMin)} samples at K=${kMin}, the input has ${samples}`);
      continue;
    }
    const filters: number[] = [],
      kernels: number[] = [];
    let t = samples;
    for (let i = 0; i < n; i++) {
      filters.push(uniformInt(rng, space.filters));
      for (;;) {
        const k = uniformInt(rng, space.kernels),
          next = Math.floor((t - k + 1) / 2);
        if (next >= minSamples(n - 1 - i, kMin)) {
          kernels.push(k);
          t = next;
          break;
        }
        rejected.push(`N=${n} block ${i + 1} K=${k}: length ${t} → ${next}, too short for the blocks after it`);
      }
    }
    return { params: { filters, kernels }, rejected };
  }
  throw new Error(`no valid draw from the ECG space in 1000 tries for ${samples} samples`);
}

const median = (v: number[]) => {
  const s = [...v].sort((a, b) => a - b),
    m = s.length >> 1;
  return s.length % 2 ? s[m] : Math.round((s[m - 1] + s[m]) / 2);
};

/**
 * The robust setting of spec 09 (step 3): among the trials with N blocks, the top-k by BAC; F_i and K_i are the
 * medians of the top-k's F_i and K_i (an even k rounds the mean of the middle two). Null when fewer than k trials
 * have N blocks. Ties in BAC keep the earlier trial.
 */
export function medianOfTop(trials: Trial[], k: number, n: number): EcgParams | null {
  const top = trials
    .filter((t) => t.filters.length === n)
    .sort((a, b) => b.bac - a.bac || a.id - b.id)
    .slice(0, k);
  if (top.length < k || k < 1) return null;
  const col = (key: 'filters' | 'kernels', i: number) => median(top.map((t) => t[key][i]));
  return {
    filters: Array.from({ length: n }, (_, i) => col('filters', i)),
    kernels: Array.from({ length: n }, (_, i) => col('kernels', i)),
  };
}
