// R4 of `frugal reproduce fitdnn` (spec 04's denoising task): a Fit-DNN with P = 784 outputs maps a noisy
// image (clean + N(0, 1) noise, clipped to [0, 1]) to the clean one; per-pixel MSE, against the identity.
import {
  Adam,
  FitDnn,
  Rng,
  Tensor,
  fit,
  mse,
  noGrad,
  sampleSize,
  type ImageDataset,
  type ProgressSink,
  type TrainStep,
} from '../index.js';
import { sampleDataset } from './state.js';
import type { Denoise } from './fitdnn-criteria.js';

/** clip(x + σ·n, 0, 1) with n ~ N(0, 1) drawn from rng: spec 04's noisy input. */
function noisy(clean: Float32Array, rng: Rng, sigma = 1): Float32Array {
  const out = new Float32Array(clean.length);
  for (let i = 0; i < out.length; i++) out[i] = Math.min(1, Math.max(0, clean[i] + sigma * rng.normal()));
  return out;
}

/**
 * Train a denoiser (fresh noise every batch, seeded by seed, epoch and step; Adam at the spec's η0 = 0.001;
 * a fixed number of epochs, so nothing is chosen) and measure test MSE of min(max(ŷ, 0), 1) against the
 * identity baseline on one fixed noisy copy of the test set. The clip is applied at evaluation; training
 * takes the MSE of the linear output (the authors ignore the clip's derivative).
 */
export function trainDenoiser(
  c: { trainSamples: number; epochs: number; hidden: number; diagonals: number },
  data: { train: ImageDataset; test: ImageDataset },
  seed: number,
  progress?: ProgressSink,
): Denoise {
  const M = sampleSize(data.train);
  const model = new FitDnn(
    { inFeatures: M, hidden: c.hidden, layers: 2, diagonals: c.diagonals, theta: 0.5, outFeatures: M },
    new Rng(seed),
  );
  const optimizer = new Adam(model.parameters(), { lr: 1e-3 });
  const step: TrainStep = (m, b, ctx) => {
    const B = b.x.shape[0];
    const clean = b.x.data as Float32Array;
    const x = new Tensor(noisy(clean, new Rng(seed * 1_000_003 + ctx.epoch * 10_007 + ctx.step)), [B, M]);
    const loss = mse(m.forward(x), new Tensor(clean, [B, M]));
    const v = loss.item();
    ctx.checkLoss(v, x);
    optimizer.zeroGrad();
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    return { loss: v };
  };
  fit(model, {
    train: sampleDataset(data.train, c.trainSamples, seed, 5),
    epochs: c.epochs,
    batchSize: 32,
    optimizer,
    step,
    seed,
    inputShape: [M],
    progress,
  });
  // One fixed noisy test set (the same for every seed), in chunks.
  const rng = new Rng(20210904);
  let sq = 0,
    sqId = 0;
  const chunk = 500;
  model.eval();
  noGrad(() => {
    for (let s = 0; s < data.test.count; s += chunk) {
      const n = Math.min(chunk, data.test.count - s);
      const clean = new Float32Array(n * M);
      for (let i = 0; i < n * M; i++) clean[i] = data.test.images[s * M + i] / 255;
      const x = noisy(clean, rng);
      const y = model.forward(new Tensor(x, [n, M])).data;
      for (let i = 0; i < n * M; i++) {
        sq += (Math.min(1, Math.max(0, y[i])) - clean[i]) ** 2;
        sqId += (x[i] - clean[i]) ** 2;
      }
    }
  });
  const count = data.test.count * M;
  return { seed, mse: sq / count, identityMse: sqId / count };
}
