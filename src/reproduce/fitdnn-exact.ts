// R1 of `frugal reproduce fitdnn` (spec 04): how exact the equivalent network map is, on random weights of
// the R2 shape — against the delay system integrated finely, against finite differences, against θ → ∞.
import {
  FitDnn,
  Rng,
  Tensor,
  crossEntropy,
  fitDnnMap,
  fitDnnStates,
  noGrad,
  solveDde,
  type FitDnnWeights,
  type ImageDataset,
} from '../index.js';
import type { Exactness } from './fitdnn-criteria.js';

export interface ExactShape {
  hidden: number;
  layers: number;
  diagonals: number;
}

/** Float64 copies of a fresh model's weights (leaves that require gradients) and B images as u [B, 784]. */
function setup(shape: ExactShape, data: ImageDataset, B: number, seed: number) {
  const M = data.sampleShape.reduce((a, b) => a * b, 1);
  const m = new FitDnn({ inFeatures: M, outFeatures: data.classes, theta: 1, ...shape }, new Rng(seed));
  const w = Object.fromEntries(
    Object.entries(m.weights()).map(([k, t]) => {
      if (!t) return [k, null];
      const c = t.to('float64');
      c.requiresGrad = true;
      return [k, c];
    }),
  ) as unknown as FitDnnWeights;
  const rows = new Rng(seed + 1).shuffle(Array.from({ length: data.count }, (_, i) => i)).slice(0, B);
  const u = Tensor.zeros([B, M], 'float64'),
    y = new Int32Array(B);
  rows.forEach((r, i) => {
    for (let j = 0; j < M; j++) u.data[i * M + j] = data.images[r * M + j] / 255;
    y[i] = data.labels[r];
  });
  return { w, u, y, offsets: m.config.offsets };
}

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let d = 0,
    m = 1e-300;
  for (let i = 0; i < b.length; i++) {
    d = Math.max(d, Math.abs(a[i] - b[i]));
    m = Math.max(m, Math.abs(b[i]));
  }
  return d / m;
}

/**
 * R1: (a) x^L of the map vs the DDE with N_h = 256 per θ; (b) the cosine between the autograd gradient of the
 * cross-entropy at θ = 0.5 and central differences (ε = 1e-6) on `coords` coordinates drawn evenly from every
 * weight tensor; (c) the logits of the map at θ = 20 vs the decoupled network.
 */
export function measureExactness(
  shape: ExactShape,
  data: ImageDataset,
  thetas: number[],
  coords: number,
  seed = 1,
): Exactness {
  const { w, u, y, offsets } = setup(shape, data, 8, seed);
  const ddeGap = thetas.map((theta) => {
    const map = noGrad(() => fitDnnStates(u, w, { theta, offsets }));
    const dde = solveDde(u.data, u.shape[0], w, { theta, offsets }, 256);
    return { theta, relDiff: maxRel(dde.states[shape.layers - 1], map[shape.layers - 1].data) };
  });
  // (b) in float64, on the map of θ = 0.5.
  const loss = () => crossEntropy(fitDnnMap(u, w, { theta: 0.5, offsets }), y);
  const l = loss();
  l.backward();
  const tensors = Object.values(w).filter((t): t is Tensor => !!t);
  const rng = new Rng(seed + 2),
    per = Math.ceil(coords / tensors.length),
    eps = 1e-6;
  const a: number[] = [],
    b: number[] = [];
  for (const t of tensors) {
    for (let k = 0; k < per; k++) {
      const i = rng.int(t.size),
        v = t.data[i];
      t.data[i] = v + eps;
      const up = noGrad(loss).item();
      t.data[i] = v - eps;
      const down = noGrad(loss).item();
      t.data[i] = v;
      a.push(t.grad!.data[i]);
      b.push((up - down) / (2 * eps));
    }
  }
  let dot = 0,
    na = 0,
    nb = 0;
  for (let i = 0; i < a.length; i++) [dot, na, nb] = [dot + a[i] * b[i], na + a[i] ** 2, nb + b[i] ** 2];
  const gradientCosine = dot / Math.sqrt(na * nb);
  const at20 = noGrad(() => fitDnnMap(u, w, { theta: 20, offsets }));
  const dec = noGrad(() => fitDnnMap(u, w, { theta: 20, offsets, decoupled: true }));
  return { ddeGap, gradientCosine, gradientCoords: a.length, decoupledGap: maxRel(at20.data, dec.data) };
}
