// Frugal's demo app: train a small network on the shipped Fashion-MNIST subset in the page, prune it with one
// click, compare the variants (accuracy, size, latency), try them on a drawing or an image, download them.
// Everything goes through Frugal's public API, loaded from the browser bundle (frugal/frugal.js).
// State for the console and the tests: window.frugalDemo.
import * as F from './frugal/frugal.js';
import { CLASSES, loadSubset } from './data.js';
import { LineChart } from './chart.js';
import { InputPad } from './draw.js';
import { fromParts, modelParts } from './jobs.js';
import { frugalRunner, interleavedLatency, ortVariant } from './ort.js';

const $ = (id) => document.getElementById(id);
const params = new URLSearchParams(location.search);
const nextFrame = () => new Promise((r) => setTimeout(r, 0));
const fmtBytes = (n) => (n < 1e6 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 2 ** 20).toFixed(2)} MiB`);

const state = {
  mode: null,
  busy: false,
  data: null,
  spec: null,
  /** Trained variants: { name, model, spec, accuracy, bytes, nonzero, params, latencyMs, latency64Ms }. */
  variants: [],
  /**
   * The dense model exported with toOnnx and run by ONNX Runtime Web (ort.js): { accuracy, bytes, differ, maxDiff,
   * threads, latencyMs, latency64Ms, session }; ortError says why it is missing.
   */
  ort: null,
  ortError: null,
  history: [],
  samplesPerSecond: 0,
  /** Class probabilities shown for the pad's image, by variant name. */
  predictions: {},
  predictionRuns: 0,
  /** Timer ticks of the page while a worker job ran (a page blocked by the job would count none). */
  jobTicks: 0,
  errors: [],
};
window.frugalDemo = state;

/** Logits of a variant on the first n test images, flat (for the tests and the console). */
state.testLogits = (name, n) => {
  const v = state.variants.find((u) => u.name === name);
  const { x } = F.gatherBatch(
    state.data.test,
    Int32Array.from({ length: n }, (_, i) => i),
    state.spec.input,
  );
  return Array.from(F.noGrad(() => v.model.forward(x)).data);
};

function status(text) {
  $('status').textContent = text;
}

function setBusy(b) {
  state.busy = b;
  for (const el of document.querySelectorAll('button.act')) el.disabled = b || (el.dataset.needsModel && !dense());
}

const dense = () => state.variants.find((v) => v.name === 'dense');

function showMode() {
  const threads = F.getThreads();
  state.mode = { isolated: !!globalThis.crossOriginIsolated, threads, backend: F.backendName() };
  $('mode').textContent = state.mode.isolated
    ? `threaded: ${threads} threads (${threads - 1} Web Workers + this page), ${state.mode.backend} kernels; ` +
      'the page is cross-origin isolated'
    : `single-threaded: the page is not cross-origin isolated (no COOP/COEP headers, so no shared memory); ` +
      `${state.mode.backend} kernels on one thread`;
  $('mode').dataset.threads = String(threads);
}

const chart = new LineChart($('chart'), [
  { name: 'loss', min: 0 },
  { name: 'train acc', min: 0, max: 1, format: (v) => `${(100 * v).toFixed(1)}%` },
  { name: 'test acc', min: 0, max: 1, format: (v) => `${(100 * v).toFixed(1)}%` },
]);

/** Train the chosen network for the chosen epochs (Adam, batch 64), yielding to the page between batches. */
async function train() {
  const kind = $('arch').value,
    epochs = Number($('epochs').value),
    batchSize = 64,
    seed = 1;
  if (!(Number.isInteger(epochs) && epochs >= 1 && epochs <= 50)) throw new Error('epochs: give 1 to 50');
  const spec = kind === 'mlp' ? F.referenceMlp : F.referenceCnn;
  const { train, test } = state.data;
  const model = F.buildModel(spec, seed);
  const opt = new F.Adam(model.parameters(), { lr: 1e-3 });
  const loader = new F.DataLoader(train, { batchSize, shuffle: true, seed, shape: spec.input });
  const perEpoch = loader.length;
  state.variants = [];
  state.ort = null;
  state.ortError = null;
  state.history = [];
  renderVariants();
  chart.clear();
  chart.setXMax(epochs * perEpoch);
  let busyMs = 0,
    seen = 0,
    step = 0,
    lastDraw = 0;
  for (let epoch = 0; epoch < epochs; epoch++) {
    model.train();
    let lossSum = 0,
      correct = 0,
      n = 0;
    for (const batch of loader.batches(epoch)) {
      const t0 = performance.now();
      const loss = F.withScope(() => {
        const out = model.forward(batch.x);
        const l = F.crossEntropy(out, batch.y);
        opt.zeroGrad();
        l.backward();
        opt.step();
        opt.zeroGrad();
        const pred = F.argmax(out);
        for (let i = 0; i < pred.length; i++) correct += pred[i] === batch.y[i] ? 1 : 0;
        return l.item();
      });
      busyMs += performance.now() - t0;
      if (!Number.isFinite(loss)) throw new Error(`the loss is ${loss} at step ${step + 1}; training stopped`);
      seen += batch.y.length;
      n += batch.y.length;
      lossSum += loss * batch.y.length;
      step++;
      chart.add('loss', step, loss);
      state.samplesPerSecond = seen / (busyMs / 1000);
      if (performance.now() - lastDraw > 100) {
        chart.add('train acc', step, correct / n);
        chart.draw();
        $('speed').textContent = `${Math.round(state.samplesPerSecond)} samples/s`;
        status(`training ${kind}: epoch ${epoch + 1}/${epochs}, step ${step}/${epochs * perEpoch}`);
        lastDraw = performance.now();
        await nextFrame();
      }
    }
    const ev = F.evaluate(model, test, { shape: spec.input });
    chart.add('train acc', step, correct / n);
    chart.add('test acc', step, ev.accuracy);
    chart.draw();
    state.history.push({ epoch: epoch + 1, loss: lossSum / n, trainAccuracy: correct / n, testAccuracy: ev.accuracy });
    await nextFrame();
  }
  $('speed').textContent = `${Math.round(state.samplesPerSecond)} samples/s`;
  state.spec = spec;
  await addVariant('dense', model, { epochs, batchSize, optimizer: 'adam', lr: 1e-3, seed });
  status(`trained ${kind} for ${epochs} epoch(s): test accuracy ${pct(dense().accuracy)} on ${test.count} images`);
}

const pct = (v) => `${(100 * v).toFixed(1)}%`;
const fmtMs = (ms) => (Number.isFinite(ms) ? `${ms.toFixed(3)} ms` : '…');

/** Measure a variant (test accuracy, file size, non-zero weights) and re-measure every variant's latency. */
async function addVariant(name, model, training) {
  const input = state.spec.input;
  model.eval();
  const spec = F.specOf(model, input);
  const ev = F.evaluate(model, state.data.test, { shape: input });
  const prof = F.profileModel(model, input);
  const bytes = F.encodeModel(model, spec, training).byteLength;
  state.variants = state.variants.filter((v) => v.name !== name);
  state.variants.push({
    name,
    model,
    spec,
    training,
    accuracy: ev.accuracy,
    bytes,
    params: prof.params,
    nonzero: prof.nonzeroParams,
    binaryParams: prof.summary.binary?.params ?? 0,
    macs: prof.effectiveMacs,
    latencyMs: NaN,
    latency64Ms: NaN,
  });
  if (name === 'dense') await addOrt();
  const names = state.variants.map((v) => v.name).concat(state.ort ? [state.ort.name] : []);
  status(`measuring latency of ${names.join(', ')}…`);
  await nextFrame();
  // Interleaved rounds, median per model (as F.compareLatency measures, with ONNX Runtime's calls awaited),
  // batch 1 (what one image costs here and now) and batch 64.
  const runners = state.variants.map((v) => frugalRunner(F, v.model)).concat(state.ort ? [state.ort.runner] : []);
  const ms = await interleavedLatency(F, runners, input, 1, { rounds: 5, reps: 20 });
  const ms64 = await interleavedLatency(F, runners, input, 64, { rounds: 5, reps: 2 });
  const timed = state.ort ? [...state.variants, state.ort] : state.variants;
  timed.forEach((v, i) => ((v.latencyMs = ms[i]), (v.latency64Ms = ms64[i])));
  renderVariants();
  predict(true);
}

/** The trained dense model exported with toOnnx and loaded in ONNX Runtime Web (accuracy checked on the test set). */
async function addOrt() {
  if (state.ort) await state.ort.session.release();
  state.ort = null;
  state.ortError = null;
  if (typeof F.toOnnx !== 'function') {
    state.ortError = 'ONNX Runtime Web row: this build of Frugal has no toOnnx export';
    return;
  }
  status('exporting the dense model to ONNX and loading it in ONNX Runtime Web…');
  await nextFrame();
  try {
    state.ort = await ortVariant(F, dense(), state.data.test, state.spec.input);
  } catch (e) {
    state.ortError = `ONNX Runtime Web could not run the model: ${e?.message ?? e}`;
  }
}

let jobWorker = null;

/**
 * Run a pruning or binarizing job (jobs.js) on the dense model in a Web Worker, so the page keeps responding;
 * resolves with the worker's answer, its model rebuilt here.
 */
async function inWorker(job) {
  jobWorker ??= new Promise((res, rej) => {
    const w = new Worker(new URL('./jobs.js', import.meta.url), { type: 'module' });
    w.onmessage = ({ data }) => data.ready && res(w);
    w.onerror = (e) => rej(new Error(`the demo's worker did not start: ${e.message}`));
  });
  const w = await jobWorker,
    d = dense();
  const tick = setInterval(() => state.jobTicks++, 25);
  try {
    const r = await new Promise((res, rej) => {
      w.onmessage = ({ data }) => (data.ok ? res(data) : rej(new Error(data.error)));
      w.onerror = (e) => rej(new Error(`the demo's worker failed: ${e.message}`));
      w.postMessage({ ...job, dense: modelParts(d.model, d.spec), train: state.data.train });
    });
    return { ...r, model: fromParts(F, r.model) };
  } finally {
    clearInterval(tick);
  }
}

/**
 * Prune the dense model to the chosen rate of weights in one short training run (pruneToRate), then compact it;
 * in the worker.
 */
async function prune() {
  const rate = Number($('rate').value);
  status(`pruning ${pct(rate)} of the weights (one epoch of pruneToRate, then compact, in a Web Worker)…`);
  const r = await inWorker({ kind: 'prune', rate });
  await addVariant(`pruned ${Math.round(rate * 100)}%`, r.model, {
    prunedFrom: 'dense',
    target: rate,
    achievedParams: r.achievedParams,
    epochs: 1,
  });
  status(`pruned: ${pct(r.achievedParams)} fewer weights, test accuracy ${pct(state.variants.at(-1).accuracy)}`);
}

/**
 * Binarize the dense model (binarize.js: ±1 hidden layers, fine-tuned one epoch, packed as XNOR-popcount bits);
 * in the worker.
 */
async function binarizeDense() {
  status('binarizing the hidden layers (one epoch of fine-tuning, then packing the bits, in a Web Worker)…');
  const r = await inWorker({ kind: 'binarize' });
  await addVariant('binarized', r.model, {
    binarizedFrom: 'dense',
    epochs: 1,
    packedLayers: r.report.packed,
    foldedBatchNorms: r.report.folded,
  });
  status(
    `binarized: layers ${r.report.packed.join(', ')} run as XNOR-popcount, ` +
      `test accuracy ${pct(state.variants.at(-1).accuracy)}`,
  );
}

function download(name, bytes, type) {
  const a = document.createElement('a');
  a.href = URL.createObjectURL(new Blob([bytes], { type }));
  a.download = name;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

const fileName = (v, ext) =>
  `frugal-${state.spec === F.referenceMlp ? 'mlp' : 'cnn'}-${v.name.replace(/[^a-z0-9]+/gi, '-')}.${ext}`;

function renderVariants() {
  const body = $('variants').tBodies[0];
  body.replaceChildren();
  const base = dense();
  for (const v of state.variants) {
    const tr = body.insertRow();
    tr.dataset.variant = v.name;
    const cells = [
      v.name,
      pct(v.accuracy),
      v.nonzero.toLocaleString('en-US') +
        (v.binaryParams
          ? ` (${v.binaryParams.toLocaleString('en-US')} at 1 bit)`
          : base && v !== base
            ? ` (${(base.nonzero / v.nonzero).toFixed(1)}× fewer)`
            : ''),
      fmtBytes(v.bytes),
      fmtMs(v.latencyMs),
      fmtMs(v.latency64Ms),
    ];
    for (const c of cells) tr.insertCell().textContent = c;
    const dl = tr.insertCell();
    const st = document.createElement('button');
    st.textContent = 'safetensors';
    st.className = 'dl-safetensors';
    st.onclick = () => download(fileName(v, 'safetensors'), F.encodeModel(v.model, v.spec, v.training));
    dl.append(st);
    if (typeof F.toOnnx === 'function') {
      const ox = document.createElement('button');
      ox.textContent = 'ONNX';
      ox.className = 'dl-onnx';
      ox.onclick = () =>
        run(async () =>
          download(fileName(v, 'onnx'), F.toOnnx({ model: v.model, spec: v.spec, training: v.training })),
        );
      dl.append(ox);
    }
  }
  if (state.ort) {
    const o = state.ort,
      tr = body.insertRow();
    tr.dataset.variant = 'onnxruntime-web';
    tr.className = 'ort';
    const cells = [
      `${o.name} (dense, ${o.threads} thread${o.threads > 1 ? 's' : ''})`,
      pct(o.accuracy) + (o.differ ? ` (${o.differ} predictions differ from Frugal's)` : ''),
      o.nonzero.toLocaleString('en-US'),
      `${fmtBytes(o.bytes)} (.onnx)`,
      fmtMs(o.latencyMs),
      fmtMs(o.latency64Ms),
      'the dense ONNX file',
    ];
    for (const c of cells) tr.insertCell().textContent = c;
  }
  $('onnx-note').hidden = typeof F.toOnnx === 'function';
  $('ort-note').hidden = !state.ortError;
  $('ort-note').textContent = state.ortError ?? '';
  setBusy(state.busy);
}

/** Class probabilities of the pad's image from every variant. */
function predict(keepExact = false) {
  const out = $('predictions');
  out.replaceChildren();
  state.predictions = {};
  state.predictionRuns++;
  if (!state.variants.length) return;
  const px = pad.pixels(keepExact);
  for (const v of state.variants) {
    const logits = F.noGrad(() => v.model.forward(new F.Tensor(px.slice(), [1, ...state.spec.input]))).data;
    const m = Math.max(...logits),
      e = Array.from(logits, (z) => Math.exp(z - m)),
      s = e.reduce((a, b) => a + b, 0),
      p = e.map((x) => x / s);
    const top = p.indexOf(Math.max(...p));
    state.predictions[v.name] = { probabilities: p, predicted: top, label: CLASSES[top] };
    const box = document.createElement('div');
    box.className = 'pred';
    box.dataset.variant = v.name;
    const h = document.createElement('h3');
    h.innerHTML = `${v.name}: <span class="label">${CLASSES[top]}</span> (${pct(p[top])})`;
    box.append(h);
    p.forEach((q, c) => {
      const row = document.createElement('div');
      row.className = 'bar' + (c === top ? ' top' : '');
      row.innerHTML = `<span>${CLASSES[c]}</span><i style="width:${(100 * q).toFixed(1)}%"></i><b>${pct(q)}</b>`;
      box.append(row);
    });
    out.append(box);
  }
}

function showTestImage() {
  const i = Number($('test-index').value);
  const { test } = state.data;
  if (!(Number.isInteger(i) && i >= 0 && i < test.count)) {
    status(`test image: give an index from 0 to ${test.count - 1}`);
    return;
  }
  $('test-label').textContent = `test image ${i}, labelled ${CLASSES[test.labels[i]]}`;
  pad.show(test.images.subarray(i * 784, (i + 1) * 784));
}

const pad = new InputPad($('pad'), (exact) => predict(exact));

/** Run an action with the buttons disabled; errors go to the status line (and the console). */
async function run(fn) {
  if (state.busy) return;
  setBusy(true);
  try {
    await fn();
  } catch (e) {
    state.errors.push(String(e?.message ?? e));
    status(`error: ${e?.message ?? e}`);
    console.error(e);
  } finally {
    setBusy(false);
  }
}

$('train').onclick = () => run(train);
$('prune').onclick = () => run(prune);
$('binarize').onclick = () => run(binarizeDense);
$('clear').onclick = () => {
  pad.clear();
  $('test-label').textContent = '';
  predict();
};
$('show-test').onclick = () => showTestImage();
$('file').onchange = (e) => e.target.files[0] && pad.loadFile(e.target.files[0]);
if (params.get('epochs')) $('epochs').value = params.get('epochs');
if (params.get('arch')) $('arch').value = params.get('arch');

showMode();
await run(async () => {
  status('loading the Fashion-MNIST subset…');
  state.data = await loadSubset(F);
  status(`ready: ${state.data.train.count} training and ${state.data.test.count} test images; press Train`);
});
state.ready = true;
document.body.dataset.ready = 'true';
