// Spec 09's search space in src/search's JSON form (Krasteva et al. 2020: N blocks of F_i filters of kernel K_i),
// and the translations between the engine's flat draws ({ N, "blocks.0.F", "blocks.0.K", … }) and EcgParams.
import type { DrawCheck, ParamDef, Params } from '../../search/space.js';
import { ecgLengths, type EcgParams } from './model.js';

/** Inclusive integer ranges of N, F_i and K_i. */
export interface EcgBox {
  blocks: readonly number[];
  filters: readonly number[];
  kernels: readonly number[];
}

/**
 * A box as a src/search space: N ~ U{lo..hi}, then a repeat group over the N blocks drawing F_i and K_i.
 * Spec 09's grid (Krasteva et al. 2020) is N ∈ {1..7}, F_i ∈ [5, 50], K_i ∈ [5, 100] (ECG_SPACE).
 */
export function ecgSpace(b: EcgBox): Record<string, ParamDef> {
  const int = (r: readonly number[]): ParamDef => ({ type: 'int', min: r[0], max: r[1] });
  return {
    N: int(b.blocks),
    blocks: { type: 'repeat', count: 'N', params: { F: int(b.filters), K: int(b.kernels) } },
  };
}

/** Spec 09's whole grid as a JSON space. */
export const ECG_SPACE = ecgSpace({ blocks: [1, 7], filters: [5, 50], kernels: [5, 100] });

/** The architecture's setting of a flat draw (or of a robust setting, which has the same names). */
export function ecgParamsOf(p: Params): EcgParams {
  const n = p.N as number;
  const col = (k: string) => Array.from({ length: n }, (_, i) => p[`blocks.${i}.${k}`] as number);
  return { filters: col('F'), kernels: col('K') };
}

/** The flat draw of a setting. */
export function ecgFlatParams(e: EcgParams): Params {
  const p: Params = { N: e.filters.length };
  e.filters.forEach((f, i) => Object.assign(p, { [`blocks.${i}.F`]: f, [`blocks.${i}.K`]: e.kernels[i] }));
  return p;
}

/**
 * Spec 09's rejection rule as a draw check: a draw whose 'valid'-padding length T → ⌊(T − K_i + 1)/2⌋ reaches
 * ≤ 0 before global max-pooling is refused, the reason naming the block (numbers of a draw left out, so the
 * engine counts equal reasons together). With 625 samples N = 7 is always refused (≥ 636 needed at K = 5).
 */
export function ecgDrawCheck(samples = 625): DrawCheck {
  return (p) => {
    const i = ecgLengths(ecgParamsOf(p), samples).findIndex((l) => l < 1);
    return i < 0 ? null : `length ≤ 0 after block ${i + 1} under 'valid' padding`;
  };
}
