// Discrete control-affine plants x' = f(x) + g(x)u with quadratic stage cost, built from continuous
// dynamics by a fixed-step integrator. The step is written with Frugal's ops, so the Jacobians
// f_x = ∂x'/∂x and f_u = ∂x'/∂u come from autograd rather than from hand-derived formulas.
import { Tensor, noGrad } from '../../core/tensor.js';
import { add, concat, matmul, mul, slice } from '../../ops/index.js';
import { checkLinearSystem, type LinearSystem } from './dare.js';
import { checkDefinite, checkMatrix, type Mat } from './linalg.js';

/**
 * A discrete-time plant with stage cost c(x, u) = w·((x − r)ᵀQ(x − r) + uᵀRu) (w = dt for a plant
 * integrated from continuous time: the cost integrated over one step by the rectangle rule).
 */
export interface Plant {
  readonly name: string;
  /** States and inputs. */
  readonly n: number;
  readonly m: number;
  /** Step length in the plant's time unit (1 for a plant given in discrete time). */
  readonly dt: number;
  /** x' = φ(x, u) on the tape: x [N, n], u [N, m] (float64) → [N, n]. */
  step(x: Tensor, u: Tensor): Tensor;
  readonly Q: Mat;
  readonly R: Mat;
  /** The state the cost pulls towards (zeros when omitted). */
  readonly xRef: number[];
  /** w of the stage cost. */
  readonly costWeight: number;
  /** Box of initial states: training and test states are drawn inside it. */
  readonly box: { lo: number[]; hi: number[] };
  /** |u| bound applied to the actor's target (spec 08: clip ±1 on the CSTR); none when unconstrained. */
  readonly uClip?: number;
  /**
   * |xᵢ| beyond which a training rollout stops (the CSTR: 2, its scaled states' sane range); default 10× the box.
   */
  readonly stateBound?: number;
  /** The (A, B, Q, R) of a linear plant, for the Riccati oracle. */
  readonly linear?: LinearSystem;
}

/** Continuous dynamics ẋ = F(x, u) written with Frugal ops: x [N, n], u [N, m] → [N, n]. */
export type Dynamics = (x: Tensor, u: Tensor) => Tensor;

/** Column i of x [N, k] as [N, 1] (on the tape). */
export const col = (x: Tensor, i: number): Tensor => slice(x, [0, i], [x.shape[0], i + 1]);
/** Columns [N, 1] side by side as [N, k]. */
export const cols = (c: Tensor[]): Tensor => concat(c, 1);

/**
 * One integrator step of ẋ = F(x, u) with u held over the step: Euler x + dt·F, or classic RK4
 * x + dt/6·(k₁ + 2k₂ + 2k₃ + k₄). Euler keeps a control-affine F exactly control-affine; RK4 is
 * affine in u only to first order, and g(x) is then read as f_u.
 */
export function integrate(F: Dynamics, x: Tensor, u: Tensor, dt: number, method: 'euler' | 'rk4'): Tensor {
  if (method === 'euler') return add(x, mul(F(x, u), dt));
  const k1 = F(x, u),
    k2 = F(add(x, mul(k1, dt / 2)), u),
    k3 = F(add(x, mul(k2, dt / 2)), u),
    k4 = F(add(x, mul(k3, dt)), u);
  return add(x, mul(add(add(k1, k4), mul(add(k2, k3), 2)), dt / 6));
}

export interface ContinuousPlantOptions {
  name: string;
  n: number;
  m: number;
  dynamics: Dynamics;
  dt: number;
  method?: 'euler' | 'rk4';
  Q: Mat;
  R: Mat;
  xRef?: number[];
  box: { lo: number[]; hi: number[] };
  uClip?: number;
  stateBound?: number;
}

function checkCost(Q: Mat, R: Mat, n: number, m: number, where: string): void {
  checkMatrix(Q, n, n, `${where}.Q`);
  checkMatrix(R, m, m, `${where}.R`);
  checkDefinite(Q, `${where}.Q`, false);
  checkDefinite(R, `${where}.R`, true);
}

/** A plant from continuous dynamics, discretised by Euler or RK4 (default) with step dt. */
export function continuousPlant(o: ContinuousPlantOptions): Plant {
  checkCost(o.Q, o.R, o.n, o.m, o.name);
  if (!(o.dt > 0)) throw new Error(`${o.name}: dt must be positive, got ${o.dt}`);
  const method = o.method ?? 'rk4';
  return {
    name: o.name,
    n: o.n,
    m: o.m,
    dt: o.dt,
    step: (x, u) => integrate(o.dynamics, x, u, o.dt, method),
    Q: o.Q,
    R: o.R,
    xRef: o.xRef ?? new Array<number>(o.n).fill(0),
    costWeight: o.dt,
    box: o.box,
    ...(o.uClip !== undefined ? { uClip: o.uClip } : {}),
    ...(o.stateBound !== undefined ? { stateBound: o.stateBound } : {}),
  };
}

const f64 = (m: Mat): Tensor => Tensor.from(m.flat(), [m.length, m[0].length], 'float64');

/** The discrete plant x' = Ax + Bu, c = xᵀQx + uᵀRu; fields checked (shapes, Q ⪰ 0, R ≻ 0). */
export function linearPlant(sys: Partial<LinearSystem>, opts: { name?: string; box?: number } = {}): Plant {
  const s = checkLinearSystem(sys, opts.name ?? 'plant');
  const n = s.A.length,
    m = s.B[0].length,
    At = f64(s.A[0].map((_, j) => s.A.map((r) => r[j]))),
    Bt = f64(s.B[0].map((_, j) => s.B.map((r) => r[j]))),
    b = opts.box ?? 1;
  return {
    name: opts.name ?? 'linear',
    n,
    m,
    dt: 1,
    step: (x, u) => add(matmul(x, At), matmul(u, Bt)),
    Q: s.Q,
    R: s.R,
    xRef: new Array<number>(n).fill(0),
    costWeight: 1,
    box: { lo: new Array<number>(n).fill(-b), hi: new Array<number>(n).fill(b) },
    linear: s,
  };
}

/** Stage costs of N rows (float64, no tape): w·((x − r)ᵀQ(x − r) + uᵀRu). */
export function stageCost(p: Plant, x: ArrayLike<number>, u: ArrayLike<number>, N: number): Float64Array {
  const { n, m } = p,
    out = new Float64Array(N);
  for (let k = 0; k < N; k++) {
    let c = 0;
    for (let i = 0; i < n; i++)
      for (let j = 0; j < n; j++) c += (x[k * n + i] - p.xRef[i]) * p.Q[i][j] * (x[k * n + j] - p.xRef[j]);
    for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) c += u[k * m + i] * p.R[i][j] * u[k * m + j];
    out[k] = p.costWeight * c;
  }
  return out;
}

/** x' for N rows without the tape (float64). */
export function stepRows(p: Plant, x: ArrayLike<number>, u: ArrayLike<number>, N: number): Float64Array {
  return noGrad(() => {
    const y = p.step(Tensor.from(x, [N, p.n], 'float64'), Tensor.from(u, [N, p.m], 'float64'));
    return Float64Array.from(y.data);
  });
}

/** x' and the discrete-map Jacobians of N rows: fx [N, n, n] (∂x'ᵢ/∂xⱼ), fu [N, n, m], by autograd. */
export interface StepJacobians {
  next: Float64Array;
  fx: Float64Array;
  fu: Float64Array;
}

/**
 * Jacobians of the step by reverse mode. Rows are independent and the tape is freed by a backward
 * pass, so the batch is stacked n times: copy i is seeded with output column i, and one forward and
 * one backward give row i of every sample's Jacobian.
 */
export function stepJacobians(p: Plant, x: ArrayLike<number>, u: ArrayLike<number>, N: number): StepJacobians {
  const { n, m } = p;
  const xr = new Float64Array(n * N * n),
    ur = new Float64Array(n * N * m),
    seed = new Float64Array(n * N * n);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < N * n; k++) xr[i * N * n + k] = x[k];
    for (let k = 0; k < N * m; k++) ur[i * N * m + k] = u[k];
    for (let k = 0; k < N; k++) seed[(i * N + k) * n + i] = 1;
  }
  const xt = new Tensor(xr, [n * N, n], true),
    ut = new Tensor(ur, [n * N, m], true);
  const y = p.step(xt, ut);
  const next = Float64Array.from(y.data.subarray(0, N * n));
  y.backward(new Tensor(seed, [n * N, n]));
  const gx = (xt.grad as Tensor | null)?.data,
    gu = (ut.grad as Tensor | null)?.data;
  const fx = new Float64Array(N * n * n),
    fu = new Float64Array(N * n * m);
  for (let i = 0; i < n; i++)
    for (let k = 0; k < N; k++) {
      for (let j = 0; j < n; j++) fx[k * n * n + i * n + j] = gx ? gx[(i * N + k) * n + j] : 0;
      for (let j = 0; j < m; j++) fu[k * n * m + i * m + j] = gu ? gu[(i * N + k) * m + j] : 0;
    }
  return { next, fx, fu };
}
