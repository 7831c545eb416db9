// The HSIC-bottleneck trainer (Ma, Lewis & Kleijn, spec 03) as a TrainStep for fit(): each block is trained
// by its own loss nHSIC(Z_i, X) − β·nHSIC(Z_i, Y), one SGD update per block per batch, its input detached
// so that no error signal passes between blocks.
import { Tensor, noGrad } from '../../core/tensor.js';
import { flatten } from '../../ops/index.js';
import { Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import { SGD } from '../../optim/sgd.js';
import type { Optimizer } from '../../optim/optimizer.js';
import type { TrainStep } from '../../train/step.js';
import { HSIC_EPS, hsicFactor, nhsicOf, oneHot } from './nhsic.js';

/** Layer types that carry a block's trainable weights (each starts a block). */
export const HSIC_TRAINABLE = ['linear', 'conv2d', 'conv1d', 'residual'] as const;
/** Parameter-free (or, for batch norm, not trained: affine γ = 1, β = 0 as the authors' affine=False) layers. */
export const HSIC_PASSTHROUGH = [
  'relu',
  'leakyrelu',
  'sigmoid',
  'tanh',
  'hardtanh',
  'softmax',
  'logsoftmax',
  'batchnorm1d',
  'batchnorm2d',
  'flatten',
  'normalize',
  'maxpool2d',
  'avgpool2d',
  'maxpool1d',
  'globalpool2d',
  'dropout',
] as const;

/** Raised when a model holds a layer the HSIC trainer cannot train locally. */
export class HsicModelError extends Error {}

/** One locally trained block: its layers (a trainable layer and what follows it) and the parameters it steps. */
export interface HsicBlock {
  /** Index of the block's trainable layer in the model. */
  start: number;
  layers: Module[];
  /** The weights and biases of its linear/conv layers (batch-norm γ, β are never stepped). */
  params: Tensor[];
  forward(x: Tensor): Tensor;
}

/** The weights and biases of a layer's linear/conv modules; batch norm stays at γ = 1, β = 0 (affine=False). */
function trainableParams(layer: Module): Tensor[] {
  return layer
    .namedModules()
    .filter(([, mod]) => !mod.toSpec().type.startsWith('batchnorm'))
    .flatMap(([, mod]) => (mod.children().length ? [] : mod.parameters()));
}

/**
 * Split a Sequential model into HSIC blocks: every linear, conv or residual layer starts a block, and the
 * parameter-free layers after it (batch norm, activation, pooling, flatten) belong to it; layers before the
 * first trainable one (normalize, flatten) are part of the first block. Any other layer type is refused.
 */
export function hsicBlocks(model: Module): HsicBlock[] {
  if (!(model instanceof Sequential)) throw new HsicModelError('the HSIC trainer needs a Sequential model');
  const blocks: HsicBlock[] = [];
  let prefix: Module[] = [];
  model.layers.forEach((layer, i) => {
    const type = layer.toSpec().type;
    if ((HSIC_TRAINABLE as readonly string[]).includes(type)) {
      if (type === 'residual') checkResidual(layer, i);
      const layers = [...prefix, layer];
      prefix = [];
      blocks.push({
        start: i,
        layers,
        params: trainableParams(layer),
        forward: (x) => layers.reduce((h, l) => l.forward(h), x),
      });
    } else if ((HSIC_PASSTHROUGH as readonly string[]).includes(type)) {
      if (blocks.length) blocks[blocks.length - 1].layers.push(layer);
      else prefix.push(layer);
    } else {
      throw new HsicModelError(
        `layer ${i} ('${type}') cannot be trained by the HSIC trainer: it trains ${HSIC_TRAINABLE.join(', ')} ` +
          `blocks followed by ${HSIC_PASSTHROUGH.join(', ')}; replace the layer or use --trainer backprop`,
      );
    }
  });
  if (!blocks.length) throw new HsicModelError('the model has no linear, conv or residual layer to train');
  return blocks;
}

function checkResidual(layer: Module, i: number): void {
  for (const l of (layer as unknown as { inner: Sequential }).inner.layers) {
    const t = l.toSpec().type;
    if (!['linear', 'conv2d', 'conv1d', ...HSIC_PASSTHROUGH].includes(t))
      throw new HsicModelError(`layer ${i} (residual) holds a '${t}' layer, which the HSIC trainer cannot train`);
  }
}

/** Hyperparameters of the HSIC bottleneck (spec 03's names: σ, β = lambda_y; lr and weight decay of SGD). */
export interface HsicOptions {
  /** Kernel width σ (scaled by √d inside the kernel); > 0. */
  sigma: number;
  /** Weight β of nHSIC(Z, Y) in the loss; ≥ 0. */
  beta: number;
  /** Number of classes of the one-hot Y (default 10). */
  classes?: number;
  /** ε of εm·I (default 1e-5). */
  eps?: number;
}

/** Check σ > 0 and β ≥ 0, naming the field and the fix. */
export function checkHsicOptions(o: HsicOptions): void {
  if (!(o.sigma > 0) || !Number.isFinite(o.sigma))
    throw new RangeError(`sigma must be a positive number (the kernel width σ), got ${o.sigma}`);
  if (!(o.beta >= 0) || !Number.isFinite(o.beta))
    throw new RangeError(`beta must be a number ≥ 0 (the weight of nHSIC(Z, Y)), got ${o.beta}`);
}

/**
 * One plain SGD per block with the reference's weight decay; no momentum, as the reference re-creates its
 * optimiser every step. Give them to fit() as `optimizers` so checkpoints carry them.
 */
export function hsicOptimizers(
  blocks: HsicBlock[],
  lr: number,
  weightDecay = 1e-3,
  momentum = 0,
): Record<string, Optimizer> {
  return Object.fromEntries(blocks.map((b, i) => [`hsic${i}`, new SGD(b.params, { lr, weightDecay, momentum })]));
}

/** The per-layer diagnostics of one batch: nHSIC(Z_i, X) and nHSIC(Z_i, Y). */
export interface HsicDiagnostics {
  zx: number[];
  zy: number[];
}

/**
 * The HSIC-bottleneck TrainStep (spec 03, `core/train_hsic.py`). Per batch, with X the flattened input and Y
 * the one-hot labels, P_X and P_Y are computed once; then for each block i in order: Z_i = block_i(h_i) with
 * h_i detached, loss_i = nHSIC(Z_i, X) − β·nHSIC(Z_i, Y) = Σ P_Zi ∘ (P_X − β P_Y), backward, one step of
 * block i's optimizer (`hsic${i}`), then h_{i+1} = block_i(h_i) recomputed with the new weights. The
 * batch's loss is the mean of the block losses; metrics `nhsicZX.i`, `nhsicZY.i` go into the epoch history.
 * Batches of fewer than 2 rows carry no dependence and are skipped.
 */
export function hsicStep(blocks: HsicBlock[], opts: HsicOptions): TrainStep {
  checkHsicOptions(opts);
  const classes = opts.classes ?? 10,
    eps = opts.eps ?? HSIC_EPS;
  return (_model, batch, ctx) => {
    const m = batch.y.length;
    if (m < 2) return { loss: 0 };
    const x = batch.x.detach();
    const { px, py, c } = noGrad(() => {
      const px = hsicFactor(flatten(x), opts.sigma, eps);
      const py = hsicFactor(oneHot(batch.y, classes, x.dtype), opts.sigma, eps);
      const c = Tensor.from(
        px.data.map((v, i) => v - opts.beta * py.data[i]),
        px.shape,
        x.dtype,
      );
      return { px, py, c };
    });
    let h = x,
      total = 0;
    const metrics: Record<string, number> = {};
    blocks.forEach((b, i) => {
      const opt = ctx.optimizers[`hsic${i}`];
      if (!opt) throw new Error(`hsic step: fit() has no optimizer 'hsic${i}'; pass hsicOptimizers(blocks, lr)`);
      const z = b.forward(h);
      const pz = hsicFactor(flatten(z), opts.sigma, eps);
      const loss = nhsicOf(pz, c);
      const v = loss.item();
      ctx.checkLoss(v, batch.x);
      opt.zeroGrad();
      loss.backward();
      opt.step();
      opt.zeroGrad();
      noGrad(() => {
        metrics[`nhsicZX.${i}`] = nhsicOf(pz, px).item();
        metrics[`nhsicZY.${i}`] = nhsicOf(pz, py).item();
      });
      total += v;
      if (i + 1 < blocks.length) h = noGrad(() => b.forward(h)).detach();
    });
    return { loss: total / blocks.length, metrics };
  };
}

/**
 * nHSIC(Z_i, X) and nHSIC(Z_i, Y) of every block on one batch, without training: the probe of F3 (measured
 * before training and after each epoch on the same rows). Batch norm uses the batch's statistics, as the
 * training loss does (in eval mode an untrained network's running statistics, 0 and 1, would not normalise at
 * all); every buffer (running statistics) is put back afterwards, so probing changes nothing.
 */
export function hsicDiagnostics(
  model: Module,
  blocks: HsicBlock[],
  x: Tensor,
  labels: ArrayLike<number>,
  opts: HsicOptions,
): HsicDiagnostics {
  const eps = opts.eps ?? HSIC_EPS,
    classes = opts.classes ?? 10;
  const was = model.training;
  const saved = model.namedBuffers().map(([, b]) => [b, b.data.slice()] as const);
  model.train();
  try {
    return noGrad(() => {
      const px = hsicFactor(flatten(x), opts.sigma, eps),
        py = hsicFactor(oneHot(labels, classes, x.dtype), opts.sigma, eps);
      const zx: number[] = [],
        zy: number[] = [];
      let h = x;
      for (const b of blocks) {
        h = b.forward(h);
        const pz = hsicFactor(flatten(h), opts.sigma, eps);
        zx.push(nhsicOf(pz, px).item());
        zy.push(nhsicOf(pz, py).item());
      }
      return { zx, zy };
    });
  } finally {
    for (const [b, d] of saved) {
      b.data.set(d);
      b.markChanged();
    }
    if (!was) model.eval();
  }
}
