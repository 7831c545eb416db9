// Deep linear networks f(x) = W_L ⋯ W_1 x in float64 (spec 01, Shin), their initialisations and the
// check that a model handed to BCGD is one: BCGD's exact step relies on the loss being quadratic in
// each block, which only a product of matrices with nothing in between gives.
import { Rng } from '../../core/rng.js';
import type { ModelSpec } from '../../nn/spec.js';
import { householderQr, matmul, transpose, zeros, type FlopCounter, type Mat } from './mat.js';

/** Largest depth and width accepted (far above anything this float64 analysis can run in reasonable time). */
export const DEEP_LINEAR_LIMITS = { maxDepth: 64, maxWidth: 8192 } as const;

/**
 * A deep linear network: widths n_0 = d_x, n_1, …, n_L = d_y and weights W_j ∈ R^{n_j × n_{j−1}}
 * (weights[j − 1] is W_j), f(x) = W_L ⋯ W_1 x with no bias and no nonlinearity.
 */
export interface DeepLinear {
  widths: number[];
  weights: Mat[];
}

/** How the weights start: semi-orthogonal ("orthogonal-like", spec 01) or i.i.d. N(0, scale²/n_{j−1}). */
export type DeepLinearInit = 'orthogonal' | 'gaussian';

function checkInt(field: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    throw new RangeError(`${field} must be an integer in [${min}, ${max}], got ${String(v)}`);
  return v;
}

/**
 * The widths of a depth-L network of constant hidden width: [d_x, n, …, n, d_y] (L + 1 entries). Depth
 * 1 is [d_x, d_y] and ignores the width. Refuses a depth or width that is not a positive integer in
 * range, naming the field.
 */
export function deepLinearWidths(dx: number, dy: number, depth: number, width?: number): number[] {
  checkInt('dx (input dimension)', dx, 1, DEEP_LINEAR_LIMITS.maxWidth);
  checkInt('dy (output dimension)', dy, 1, DEEP_LINEAR_LIMITS.maxWidth);
  checkInt('depth', depth, 1, DEEP_LINEAR_LIMITS.maxDepth);
  if (depth === 1) return [dx, dy];
  const n = checkInt('width', width ?? Math.max(dx, dy), 1, DEEP_LINEAR_LIMITS.maxWidth);
  return [dx, ...new Array(depth - 1).fill(n), dy];
}

/** Checks a widths list [n_0, …, n_L] (L ≥ 1, every entry a positive integer in range). */
export function checkWidths(widths: number[]): void {
  if (!Array.isArray(widths) || widths.length < 2)
    throw new RangeError(
      `widths must list n_0 = d_x, …, n_L = d_y (at least 2 entries), got ${JSON.stringify(widths)}`,
    );
  checkInt('depth (widths.length − 1)', widths.length - 1, 1, DEEP_LINEAR_LIMITS.maxDepth);
  widths.forEach((n, i) => checkInt(`widths[${i}]`, n, 1, DEEP_LINEAR_LIMITS.maxWidth));
}

/**
 * A semi-orthogonal r×c matrix times `scale`: WᵀW = I when r ≥ c, WWᵀ = I otherwise — the Q factor of a
 * Gaussian matrix (spec 01's reading of "orthogonal-like"; the paper's exact recipe is not available).
 */
export function semiOrthogonal(r: number, c: number, rng: Rng, scale = 1): Mat {
  const tall = r >= c;
  const g = zeros(tall ? r : c, tall ? c : r);
  for (let i = 0; i < g.data.length; i++) g.data[i] = rng.normal();
  const { q, r: R } = householderQr(g);
  // Fix the signs by R's diagonal so Q is Haar-distributed, not biased by the Householder convention.
  const n = q.cols;
  for (let j = 0; j < n; j++) {
    const s = (R.data[j * n + j] < 0 ? -1 : 1) * scale;
    for (let i = 0; i < q.rows; i++) q.data[i * n + j] *= s;
  }
  return tall ? q : transpose(q);
}

/**
 * A deep linear network with the given widths, seeded: `orthogonal` makes every W_j semi-orthogonal (×
 * scale), `gaussian` draws W_j entries from N(0, scale²/n_{j−1}).
 */
export function initDeepLinear(
  widths: number[],
  opts: { init?: DeepLinearInit; seed?: number; scale?: number } = {},
): DeepLinear {
  checkWidths(widths);
  const rng = new Rng(opts.seed ?? 1);
  const init = opts.init ?? 'orthogonal',
    scale = opts.scale ?? 1;
  if (init !== 'orthogonal' && init !== 'gaussian')
    throw new RangeError(`init must be 'orthogonal' or 'gaussian', got ${JSON.stringify(init)}`);
  if (!(scale > 0) || !Number.isFinite(scale)) throw new RangeError(`scale must be a positive number, got ${scale}`);
  const weights = widths.slice(1).map((n, j) => {
    const c = widths[j];
    if (init === 'orthogonal') return semiOrthogonal(n, c, rng, scale);
    const w = zeros(n, c),
      sd = scale / Math.sqrt(c);
    for (let i = 0; i < w.data.length; i++) w.data[i] = sd * rng.normal();
    return w;
  });
  return { widths: [...widths], weights };
}

/** The end-to-end matrix W_{L:1} = W_L ⋯ W_1 (d_y × d_x). */
export function endToEnd(net: DeepLinear, fc?: FlopCounter): Mat {
  let p = net.weights[0];
  for (let j = 1; j < net.weights.length; j++) p = matmul(net.weights[j], p, {}, fc);
  return p;
}

/**
 * The widths of a deep linear network described by a model spec: only `linear` layers with
 * `"bias": false` (and `flatten`, which is the identity on features) are accepted. Anything else is
 * refused naming the layer, because BCGD's closed-form step holds only when the loss is quadratic in
 * each block, i.e. for a product of matrices with no bias and no nonlinearity in between.
 */
export function deepLinearFromSpec(spec: ModelSpec): number[] {
  if (!spec || !Array.isArray(spec.layers) || !Array.isArray(spec.input))
    throw new Error('not a model spec: it needs "input" and "layers"');
  const dx = spec.input.reduce((a, b) => a * b, 1);
  const widths = [dx];
  // Nonlinear layers first: they are the reason that matters (a bias alone could be dropped).
  spec.layers.forEach((l, i) => {
    if (l.type !== 'flatten' && l.type !== 'linear')
      throw new Error(
        `layer ${i} ('${l.type}') is not linear: BCGD trains deep LINEAR networks W_L⋯W_1 x (its exact step ` +
          'needs a loss quadratic in each layer); remove it or use another trainer',
      );
  });
  spec.layers.forEach((l, i) => {
    const where = `layer ${i} ('${l.type}')`;
    if (l.type === 'flatten') return;
    if (l.bias !== false)
      throw new Error(
        `${where} has a bias: BCGD fits W_L⋯W_1 x without biases; ` + 'set "bias": false and centre the data',
      );
    const prev = widths[widths.length - 1];
    if (l.in !== prev) throw new Error(`${where} takes in = ${String(l.in)} features but receives ${prev}`);
    widths.push(l.out as number);
  });
  if (widths.length < 2) throw new Error('the model has no linear layer: BCGD needs at least one weight matrix');
  checkWidths(widths);
  return widths;
}
