// "Binarize" in the demo: the trained network's binarized twin (Simons & Lee's setting, spec 06; BinaryNet's
// recipe): the first and last weight layers stay full precision, every weight layer between them takes ±1 inputs
// and ±1 weights (binary-linear / binary-conv2d, straight-through sign), and batch norm replaces each relu (its
// output is what the next layer's sign reads). It starts from the trained weights, is fine-tuned briefly, and is
// packed (packBinary): binary layers then run as XNOR-popcount on packed bits, batch norm + sign folded into
// integer thresholds.

const isWeight = (l) => l.type === 'linear' || l.type === 'conv2d';

/** The binarized spec of a dense one (same layer indices: each layer is kept or replaced one for one). */
export function binarizedSpec(spec) {
  const L = spec.layers;
  const weights = L.flatMap((l, i) => (isWeight(l) ? [i] : []));
  if (weights.length < 3) throw new Error('binarize: the network needs at least three weight layers');
  const [first, last] = [weights[0], weights.at(-1)];
  let previous = null;
  const layers = L.map((l, i) => {
    if (isWeight(l)) {
      previous = l;
      if (i === first || i === last) return l;
      // specOf writes every conv2d field; binary convolutions have no dilation (1 is the same layer).
      const { dilation, ...rest } = l;
      if (dilation !== undefined && dilation !== 1)
        throw new Error(`binarize: layer ${i} (conv2d) is dilated (${dilation}); binary convolutions are not`);
      return { ...rest, type: `binary-${l.type}`, bias: false };
    }
    if (l.type === 'relu' && previous)
      return { type: previous.type === 'conv2d' ? 'batchnorm2d' : 'batchnorm1d', features: previous.out };
    return l;
  });
  return { ...spec, layers };
}

/**
 * Binarize a trained Sequential: build the twin, copy the trained weights (latent binary weights start at the
 * trained values, whose signs are the binary weights), fine-tune with Adam for `epochs`, pack.
 */
export function binarize(F, dense, spec, train, { epochs = 1, lr = 1e-3, seed = 1 } = {}) {
  const bspec = binarizedSpec(spec);
  const model = F.buildModel(bspec, seed);
  bspec.layers.forEach((l, i) => {
    if (!spec.layers[i] || !isWeight(spec.layers[i])) return;
    const from = dense.layers[i],
      to = model.layers[i];
    to.weight.data.set(from.weight.data);
    if (to.bias && from.bias) to.bias.data.set(from.bias.data);
  });
  const fitted = F.fit(model, {
    train,
    epochs,
    batchSize: 64,
    seed,
    inputShape: spec.input,
    optimizer: new F.Adam(model.parameters(), { lr }),
  });
  const { model: packed, report } = F.packBinary(model);
  return { model: packed, simulated: model, report, fit: fitted };
}
