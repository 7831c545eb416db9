import { noGrad, Tensor } from '../core/tensor.js';
import { withScope } from '../core/arena.js';
import type { Module } from '../nn/module.js';

/** One sample's prediction: the class probabilities and the `top` most likely classes, best first. */
export interface Prediction {
  probabilities: Float32Array;
  top: { index: number; probability: number; name?: string }[];
}

/**
 * Class probabilities for a batch `x` [N, ...inputShape] in eval mode, without gradients:
 * p = softmax(z) = exp(z − max z) / Σ exp(z − max z) over the model's outputs z (a model that ends in
 * softmax gives p directly, one that ends in logsoftmax gives exp of it). `classNames` name the classes.
 *
 * ```ts
 * const { model } = loadModel('runs/cnn.safetensors');
 * const [p] = predict(model, new Tensor(pixels, [1, 1, 28, 28]), { top: 3 });
 * console.log(p.top); // [{ index: 7, probability: 0.91 }, ...]
 * ```
 */
export function predict(model: Module, x: Tensor, opts: { top?: number; classNames?: string[] } = {}): Prediction[] {
  const wasTraining = model.training;
  model.eval();
  const last = lastLayerType(model);
  let z!: Float32Array, k!: number;
  try {
    noGrad(() =>
      withScope(() => {
        const y = model.forward(x);
        if (y.rank !== 2) throw new Error(`predict: the model's output is [${y.shape}], not [batch, classes]`);
        k = y.shape[1];
        z = Float32Array.from(y.data);
      }),
    );
  } finally {
    model.train(wasTraining);
  }
  const n = x.shape[0];
  const top = Math.max(1, Math.min(opts.top ?? k, k));
  const out: Prediction[] = [];
  for (let i = 0; i < n; i++) {
    const row = z.subarray(i * k, (i + 1) * k);
    let p: Float32Array;
    if (last === 'softmax') p = Float32Array.from(row);
    else if (last === 'logsoftmax') p = row.map(Math.exp);
    else {
      const m = Math.max(...row);
      p = row.map((v) => Math.exp(v - m));
      const s = p.reduce((a, b) => a + b, 0);
      p = p.map((v) => v / s);
    }
    const order = Array.from({ length: k }, (_, j) => j).sort((a, b) => p[b] - p[a] || a - b);
    out.push({
      probabilities: p,
      top: order.slice(0, top).map((index) => ({
        index,
        probability: p[index],
        ...(opts.classNames?.[index] !== undefined ? { name: opts.classNames[index] } : {}),
      })),
    });
  }
  return out;
}

function lastLayerType(model: Module): string | undefined {
  const layers = (model as unknown as { layers?: Module[] }).layers;
  return layers?.length ? layers[layers.length - 1].toSpec().type : undefined;
}
