// A residual block y = x + f(x) (the authors' ResConv blocks): a layer type of its own so that a JSON
// spec can hold one, and so the HSIC trainer can treat the whole block as one locally trained unit.
import type { Rng } from '../../core/rng.js';
import type { Tensor } from '../../core/tensor.js';
import { add } from '../../ops/index.js';
import { Sequential } from '../../nn/layers.js';
import { Module, type LayerSpec } from '../../nn/module.js';
import { buildLayer, registerLayer } from '../../nn/spec.js';
import { planLayers, registerLayerFields } from '../../nn/spec-plan.js';

/**
 * y = x + f(x), f the inner layers in order; f must keep the shape.
 *
 * @example
 * new Residual(new Conv2d(64, 64, 5, { padding: 2 }), new BatchNorm2d(64), ReLU())
 * // JSON: { "type": "residual", "layers": [ { "type": "conv2d", ... }, ... ] }
 */
export class Residual extends Module {
  readonly inner: Sequential;
  constructor(...layers: Module[]) {
    super();
    this.inner = new Sequential(...layers);
    this.registerModule('inner', this.inner);
  }
  forward(x: Tensor): Tensor {
    const y = this.inner.forward(x);
    if (y.shape.join() !== x.shape.join())
      throw new Error(`residual: the inner layers change the shape [${x.shape}] → [${y.shape}]; they must keep it`);
    return add(x, y);
  }
  toSpec(): LayerSpec {
    return { type: 'residual', layers: this.inner.layers.map((l) => l.toSpec()) };
  }
}

function innerLayers(s: LayerSpec): LayerSpec[] {
  if (!Array.isArray(s.layers) || s.layers.length === 0)
    throw new Error("a 'residual' layer needs a non-empty 'layers' array");
  return s.layers as LayerSpec[];
}

registerLayer(
  'residual',
  (s: LayerSpec, rng: Rng) => new Residual(...innerLayers(s).map((l) => buildLayer(l, rng))),
  (s, x) => {
    const p = planLayers(innerLayers(s), x, 'residual layer ');
    if (x && p.out && p.out.join() !== x.join())
      throw new Error(`residual: the inner layers change the shape [${x}] → [${p.out}]; they must keep it`);
    return { params: p.params, out: x, resolved: { ...s, layers: p.layers } };
  },
);
registerLayerFields('residual', { layers: 'required (a non-empty list of layers that keep the shape)' });
