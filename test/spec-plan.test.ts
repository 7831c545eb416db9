// planLayers resolves "auto" fields; a layer whose planner plans nested layers keeps its own type.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planLayers } from '../src/nn/spec-plan.js';
import '../src/index.js';
import type { LayerSpec } from '../src/nn/module.js';

test('a spiking or residual layer is kept as itself; sequential resolves "auto" inside', () => {
  const inner: LayerSpec[] = [
    { type: 'linear', in: 8, out: 8, bias: true },
    { type: 'if', threshold: 1, reset: 'subtract', leak: 0 },
  ];
  const spiking = { type: 'spiking', input: [8], timesteps: 4, coding: 'constant', readout: 'spikes', layers: inner };
  const residual = { type: 'residual', layers: [{ type: 'linear', in: 8, out: 8 }] };
  const seq = { type: 'sequential', layers: [{ type: 'linear', in: 'auto', out: 3 }] };
  const { layers, out } = planLayers([spiking, residual, seq] as LayerSpec[], [8]);
  assert.deepEqual(
    layers!.map((l) => l.type),
    ['spiking', 'residual', 'sequential'],
  );
  assert.deepEqual(layers![0], spiking);
  assert.equal((layers![2].layers as LayerSpec[])[0].in, 8);
  assert.deepEqual(out, [3]);
});
