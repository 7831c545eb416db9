// The authors' network shapes (spec 03, `model/mhlinear.py`, `model/mresconv.py`) as JSON model specs.
import type { LayerSpec } from '../../nn/module.js';
import type { ModelSpec } from '../../nn/spec.js';

/**
 * ModelLinear of the reference: every block is linear → batch norm (γ, β left untrained: affine=False) →
 * ReLU, the output block included. widths = [784, w, …, w, last]: e.g. spec 03's F1 net
 * hsicMlp([784, 1024, 1024, 1024, 1024, 1024, 1024, 10]). `head` appends a plain linear layer (the backprop
 * baseline's Linear(last, classes)).
 */
export function hsicMlp(widths: number[], head?: number): ModelSpec {
  const layers: LayerSpec[] = [];
  for (let i = 1; i < widths.length; i++)
    layers.push(
      { type: 'linear', in: widths[i - 1], out: widths[i] },
      { type: 'batchnorm1d', features: widths[i] },
      { type: 'relu' },
    );
  if (head) layers.push({ type: 'linear', in: widths[widths.length - 1], out: head });
  return { format: 'frugal-model', version: 1, input: [widths[0]], layers };
}

/**
 * ResConv of the reference: conv 5×5 stride 2 (1 → c channels, 28 → 12) → BN → ReLU; `blocks` residual
 * blocks [conv 5×5 pad 2 → BN → ReLU, + skip, BN → ReLU]; flatten → linear (144c → last) → BN → ReLU.
 * The paper's net: hsicResConv(64, 5, 512).
 */
export function hsicResConv(c: number, blocks: number, last: number, head?: number): ModelSpec {
  const layers: LayerSpec[] = [
    { type: 'conv2d', in: 1, out: c, kernel: 5, stride: 2 },
    { type: 'batchnorm2d', features: c },
    { type: 'relu' },
  ];
  for (let i = 0; i < blocks; i++)
    layers.push(
      {
        type: 'residual',
        layers: [
          { type: 'conv2d', in: c, out: c, kernel: 5, padding: 2 },
          { type: 'batchnorm2d', features: c },
          { type: 'relu' },
        ],
      },
      { type: 'batchnorm2d', features: c },
      { type: 'relu' },
    );
  layers.push(
    { type: 'flatten' },
    { type: 'linear', in: 144 * c, out: last },
    { type: 'batchnorm1d', features: last },
    { type: 'relu' },
  );
  if (head) layers.push({ type: 'linear', in: last, out: head });
  return { format: 'frugal-model', version: 1, input: [1, 28, 28], layers };
}
