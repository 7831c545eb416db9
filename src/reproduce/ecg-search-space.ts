// The reproduction's use of src/search: trial i's draw from spec 09's space, and the robust settings by N.
import { ECG_SPACE, ecgDrawCheck, ecgParamsOf, ecgFlatParams, robustSetting, sampleParams } from '../index.js';
import type { ParamDef } from '../index.js';
import type { EcgParams } from '../index.js';

/**
 * Trial `i`'s draw (src/search's sampleParams seeded by (seed, i), as a study of the engine draws it), with
 * the rejected draws counted by reason.
 */
export function drawEcgTrial(space: Record<string, ParamDef>, seed: number, i: number, samples = 625) {
  const { params, rejections } = sampleParams(space, seed, i, ecgDrawCheck(samples));
  return { params: ecgParamsOf(params), rejections };
}

/** A finished search trial: its setting and its best validation BAC over the epochs. */
export interface Trial extends EcgParams {
  id: number;
  bac: number;
}

/**
 * The robust settings of spec 09 (step 3) by N: src/search's robustSetting with groupBy N — per block, the
 * median of the top-k trials' F_i and K_i (ties in BAC keep the earlier trial; an even k rounds the mean of the
 * middle two half up). Only the N with at least k trials have a setting.
 */
export function robustByN(trials: Trial[], k: number): Map<number, EcgParams> {
  const scored = trials.map((t) => ({ number: t.id, value: t.bac, params: ecgFlatParams(t) }));
  const out = new Map<number, EcgParams>();
  // ECG_SPACE for the parameters' types only (N, F_i, K_i are ints: medians rounded); --quick's ranges differ.
  for (const g of robustSetting(scored, { topK: k, direction: 'maximize', groupBy: 'N', space: ECG_SPACE }))
    if (g.top.length === k) out.set(g.group as number, ecgParamsOf(g.setting));
  return out;
}
