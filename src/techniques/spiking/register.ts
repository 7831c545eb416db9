// The spiking layer types in model specs: `if` (a population of IF neurons) and `spiking` (a whole converted
// network with its coding, T and measured costs), so saved spiking models load like any other.
import type { LayerSpec } from '../../nn/module.js';
import { buildLayer, registerLayer, specInt } from '../../nn/spec.js';
import { planLayers, registerLayerFields } from '../../nn/spec-plan.js';
import { IFNeuron, type ResetMode } from './neuron.js';
import { SpikingNetwork, type Coding, type Readout, type SpikingCost } from './network.js';

const resetOf = (v: unknown): ResetMode => (v === undefined ? 'subtract' : (v as ResetMode));

registerLayer(
  'if',
  (s) =>
    new IFNeuron({
      threshold: (s.threshold as number | undefined) ?? 1,
      reset: resetOf(s.reset),
      leak: (s.leak as number | undefined) ?? 0,
    }),
  (_s, x) => ({ params: 0, out: x }),
);
registerLayerFields('if', { threshold: '1', reset: '"subtract" (or "zero")', leak: '0' });

registerLayer(
  'spiking',
  (s, rng) => {
    if (!Array.isArray(s.layers)) throw new Error("a 'spiking' layer needs a 'layers' array");
    if (!Array.isArray(s.input)) throw new Error("a 'spiking' layer needs its 'input' shape");
    const net = new SpikingNetwork(
      (s.layers as LayerSpec[]).map((l) => buildLayer(l, rng)),
      {
        input: s.input as number[],
        timesteps: specInt(s, 'timesteps'),
        coding: s.coding as Coding,
        readout: s.readout as Readout,
        seed: specInt(s, 'seed', 1),
      },
    );
    if (s.measured && typeof s.measured === 'object') net.measured = s.measured as SpikingCost;
    return net;
  },
  (s, x) => {
    if (!Array.isArray(s.layers)) return { params: 0, out: null };
    // `layers` is this layer's own spec with its inner "auto" widths resolved (as sequential's), not the inner list.
    const r = planLayers(s.layers as LayerSpec[], x, 'spiking layer ');
    return { params: r.params, out: r.out, resolved: { ...s, layers: r.layers } };
  },
);
registerLayerFields('spiking', {
  input: "required (one sample's shape)",
  timesteps: 'required (T)',
  coding: '"poisson" (or "constant")',
  readout: '"spikes" (or "potential")',
  seed: '1',
  layers: 'required (linear, conv2d, avgpool2d, flatten, if)',
  measured: 'none (event counts written at conversion)',
});
