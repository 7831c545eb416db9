// Optimal control (spec 08): the oracles on their own (Riccati, iLQR, known V*), the plants'
// autograd Jacobians, GDHP's targets at the LQR fixed point, a quick GDHP run, resume and bad input.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CSTR,
  LQR_EXAMPLE,
  NonFiniteStateError,
  Tensor,
  cstrPlant,
  cstrScale,
  gainRelativeError,
  gdhpNetworks,
  gdhpTargets,
  ilqr,
  stageCost,
  learnedGain,
  linearPlant,
  linearPolicy,
  lqrPlant,
  nonlinearPlant,
  nonlinearU,
  nonlinearV,
  riccatiRecursion,
  rollout,
  solveDare,
  stepJacobians,
  stepRows,
  trainGdhp,
  type Plant,
} from '../src/index.js';
import { assertClose, memoryStore } from './helpers.js';

const flat = (m: number[][]) => m.flat();

test('DARE: scalar closed form p = (−(r(1−a²) − qb²) + √(…))/(2b²), and A = 0 gives P = Q', () => {
  for (const [a, b, q, r] of [
    [1.2, 1, 1, 1],
    [0.5, 2, 3, 0.5],
    [-1.5, 0.3, 2, 4],
  ]) {
    // b²p² + (r(1 − a²) − qb²)p − qr = 0, positive root.
    const B1 = r * (1 - a * a) - q * b * b,
      p = (-B1 + Math.sqrt(B1 * B1 + 4 * b * b * q * r)) / (2 * b * b);
    const s = solveDare({ A: [[a]], B: [[b]], Q: [[q]], R: [[r]] });
    assertClose(s.P[0], [p], 1e-10, 1e-10, `P for a=${a}`);
    assertClose(s.K[0], [(b * p * a) / (r + b * b * p)], 1e-10, 1e-10, 'K');
  }
  const Q = [
    [2, 0.5],
    [0.5, 1],
  ];
  const z = solveDare({
    A: [
      [0, 0],
      [0, 0],
    ],
    B: [[1], [0]],
    Q,
    R: [[1]],
  });
  assertClose(flat(z.P), flat(Q), 1e-12, 1e-12, 'P = Q');
  assertClose(flat(z.K), [0, 0], 1e-12, 0, 'K = 0');
});

test('DARE equals the Riccati recursion iterated to convergence, on test A and a 3-state 2-input system', () => {
  const three = {
    A: [
      [1.1, 0.3, 0],
      [0, 0.9, 0.2],
      [0.1, 0, 1.05],
    ],
    B: [
      [0.1, 0],
      [0, 0.2],
      [0.05, 0.1],
    ],
    Q: [
      [1, 0, 0],
      [0, 2, 0],
      [0, 0, 0.5],
    ],
    R: [
      [1, 0.2],
      [0.2, 2],
    ],
  };
  for (const sys of [LQR_EXAMPLE, three]) {
    const s = solveDare(sys),
      P = riccatiRecursion(sys, 3000);
    assertClose(flat(s.P), flat(P), 1e-8, 1e-9, 'P');
    assert.ok(s.residual < 1e-10);
  }
  // A different answer from a different system: the check can fail.
  const other = riccatiRecursion({ ...LQR_EXAMPLE, R: [[2]] }, 3000);
  assert.ok(Math.abs(other[0][0] - solveDare(LQR_EXAMPLE).P[0][0]) > 0.1);
});

test('bad input: R not positive definite, Q not PSD, mismatched dimensions, no stabilising solution', () => {
  const base = LQR_EXAMPLE;
  assert.throws(() => solveDare({ ...base, R: [[0]] }), /R must be positive definite/);
  assert.throws(() => solveDare({ ...base, R: [[-1]] }), /R must be positive definite/);
  assert.throws(
    () =>
      linearPlant({
        ...base,
        Q: [
          [1, 0],
          [0, -1],
        ],
      }),
    /Q must be positive semidefinite/,
  );
  assert.throws(
    () =>
      linearPlant({
        ...base,
        Q: [
          [1, 2],
          [0, 1],
        ],
      }),
    /Q must be symmetric/,
  );
  assert.throws(() => linearPlant({ ...base, B: [[1], [2], [3]] }), /B must have n = 2 rows/);
  assert.throws(
    () =>
      linearPlant({
        ...base,
        R: [
          [1, 0],
          [0, 1],
        ],
      }),
    /R \(m×m with m = 1 inputs/,
  );
  assert.throws(
    () =>
      linearPlant({
        ...base,
        A: [
          [1, 2, 3],
          [4, 5, 6],
        ],
      }),
    /A must be square/,
  );
  assert.throws(
    () =>
      linearPlant({
        ...base,
        A: [
          [1, NaN],
          [0, 1],
        ],
      }),
    /not a finite number/,
  );
  assert.throws(() => linearPlant({ ...base, Q: undefined }), /Q \(n×n with n = 2 states\) must be a non-empty array/);
  // An unstable mode the input cannot reach: no stabilising solution.
  assert.throws(
    () =>
      solveDare({
        A: [
          [2, 0],
          [0, 0.5],
        ],
        B: [[0], [1]],
        Q: [
          [1, 0],
          [0, 1],
        ],
        R: [[1]],
      }),
    /the plant \(A, B\) is not stabilizable: .*\|λ\| = 2\.000 .*rank \[B, AB, …\] = 1 < n = 2/,
  );
  // Refused up front (linearPlant, before any training): a marginal mode the input cannot reach, a zero B.
  const I2 = [
    [1, 0],
    [0, 1],
  ];
  const marginal = {
    A: [
      [1, 0],
      [0.5, 1],
    ],
    B: [[0], [1]],
    Q: I2,
    R: [[1]],
  };
  assert.throws(() => linearPlant(marginal), /not stabilizable: .*\|λ\| = 1\.000/);
  assert.throws(
    () => linearPlant({ ...LQR_EXAMPLE, B: [[0], [0]] }),
    /the plant \(A, B\) has no input: B is all zeros/,
  );
  // Uncontrollable but stable there, or controllable through A: accepted.
  linearPlant({
    ...marginal,
    A: [
      [0.5, 0],
      [1, 1.1],
    ],
  });
  linearPlant({
    ...marginal,
    A: [
      [1, 0.1],
      [0, 1],
    ],
    B: [[0], [1]],
  });
});

/** Central differences of the plant's step in float64. */
function fdJacobians(p: Plant, x: number[], u: number[], h = 1e-6): { fx: number[]; fu: number[] } {
  const { n, m } = p,
    fx = new Array<number>(n * n),
    fu = new Array<number>(n * m);
  const f = (xx: number[], uu: number[]) => stepRows(p, xx, uu, 1);
  for (let j = 0; j < n; j++) {
    const a = [...x],
      b = [...x];
    a[j] += h;
    b[j] -= h;
    const ya = f(a, u),
      yb = f(b, u);
    for (let i = 0; i < n; i++) fx[i * n + j] = (ya[i] - yb[i]) / (2 * h);
  }
  for (let j = 0; j < m; j++) {
    const a = [...u],
      b = [...u];
    a[j] += h;
    b[j] -= h;
    const ya = f(x, a),
      yb = f(x, b);
    for (let i = 0; i < n; i++) fu[i * m + j] = (ya[i] - yb[i]) / (2 * h);
  }
  return { fx, fu };
}

test("integrators' autograd Jacobians f_x, f_u equal central differences (Euler and RK4, batched rows)", () => {
  const cases: [Plant, number[][], number[][]][] = [
    [
      nonlinearPlant(0.05),
      [
        [0.7, -0.4],
        [-0.2, 0.9],
      ],
      [[0.3], [-1.1]],
    ],
    [
      cstrPlant(),
      [cstrScale(CSTR.x0), cstrScale(CSTR.x0).map((v, i) => v + 0.1 * (i % 3) - 0.1)],
      [
        [0.5, -0.3],
        [0, 0.8],
      ],
    ],
  ];
  for (const [p, xs, us] of cases) {
    const J = stepJacobians(p, xs.flat(), us.flat(), xs.length);
    xs.forEach((x, k) => {
      const fd = fdJacobians(p, x, us[k]);
      assertClose(J.fx.subarray(k * p.n * p.n, (k + 1) * p.n * p.n), fd.fx, 1e-7, 1e-5, `${p.name} fx row ${k}`);
      assertClose(J.fu.subarray(k * p.n * p.m, (k + 1) * p.n * p.m), fd.fu, 1e-7, 1e-5, `${p.name} fu row ${k}`);
    });
  }
  // The linear plant's Jacobians are A and B exactly.
  const J = stepJacobians(lqrPlant(), [0.5, -0.3], [0.1], 1);
  assertClose(J.fx, flat(LQR_EXAMPLE.A), 1e-15, 0, 'f_x = A');
  assertClose(J.fu, flat(LQR_EXAMPLE.B), 1e-15, 0, 'f_u = B');
});

test('LQR with linear networks: at the fixed point the costate target is 2Px and the actor target −K*x', () => {
  const p = lqrPlant(),
    s = solveDare(LQR_EXAMPLE);
  const nets = gdhpNetworks(2, 1, 'linear', 'tanh', 1);
  const set = (t: Tensor, v: number[]) => t.data.set(v);
  set(
    nets.costateTarget.parameters()[0],
    flat(s.P).map((v) => 2 * v),
  ); // Λ(x) = 2Px (W = 2P, symmetric)
  const x = Float64Array.from([0.5, -0.3, -0.8, 0.9, 0.1, 0.2]),
    u = linearPolicy(s.K)(x, 3);
  const t = gdhpTargets(p, nets, x, u, 3, 1);
  for (let k = 0; k < 3; k++) {
    const xk = [x[2 * k], x[2 * k + 1]];
    const lam = s.P.map((r) => 2 * (r[0] * xk[0] + r[1] * xk[1]));
    assertClose(t.costate.subarray(2 * k, 2 * k + 2), lam, 1e-5, 1e-5, `costate target row ${k}`);
    assertClose([t.action[k]], [-(s.K[0][0] * xk[0] + s.K[0][1] * xk[1])], 1e-5, 1e-5, `actor target row ${k}`);
  }
  // Away from the fixed point (Λ = 3Px) the target is not 2Px: the check can fail.
  set(
    nets.costateTarget.parameters()[0],
    flat(s.P).map((v) => 3 * v),
  );
  const off = gdhpTargets(p, nets, x, u, 3, 1);
  assert.ok(Math.abs(off.costate[0] - 2 * (s.P[0][0] * 0.5 - s.P[0][1] * 0.3)) > 0.1);
});

test('GDHP lookahead: at the LQR fixed point H-step targets are 2Px and −K*x; the value sums H stage costs', () => {
  const p = lqrPlant(),
    s = solveDare(LQR_EXAMPLE);
  const nets = gdhpNetworks(2, 1, 'linear', 'tanh', 1);
  nets.costateTarget.parameters()[0].data.set(flat(s.P).map((v) => 2 * v));
  nets.actor.parameters()[0].data.set(flat(s.K).map((v) => -v)); // π(x) = −K*x
  const x = Float64Array.from([0.5, -0.3, -0.8, 0.9, 0.1, 0.2]),
    u = linearPolicy(s.K)(x, 3);
  for (const H of [1, 5]) {
    const t = gdhpTargets(p, nets, x, u, 3, 1, H);
    for (let k = 0; k < 3; k++) {
      const xk = [x[2 * k], x[2 * k + 1]];
      const lam = s.P.map((r) => 2 * (r[0] * xk[0] + r[1] * xk[1]));
      assertClose(t.costate.subarray(2 * k, 2 * k + 2), lam, 1e-4, 1e-4, `H ${H}: costate target row ${k}`);
      assertClose([t.action[k]], [-(s.K[0][0] * xk[0] + s.K[0][1] * xk[1])], 1e-4, 1e-4, `H ${H}: actor row ${k}`);
    }
  }
  // The value target: five stage costs along π's rollout plus V_tgt at the fifth state.
  const ro = rollout(p, linearPolicy(s.K), x.subarray(0, 2), 1, 5);
  const x5 = ro.x.subarray(10, 12);
  const W = nets.criticTarget.parameters()[0].data,
    Wx = [W[0] * x5[0] + W[1] * x5[1], W[2] * x5[0] + W[3] * x5[1]];
  const five = gdhpTargets(p, nets, x, u, 3, 1, 5);
  assertClose([five.value[0]], [ro.cost[0] + Wx[0] ** 2 + Wx[1] ** 2], 1e-4, 1e-4, 'H-step value target');
  // With the actor off the optimum (π = −2K*x) the 5-step costate target is not 2Px: the check can fail.
  nets.actor.parameters()[0].data.set(flat(s.K).map((v) => -2 * v));
  const off = gdhpTargets(p, nets, x, u, 3, 1, 5);
  assert.ok(Math.abs(off.costate[0] - 2 * (s.P[0][0] * 0.5 - s.P[0][1] * 0.3)) > 0.01);
  assert.throws(() => trainGdhp(p, { episodes: 1, lookahead: 0 }), /lookahead must be a positive integer/);
  assert.throws(() => gdhpTargets(p, nets, x, u, 3, 1, 2.5), /lookahead must be a positive integer, got 2.5/);
});

test('known-V* system: the rollout cost of u* from x0 is V*(x0), with an O(dt) Euler error', () => {
  const star = (x: Float64Array, S: number) =>
    Float64Array.from({ length: S }, (_, s) => nonlinearU(x.subarray(2 * s, 2 * s + 2)));
  const x0 = [0.8, -0.5, -0.6, 0.7, 0.3, 0.4];
  const err = (dt: number) => {
    const r = rollout(nonlinearPlant(dt), star, x0, 3, Math.round(30 / dt));
    return [0, 1, 2].map((s) => r.cost[s] / nonlinearV(x0.slice(2 * s, 2 * s + 2)) - 1);
  };
  const e1 = err(0.01),
    e2 = err(0.005);
  e1.forEach((e, s) => {
    assert.ok(Math.abs(e) < 0.03, `row ${s}: relative error ${e} at dt = 0.01`);
    // Halving dt halves the error: the gap is the discretisation's, not a wrong V* or u*.
    assert.ok(Math.abs(e2[s] / e - 0.5) < 0.1, `row ${s}: error ${e} at dt = 0.01, ${e2[s]} at 0.005`);
  });
  // A worse policy costs more than V*.
  const weak = (x: Float64Array, S: number) => star(x, S).map((v) => 0.3 * v);
  assert.ok(rollout(nonlinearPlant(0.01), weak, x0, 3, 3000).cost[0] > 1.05 * nonlinearV([0.8, -0.5]));
});

test('rollout stops at a non-finite state and names the step', () => {
  const p = linearPlant({ A: [[1e30]], B: [[1]], Q: [[1]], R: [[1]] });
  assert.throws(
    () => rollout(p, (x, S) => new Float64Array(S), [1e10], 1, 50),
    (e: Error) => e instanceof NonFiniteStateError && /non-finite at step 10 \(of 50\), row 0/.test(e.message),
  );
});

test('iLQR on a linear plant reaches the Riccati cost x0ᵀPx0; on the CSTR it beats doing nothing', () => {
  const p = lqrPlant(),
    s = solveDare(LQR_EXAMPLE),
    x0 = [0.7, -0.4];
  const r = ilqr(p, x0, 150);
  const v = x0.reduce((a, xi, i) => a + xi * x0.reduce((b, xj, j) => b + s.P[i][j] * xj, 0), 0);
  assert.ok(Math.abs(r.cost - v) / v < 1e-6, `iLQR ${r.cost} vs x0ᵀPx0 ${v}`);
  const c = cstrPlant(),
    c0 = cstrScale(CSTR.x0);
  const idle = rollout(c, (x, S) => new Float64Array(S * 2), c0, 1, 120).cost[0];
  const best = ilqr(c, c0, 120, { maxIterations: 8 });
  assert.ok(best.cost < 0.8 * idle, `iLQR ${best.cost} vs open loop ${idle}`);
});

test('discounted iLQR reaches the discounted Riccati cost; its undiscounted cost is no lower than the optimum', () => {
  const g = 0.9,
    x0 = [0.7, -0.4],
    r = Math.sqrt(g);
  // Σ γᵏ(xᵀQx + uᵀRu) under x' = Ax + Bu is the undiscounted problem of (√γA, √γB): its DARE gives P_γ.
  const P = solveDare({
    ...LQR_EXAMPLE,
    A: LQR_EXAMPLE.A.map((row) => row.map((v) => r * v)),
    B: LQR_EXAMPLE.B.map((row) => row.map((v) => r * v)),
  }).P;
  const v = x0.reduce((a, xi, i) => a + xi * x0.reduce((b, xj, j) => b + P[i][j] * xj, 0), 0);
  const d = ilqr(lqrPlant(), x0, 300, { gamma: g }),
    u = ilqr(lqrPlant(), x0, 300);
  assert.ok(Math.abs(d.discountedCost - v) / v < 1e-6, `discounted ${d.discountedCost} vs x0ᵀP_γx0 ${v}`);
  assert.equal(u.discountedCost, u.cost);
  // The undiscounted solution's own discounted cost is above the discounted optimum by more than the bar: a
  // backward pass that ignored γ would land there, so the 1e-6 check can fail.
  let uDisc = 0;
  for (let k = 0; k < 300; k++)
    uDisc += g ** k * stageCost(lqrPlant(), u.x.subarray(2 * k, 2 * k + 2), u.u.subarray(k, k + 1), 1)[0];
  assert.ok((uDisc - v) / v > 1e-3, `undiscounted solution: discounted cost ${uDisc} vs ${v}`);
  assert.ok(d.cost >= u.cost * (1 - 1e-9), `undiscounted cost of the discounted solution ${d.cost} < ${u.cost}`);
  assert.throws(() => ilqr(lqrPlant(), x0, 10, { gamma: 1.5 }), /gamma must be in \(0, 1\]/);
});

test('quick GDHP on the LQR (linear networks) reaches the gain criterion ‖K − K*‖/‖K*‖ < 5%', () => {
  const s = solveDare(LQR_EXAMPLE);
  const r = trainGdhp(lqrPlant(), { arch: 'linear', episodes: 40, lr: 0.03, tau: 0.1, seed: 1 });
  const err = gainRelativeError(learnedGain(r.nets.actor, 2), s.K);
  assert.ok(err < 0.05, `gain error ${err}`);
  // Untrained (one short episode), the gain is far from K*: the criterion can fail.
  const early = trainGdhp(lqrPlant(), { arch: 'linear', episodes: 1, episodeLength: 5, lr: 0.03, seed: 1 });
  assert.ok(gainRelativeError(learnedGain(early.nets.actor, 2), s.K) > 0.5);
});

test('GDHP training resumes from its checkpoint with the same result as an uninterrupted run', () => {
  const opts = {
    arch: [8] as number[],
    episodes: 4,
    episodeLength: 10,
    parallel: 2,
    batchSize: 16,
    seed: 3,
    lrFloor: 0.1, // the decayed learning rates are recomputed from the episode on resume
  };
  const full = trainGdhp(nonlinearPlant(), opts);
  const store = memoryStore();
  const first = trainGdhp(nonlinearPlant(), {
    ...opts,
    checkpoint: store,
    onEpisode: (l) => (l.episode === 2 ? 'stop' : undefined),
  });
  assert.equal(first.history.length, 2);
  const rest = trainGdhp(nonlinearPlant(), { ...opts, checkpoint: store, resume: true });
  assert.equal(rest.resumedFromEpisode, 2);
  assert.equal(rest.history.length, 4);
  for (const k of ['actor', 'critic', 'costate', 'costateTarget'] as const) {
    const a = full.nets[k].parameters(),
      b = rest.nets[k].parameters();
    a.forEach((t, i) => assert.deepEqual(Array.from(b[i].data), Array.from(t.data), `${k} parameter ${i}`));
  }
});

test('GDHP refuses impossible settings by name', () => {
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 0 }), /episodes must be a positive integer/);
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, tau: 2 }), /tau must be in \(0, 1\]/);
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, gamma: 0 }), /gamma must be in \(0, 1\]/);
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, lrFloor: 0 }), /lrFloor must be in \(0, 1\]/);
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, batchSize: 2.5 }), /batchSize must be a positive integer/);
  const bad = { lo: [-1, -1, -1], hi: [1, 1, 1] };
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, trainBox: bad }), /trainBox needs lo and hi of 2 finite/);
  const flipped = { lo: [1, 1], hi: [-1, -1] };
  assert.throws(() => trainGdhp(lqrPlant(), { episodes: 1, trainBox: flipped }), /with lo ≤ hi/);
});
