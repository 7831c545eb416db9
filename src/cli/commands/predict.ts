import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import {
  decodeImage,
  imageKind,
  imageToSample,
  loadModel,
  parseIdx,
  parseNpy,
  predict,
  Tensor,
  type ModelSpec,
} from '../../node.js';
import { defaultsText, emit, note, num, parse, UsageError, type Options } from '../args.js';
import { fileReason } from '../../io/fs-reason.js';

export const usage = `frugal predict MODEL INPUT... [--top K] [--invert] [--json]
  The K most likely classes of each input, with probabilities and the class names the model carries.
  INPUT is a PNG or JPEG image (luma for a 1-channel model, RGB for 3; transparent parts over black;
  stretched to the model's H x W by area averaging; pixels / 255, and the model applies its own
  normalisation), a .npy array (one sample or a batch [N, ...]), or - for IDX or CSV on stdin (one
  sample per row; a header row and a label column are dropped). Integer values (.npy, IDX, CSV) are
  raw values of the training data, scaled as it was (pixels / 255, CSV features as given); float
  .npy and IDX values are model inputs as they are. --invert takes 1 - v of an image's pixels, for dark
  drawings on a light background (Fashion-MNIST's are light on black).
${defaultsText(['--top 3 (at most the number of classes)'])}`;

const options: Options = {
  top: { type: 'string' },
  invert: { type: 'boolean', default: false },
};

/** What predict needs to turn inputs into samples: the sample shape and the raw-value scale of its data. */
interface InputInfo {
  input: number[];
  /** [C, H, W] an image becomes (null: the model does not take images). */
  image: number[] | null;
  scale: number;
  size: number;
}

function inputInfo(spec: ModelSpec, training: Record<string, unknown>): InputInfo {
  const size = spec.input.reduce((a, b) => a * b, 1);
  const stored = Array.isArray(training.sampleShape) ? (training.sampleShape as number[]) : null;
  let image: number[] | null = null;
  for (const s of [stored, spec.input]) if (!image && s && s.length === 3 && (s[0] === 1 || s[0] === 3)) image = s;
  // An MLP on square gray images (the reference MLP takes 784 = 28 × 28) when the file says nothing else.
  const side = Math.round(Math.sqrt(size));
  if (!image && !stored && spec.input.length === 1 && side * side === size) image = [1, side, side];
  const scale = typeof training.inputScale === 'number' ? training.inputScale : 1 / 255;
  return { input: spec.input, image, scale, size };
}

/** One input argument's samples (each `size` values) with a label per sample for the output. */
function readInput(arg: string, info: InputInfo, invert: boolean): { label: string; x: Float32Array }[] {
  let bytes: Uint8Array;
  try {
    bytes = arg === '-' ? readFileSync(0) : readFileSync(arg);
  } catch (e) {
    throw new Error(`cannot read input ${arg}: ${fileReason(e)}`);
  }
  const name = arg === '-' ? 'stdin' : arg;
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: 2 ** 30 });
    } catch (e) {
      throw new Error(`${name}: gzip data is corrupt or truncated (${(e as Error).message})`);
    }
  }
  if (imageKind(bytes)) {
    if (!info.image)
      throw new Error(
        `${name} is an image, but the model takes [${info.input.join(', ')}] values, not an image; give .npy or CSV`,
      );
    return [{ label: name, x: imageToSample(decodeImage(bytes, name), info.image, invert) }];
  }
  if (invert) throw new UsageError('--invert applies to PNG and JPEG inputs');
  let values: Float32Array, integer: boolean;
  if (bytes[0] === 0x93 && bytes[1] === 0x4e) {
    const a = parseNpy(bytes, name);
    [values, integer] = [a.data, a.integer];
  } else if (bytes.length >= 4 && bytes[0] === 0 && bytes[1] === 0) {
    const a = parseIdx(bytes, name);
    [values, integer] = [
      Float32Array.from(a.data),
      !(a.data instanceof Float32Array || a.data instanceof Float64Array),
    ];
  } else {
    [values, integer] = [csvRows(new TextDecoder().decode(bytes), name, info.size), true];
  }
  if (values.length === 0 || values.length % info.size !== 0)
    throw new Error(
      `${name} holds ${values.length} values, not a whole number of samples of [${info.input.join(', ')}] ` +
        `(${info.size} values each)`,
    );
  if (integer) values = values.map((v) => v * info.scale);
  const n = values.length / info.size;
  return Array.from({ length: n }, (_, i) => ({
    label: n === 1 ? name : `${name}[${i}]`,
    x: values.subarray(i * info.size, (i + 1) * info.size),
  }));
}

/** CSV rows of `size` features; a non-numeric first row is a header; a row of size + 1 drops its first column. */
function csvRows(text: string, name: string, size: number): Float32Array {
  const rows = text
    .split(/\r?\n/)
    .filter((l) => l.trim())
    .map((l) => l.split(/[,;\t]/).map((c) => c.trim()));
  if (rows.length && rows[0].some((c) => c === '' || !Number.isFinite(Number(c)))) rows.shift();
  // Text with no row of numbers at all (a misnamed file, prose): say what the file is not, not "row 1 has 1 values".
  const isNumber = (c: string) => c !== '' && Number.isFinite(Number(c));
  if (!rows.some((r) => r.every(isNumber)))
    throw new Error(
      `${name} is not a PNG or JPEG image, a .npy or IDX array or a CSV of numbers (no row of it is numbers); ` +
        'give one of those',
    );
  const out = new Float32Array(rows.length * size);
  rows.forEach((r, i) => {
    if (r.length === size + 1) r = r.slice(1);
    if (r.length !== size)
      throw new Error(
        `${name}: row ${i + 1} has ${r.length} values; the model takes ${size} (a label first is allowed)`,
      );
    r.forEach((c, k) => {
      const v = Number(c);
      if (c === '' || !Number.isFinite(v))
        throw new Error(`${name}: row ${i + 1}: ${JSON.stringify(c)} is not a number`);
      out[i * size + k] = v;
    });
  });
  return out;
}

export async function run(argv: string[]): Promise<number> {
  const { values, positionals } = parse(argv, options, { min: 2 });
  if (values.help) {
    process.stdout.write(`${usage}\n`);
    return 0;
  }
  const [modelPath, ...inputs] = positionals;
  if (inputs.filter((a) => a === '-').length > 1) throw new UsageError('stdin (-) can be read once');
  const top = num(values, 'top', 3, { int: true, min: 1 });
  const { model, spec, training } = loadModel(modelPath);
  const classNames = Array.isArray(training.classNames) ? (training.classNames as string[]) : undefined;
  if (!classNames) note(`frugal: ${modelPath} carries no class names; classes are shown by number`);
  const info = inputInfo(spec, training);
  const samples = inputs.flatMap((a) => readInput(a, info, !!values.invert));
  const x = new Float32Array(samples.length * info.size);
  samples.forEach((s, i) => x.set(s.x, i * info.size));
  const preds = predict(model, new Tensor(x, [samples.length, ...spec.input]), { top, classNames });
  const results = preds.map((p, i) => ({
    input: samples[i].label,
    class: p.top[0].index,
    name: p.top[0].name,
    top: p.top.map((t) => ({ class: t.index, name: t.name, probability: t.probability })),
  }));
  const human = results
    .map(
      (r) =>
        `${r.input}: ` +
        r.top.map((t) => `${t.name ?? `class ${t.class}`} ${(100 * t.probability).toFixed(1)}%`).join(', '),
    )
    .join('\n');
  emit(!!values.json, { command: 'predict', model: modelPath, classNames, predictions: results }, human);
  return 0;
}
