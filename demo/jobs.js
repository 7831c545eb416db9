// The demo's long one-go jobs (pruneToRate + compact, binarize + pack) in a Web Worker, so the page keeps
// responding while they run. Models cross as spec + state dict + raw entries (packed bits, CSR indices), the
// same parts a model file holds (encodeModel / loadModel); the page rebuilds them with buildModel.
import * as F from './frugal/frugal.js';
import { binarize } from './binarize.js';

/** A model's transferable parts: spec, state dict (copies) and each layer's raw entries. */
export function modelParts(model, spec) {
  const state = {},
    raw = {};
  for (const [k, t] of Object.entries(model.stateDict())) state[k] = { data: t.data.slice(), shape: [...t.shape] };
  for (const [name, m] of model.namedModules()) {
    const r = Object.entries(m.rawEntries());
    if (r.length) raw[name] = Object.fromEntries(r.map(([k, a]) => [k, a.slice()]));
  }
  return { spec, state, raw };
}

/** The model modelParts described, rebuilt (in eval mode). */
export function fromParts(Frugal, { spec, state, raw }) {
  const model = Frugal.buildModel(spec);
  const tensors = Object.fromEntries(Object.entries(state).map(([k, t]) => [k, new Frugal.Tensor(t.data, t.shape)]));
  model.loadStateDict(tensors);
  for (const [name, m] of model.namedModules()) m.loadRawEntries(raw[name] ?? {});
  return model.eval();
}

function run(job) {
  const dense = fromParts(F, job.dense),
    input = job.dense.spec.input;
  if (job.kind === 'prune') {
    dense.train();
    const r = F.pruneToRate(dense, {
      target: job.rate,
      metric: 'params',
      input,
      train: job.train,
      epochs: 1,
      batchSize: 64,
      seed: 1,
      optimizer: (p) => new F.SGD(p, { lr: 0.01, momentum: 0.9 }),
    });
    const { model } = F.compact(r.model, input);
    model.eval();
    return { model: modelParts(model, F.specOf(model, input)), achievedParams: r.achieved.params };
  }
  const r = binarize(F, dense, job.dense.spec, job.train, { epochs: 1 });
  r.model.eval();
  const report = { packed: [...r.report.packed], folded: [...r.report.folded] };
  return { model: modelParts(r.model, F.specOf(r.model, input)), report };
}

if (typeof WorkerGlobalScope !== 'undefined' && self instanceof WorkerGlobalScope) {
  self.onmessage = ({ data }) => {
    try {
      self.postMessage({ ok: true, ...run(data) });
    } catch (e) {
      self.postMessage({ ok: false, error: String(e?.message ?? e) });
    }
  };
  self.postMessage({ ready: true });
}
