// Layer-wise training of a deep linear network by block coordinate gradient descent (spec 01, Shin):
// one W_j per step, all others frozen, with the exact (fastest-decrease) step or the spectral bound.
import { endToEnd, type DeepLinear } from './network.js';
import { dims, lossOf, type LeastSquares } from './problem.js';
import { axpy, copyMat, dot, frob2, lambdaMax, matmul, scale, type FlopCounter, type Mat } from './mat.js';

/** `exact`: η* = m‖G‖²/‖AGB‖² (exact line search); `bound`: η = m/(σ_max(A)²·σ_max(B)²). */
export type BcgdStep = 'exact' | 'bound';
/** `forward`: layers 1..L in each sweep; `backward`: L..1. */
export type BcgdOrder = 'forward' | 'backward';

export interface BcgdOptions {
  step?: BcgdStep;
  order?: BcgdOrder;
  /** Stop after this many block steps (one sweep is L steps). */
  maxSteps?: number;
  /** Stop once the counted FLOPs pass this budget. */
  maxFlops?: number;
  /** With `optimum` (L*): stop once (L − L*)/(L_0 − L*) ≤ targetGap. */
  targetGap?: number;
  optimum?: number;
  /** Called after every step with the record just made (e.g. for progress). */
  onStep?: (r: BcgdStepRecord) => void;
}

/** One block step: the layer updated (1-based), its step size, and the loss and FLOPs after it. */
export interface BcgdStepRecord {
  step: number;
  layer: number;
  eta: number;
  /** L after the step, recomputed from the weights (not from the update formula). */
  loss: number;
  /** FLOPs counted from the start of the run, including the problem's setup (Gram matrices). */
  flops: number;
  /** True when ‖AGB‖ = 0 (G = 0 or a rank-deficient product): the step is skipped, not divided by zero. */
  skipped: boolean;
}

export interface BcgdResult {
  net: DeepLinear;
  /** Loss before any step (index 0) and after each step: losses[k] is L after k block steps. */
  losses: number[];
  /** Counted FLOPs at each entry of `losses` (flops[0] is the setup). */
  flops: number[];
  records: BcgdStepRecord[];
  steps: number;
  stoppedBy: 'target' | 'maxSteps' | 'maxFlops';
}

/**
 * Trains a deep linear network on a least-squares problem by cyclic BCGD and returns the loss after every
 * block step. With A := W_{L:j+1}, B := W_{j−1:1}X and residual R := A W_j B − Y, each step is
 *
 *   G_j = (1/m)·Aᵀ R Bᵀ,   W_j ← W_j − η·G_j,   L(W_j − ηG) = L − η‖G‖² + (η²/2m)‖AGB‖²,
 *
 * so the exact step η* = m‖G‖²/‖AGB‖² decreases the loss by m‖G‖⁴/(2‖AGB‖²), with no learning
 * rate. The Gram form runs the same step with X replaced by its Gram matrix C = XXᵀ: the "residual" is
 * E = W_{L:1}C − S, B is the prefix P = W_{j−1:1}, and ‖AGB‖² = ⟨AGP·C, AGP⟩. Depth 1 is steepest
 * descent with exact line search (η* = m‖G‖²/‖GX‖²). FLOPs counted per step: the GEMMs (2·M·N·K), the
 * norms and the updates, plus the suffix products W_{L:j+1} once per forward sweep (prefixes once per
 * backward sweep), plus power iterations for the bound step. The recorded loss is recomputed from the
 * weights after every step and not counted (monitoring only). The network is updated in place.
 *
 * ```ts
 * const p = directProblem(x, y), net = initDeepLinear(deepLinearWidths(10, 10, 4), { seed: 1 });
 * const r = trainBcgd(net, p, { optimum: optimum(p).loss, targetGap: 1e-6, maxSteps: 10_000 });
 * ```
 */
export function trainBcgd(net: DeepLinear, p: LeastSquares, opts: BcgdOptions = {}): BcgdResult {
  const { dx, dy } = dims(p);
  if (net.widths[0] !== dx || net.widths[net.widths.length - 1] !== dy)
    throw new RangeError(
      `the network maps ${net.widths[0]} → ${net.widths[net.widths.length - 1]} features but the problem has ` +
        `d_x = ${dx}, d_y = ${dy}`,
    );
  const step = opts.step ?? 'exact',
    order = opts.order ?? 'forward';
  if (step !== 'exact' && step !== 'bound') throw new RangeError(`step must be 'exact' or 'bound', got ${step}`);
  if (order !== 'forward' && order !== 'backward')
    throw new RangeError(`order must be 'forward' or 'backward', got ${order}`);
  const maxSteps = opts.maxSteps ?? 10_000;
  if (!Number.isInteger(maxSteps) || maxSteps < 0) throw new RangeError(`maxSteps must be an integer ≥ 0`);
  const L = net.weights.length,
    m = p.m,
    W = net.weights;
  const fc: FlopCounter = { flops: p.kind === 'gram' ? p.setupFlops : 0 };
  // Metric K of the inner dimension: identity (direct, q = m samples) or C (Gram, q = d_x).
  const applyK = (q: Mat): Mat => (p.kind === 'direct' ? q : matmul(q, p.c, {}, fc));
  const z0: Mat | null = p.kind === 'direct' ? p.x : null; // null: the identity (Gram form, P_0 = I)
  // E: R = W_{L:1}X − Y (direct) or W_{L:1}C − S (Gram); computed once, then updated by E ← E − η·AGB·K.
  const e = (() => {
    const out = applyK(z0 ? matmul(endToEnd(net, fc), z0, {}, fc) : endToEnd(net, fc));
    axpy(out, -1, p.kind === 'direct' ? p.y : p.s, fc);
    return out;
  })();
  const lossNow = () => lossOf(p, endToEnd(net));
  const loss0 = lossNow();
  const losses = [loss0],
    flops = [fc.flops],
    records: BcgdStepRecord[] = [];
  const gapOf = (l: number) => (l - opts.optimum!) / (loss0 - opts.optimum!);
  const reached = (l: number) =>
    opts.targetGap !== undefined && opts.optimum !== undefined && gapOf(l) <= opts.targetGap;
  // Power-iteration start vectors per layer (bound step), kept between sweeps.
  const startA = new Map<number, Float64Array>(),
    startB = new Map<number, Float64Array>();
  let lambdaC = -1;
  let k = 0,
    stoppedBy: BcgdResult['stoppedBy'] = reached(loss0) ? 'target' : 'maxSteps';
  // A product where null stands for the identity.
  const mul = (a: Mat | null, b: Mat | null): Mat | null => (a === null ? b : b === null ? a : matmul(a, b, {}, fc));
  sweeps: while (stoppedBy !== 'target' && k < maxSteps) {
    // suffix[j] = W_{L:j+1} (null = identity), prefix[j] = Z_j = W_{j:1}·Z_0 (null = identity).
    const suffix: (Mat | null)[] = new Array(L + 1).fill(null);
    const prefix: (Mat | null)[] = new Array(L + 1).fill(null);
    prefix[0] = z0;
    if (order === 'forward')
      for (let j = L - 1; j >= 1; j--) suffix[j] = j === L - 1 ? W[L - 1] : mul(suffix[j + 1], W[j]);
    else for (let j = 1; j < L; j++) prefix[j] = mul(W[j - 1], prefix[j - 1]);
    for (let s = 0; s < L; s++) {
      const j = order === 'forward' ? s + 1 : L - s;
      const A = suffix[j],
        Z = prefix[j - 1];
      const w = W[j - 1];
      // G = (1/m)·Aᵀ E Zᵀ
      const ez = Z ? matmul(e, Z, { tb: true }, fc) : e;
      const g = scale(A ? matmul(A, ez, { ta: true }, fc) : ez, 1 / m, fc);
      const g2 = frob2(g, fc);
      const ag = A ? matmul(A, g, {}, fc) : g;
      const q = Z ? matmul(ag, Z, {}, fc) : ag;
      const qk = applyK(q);
      const den = dot(qk, q, fc);
      let eta = 0;
      const skipped = !(den > 0) || !(g2 > 0);
      if (!skipped) {
        if (step === 'exact') eta = (m * g2) / den;
        else eta = m / (sigma2(A, startA, j, fc) * sigmaB2(Z, startB, j));
        axpy(w, -eta, g, fc);
        axpy(e, -eta, qk, fc);
      }
      if (order === 'forward' && j < L) prefix[j] = mul(w, Z);
      if (order === 'backward' && j > 1) suffix[j - 1] = j === L ? w : mul(A, w);
      k++;
      const l = lossNow();
      losses.push(l);
      flops.push(fc.flops);
      const rec = { step: k, layer: j, eta, loss: l, flops: fc.flops, skipped };
      records.push(rec);
      opts.onStep?.(rec);
      if (reached(l)) {
        stoppedBy = 'target';
        break sweeps;
      }
      if (k >= maxSteps) {
        stoppedBy = 'maxSteps';
        break sweeps;
      }
      if (opts.maxFlops !== undefined && fc.flops >= opts.maxFlops) {
        stoppedBy = 'maxFlops';
        break sweeps;
      }
    }
  }
  return { net, losses, flops, records, steps: k, stoppedBy };

  // σ_max(A)² = λ_max(AAᵀ) by power iteration on v ↦ A(Aᵀv) (1 for the identity).
  function sigma2(A: Mat | null, starts: Map<number, Float64Array>, j: number, f: FlopCounter): number {
    if (!A) return 1;
    if (!starts.has(j)) starts.set(j, new Float64Array(A.rows).fill(1));
    return lambdaMax(
      (v) => {
        f.flops += 4 * A.rows * A.cols;
        const u = new Float64Array(A.cols);
        for (let i = 0; i < A.rows; i++) for (let c = 0; c < A.cols; c++) u[c] += A.data[i * A.cols + c] * v[i];
        const out = new Float64Array(A.rows);
        for (let i = 0; i < A.rows; i++) for (let c = 0; c < A.cols; c++) out[i] += A.data[i * A.cols + c] * u[c];
        return out;
      },
      A.rows,
      starts.get(j),
    );
  }
  // σ_max(B)² = λ_max(Z K Zᵀ): B = Z (direct) or B = P X with ‖PX v‖² = vᵀP C Pᵀv (Gram).
  function sigmaB2(Z: Mat | null, starts: Map<number, Float64Array>, j: number): number {
    if (!Z && p.kind === 'gram') {
      if (lambdaC < 0) lambdaC = sigma2Sym(p.c);
      return lambdaC;
    }
    const zt = Z!;
    const kzt = p.kind === 'gram' ? matmul(p.c, zt, { tb: true }, fc) : null; // C Zᵀ, once per step
    if (!starts.has(j)) starts.set(j, new Float64Array(zt.rows).fill(1));
    return lambdaMax(
      (v) => {
        // u = Zᵀv (q), then K u, then Z(Ku).
        const q = zt.cols;
        const out = new Float64Array(zt.rows);
        if (kzt) {
          fc.flops += 4 * kzt.rows * kzt.cols;
          const u = new Float64Array(q);
          for (let i = 0; i < kzt.rows; i++)
            for (let c = 0; c < kzt.cols; c++) u[i] += kzt.data[i * kzt.cols + c] * v[c];
          for (let i = 0; i < zt.rows; i++) for (let c = 0; c < q; c++) out[i] += zt.data[i * q + c] * u[c];
          return out;
        }
        fc.flops += 4 * zt.rows * q;
        const u = new Float64Array(q);
        for (let i = 0; i < zt.rows; i++) for (let c = 0; c < q; c++) u[c] += zt.data[i * q + c] * v[i];
        for (let i = 0; i < zt.rows; i++) for (let c = 0; c < q; c++) out[i] += zt.data[i * q + c] * u[c];
        return out;
      },
      zt.rows,
      starts.get(j),
    );
  }
  function sigma2Sym(c: Mat): number {
    return lambdaMax((v) => {
      fc.flops += 2 * c.rows * c.cols;
      const out = new Float64Array(c.rows);
      for (let i = 0; i < c.rows; i++) for (let t = 0; t < c.cols; t++) out[i] += c.data[i * c.cols + t] * v[t];
      return out;
    }, c.rows);
  }
}

/** The relative gap (L − L*)/(L_0 − L*) of every entry of a loss curve. */
export function relativeGaps(losses: number[], optimumLoss: number): number[] {
  const d = losses[0] - optimumLoss;
  return losses.map((l) => (l - optimumLoss) / d);
}

/** The first index at which a curve of relative gaps is ≤ target, or -1. */
export function firstBelow(gaps: number[], target: number): number {
  return gaps.findIndex((g) => g <= target);
}

/** A copy of a network (BCGD trains in place). */
export function cloneNet(net: DeepLinear): DeepLinear {
  return { widths: [...net.widths], weights: net.weights.map(copyMat) };
}
