// The ECGSYN dynamical model (McSharry, Clifford, Tarassenko, Smith, IEEE TBME 50(3):289–294, 2003), written
// from the paper's equations and the heart-rate scaling of PhysioNet's ECGSYN (spec 09, "Synthetic rhythm
// generator"): a point circles the unit limit cycle once per beat, and each PQRST wave is a Gaussian bump in
// the angle θ that pushes z, the ECG, away from the baseline.
import type { Rng } from '../../core/rng.js';

/** One wave of the PQRST complex: angle θ_i (rad), amplitude a_i, width b_i (rad), as in McSharry et al. Table 1. */
export interface Wave {
  theta: number;
  a: number;
  b: number;
}

/**
 * The 2003 paper's standard P, Q, R, S, T: θ = (−π/3, −π/12, 0, π/12, π/2), a = (1.2, −5, 30, −7.5, 0.75),
 * b = (0.25, 0.1, 0.1, 0.1, 0.4).
 */
export const PQRST: readonly Wave[] = [
  { theta: -Math.PI / 3, a: 1.2, b: 0.25 },
  { theta: -Math.PI / 12, a: -5, b: 0.1 },
  { theta: 0, a: 30, b: 0.1 },
  { theta: Math.PI / 12, a: -7.5, b: 0.1 },
  { theta: Math.PI / 2, a: 0.75, b: 0.4 },
];

/** What shapes one synthetic sinus-like rhythm. */
export interface BeatOptions {
  /** Mean heart rate (bpm): sets the wave scaling below. */
  hr: number;
  /** Each beat's RR interval in seconds, drawn when the previous beat ends (HRV, AF irregularity). */
  nextRr: (rng: Rng) => number;
  /** Multiplies b_Q, b_R, b_S (wide QRS of VT and idioventricular rhythms); 1 for a narrow QRS. */
  qrsWidth?: number;
  /** Multiplies a_P (0: no P wave, as in AF, VT, idioventricular rhythm). */
  pScale?: number;
  /** Multiplies a_T. */
  tScale?: number;
}

const TWO_PI = 2 * Math.PI;
/**
 * Internal integration rate (Hz): 2× the 125 Hz output, like ECGSYN's sfint > sf. The narrowest wave (b_R = 0.1 rad
 * at 60 bpm, ~16 ms) spans four steps of 4 ms, enough for RK4 on this smooth forcing.
 */
const INTERNAL = 250;

/**
 * The waves at heart rate HR with ECGSYN's scaling, so waves do not overlap at VT rates:
 * b_i × √(HR/60); θ_P, θ_T × (HR/60)^¼; θ_Q, θ_S × √(HR/60) (spec 09).
 */
export function scaledWaves(o: BeatOptions): Wave[] {
  const f = Math.sqrt(o.hr / 60),
    f2 = Math.sqrt(f),
    w = o.qrsWidth ?? 1;
  const thetaScale = [f2, f, 1, f, f2],
    widthScale = [1, w, w, w, 1],
    ampScale = [o.pScale ?? 1, 1, 1, 1, o.tScale ?? 1];
  return PQRST.map((p, i) => ({ theta: p.theta * thetaScale[i], a: p.a * ampScale[i], b: p.b * f * widthScale[i] }));
}

/**
 * `n` samples at `fs` Hz of the ECGSYN model, rescaled to [−0.4, 1.2] mV (spec 09):
 *
 *   ẋ = αx − ωy,  ẏ = αy + ωx,  α = 1 − √(x² + y²),  ω = 2π / RR
 *   ż = −Σ_{i∈{P,Q,R,S,T}} a_i Δθ_i exp(−Δθ_i² / (2 b_i²)) − (z − z_0)
 *   Δθ_i = (θ − θ_i) mod 2π,  θ = atan2(y, x)
 *   z_0(t) = A sin(2π f_2 t),  A = 0.15 mV, f_2 the respiratory frequency
 *
 * integrated by 4th-order Runge–Kutta at 250 Hz and decimated; RR is redrawn at each beat (θ wrapping past π).
 */
export function ecgsyn(n: number, fs: number, o: BeatOptions, rng: Rng): Float32Array {
  const waves = scaledWaves(o);
  const sub = Math.max(1, Math.round(INTERNAL / fs)),
    dt = 1 / (fs * sub);
  const resp = rng.uniform(0.15, 0.4),
    A = 0.15;
  let omega = TWO_PI / o.nextRr(rng);
  const phase = rng.uniform(-Math.PI, Math.PI);
  let x = Math.cos(phase),
    y = Math.sin(phase),
    z = 0,
    t = 0;
  const deriv = (xx: number, yy: number, zz: number, tt: number): [number, number, number] => {
    const alpha = 1 - Math.sqrt(xx * xx + yy * yy),
      th = Math.atan2(yy, xx);
    let dz = 0;
    for (const w of waves) {
      let d = (th - w.theta) % TWO_PI;
      if (d > Math.PI) d -= TWO_PI;
      else if (d < -Math.PI) d += TWO_PI;
      // Beyond 6 widths the Gaussian is below 1e-7 of its peak: skip the exp.
      if (Math.abs(d) < 6 * w.b) dz -= w.a * d * Math.exp((-d * d) / (2 * w.b * w.b));
    }
    dz -= zz - A * Math.sin(TWO_PI * resp * tt);
    return [alpha * xx - omega * yy, alpha * yy + omega * xx, dz];
  };
  const out = new Float32Array(n);
  // A short run-in so the first samples are on the limit cycle and z has settled.
  const warm = Math.round(0.5 * fs) * sub;
  for (let s = -warm; s < n * sub; s++) {
    if (s >= 0 && s % sub === 0) out[s / sub] = z;
    const before = Math.atan2(y, x);
    const k1 = deriv(x, y, z, t);
    const k2 = deriv(x + (dt / 2) * k1[0], y + (dt / 2) * k1[1], z + (dt / 2) * k1[2], t + dt / 2);
    const k3 = deriv(x + (dt / 2) * k2[0], y + (dt / 2) * k2[1], z + (dt / 2) * k2[2], t + dt / 2);
    const k4 = deriv(x + dt * k3[0], y + dt * k3[1], z + dt * k3[2], t + dt);
    x += (dt / 6) * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]);
    y += (dt / 6) * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]);
    z += (dt / 6) * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2]);
    t += dt;
    // A new beat starts where θ wraps from +π to −π: draw its RR (HRV, or AF's irregular rhythm).
    if (before > Math.PI / 2 && Math.atan2(y, x) < -Math.PI / 2) omega = TWO_PI / o.nextRr(rng);
  }
  return rescale(out, -0.4, 1.2);
}

/** Affine map of v onto [lo, hi] (in place); a flat signal maps to the middle. */
export function rescale(v: Float32Array, lo: number, hi: number): Float32Array {
  let mn = Infinity,
    mx = -Infinity;
  for (const s of v) {
    if (s < mn) mn = s;
    if (s > mx) mx = s;
  }
  const span = mx - mn;
  for (let i = 0; i < v.length; i++) v[i] = span > 0 ? lo + ((v[i] - mn) / span) * (hi - lo) : (lo + hi) / 2;
  return v;
}
