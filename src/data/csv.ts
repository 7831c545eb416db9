// A classification table in CSV: one row per sample, a label column and numeric feature columns. Features
// are kept as float32 (used as given); labels that are all non-negative integers stay themselves (class i
// is label i), other labels are names, numbered in sorted order.
import type { ImageDataset } from './dataset.js';

export class CsvError extends Error {}

/** How a CSV is read. */
export interface CsvOptions {
  /** Whether the first row names the columns; 'auto': it does when a feature cell in it is not a number. */
  header?: 'auto' | 'yes' | 'no';
  /** The label column: 0 the first (default), −1 the last, k the (k+1)-th. */
  labelColumn?: number;
  /** Class names to number the labels by (a model's): a label not among them is refused. */
  classNames?: string[];
  /** Shape of one sample (default [features]). */
  sampleShape?: number[];
  /** Multiply each feature by this (digits' 0..16 to [0, 1]); default 1. */
  scale?: number;
}

function splitRow(line: string): string[] {
  // Plain CSV as numeric tables are written (no quoted commas); quotes around a field are dropped.
  return line.split(/[,;\t]/).map((c) => c.trim().replace(/^"(.*)"$/, '$1'));
}

/** Parse CSV text into a dataset; `what` names the file in errors. */
export function parseCsvDataset(text: string, what: string, o: CsvOptions = {}): ImageDataset {
  const lines = text.split(/\r?\n/).filter((l) => l.trim().length > 0);
  if (lines.length === 0) throw new CsvError(`${what}: the file is empty`);
  const first = splitRow(lines[0]);
  const ncol = first.length;
  if (ncol < 2)
    throw new CsvError(`${what}: a row needs a label and at least one feature, the first has ${ncol} field`);
  const lc = o.labelColumn ?? 0;
  const label = lc < 0 ? ncol + lc : lc;
  if (label < 0 || label >= ncol)
    throw new CsvError(`${what}: --label-column ${lc} is outside the ${ncol} columns (0..${ncol - 1}, or -1 the last)`);
  const firstIsText = first.some((c, i) => i !== label && (c === '' || !Number.isFinite(Number(c))));
  const header = o.header === 'yes' || (o.header !== 'no' && firstIsText);
  const rows = header ? lines.slice(1) : lines;
  if (rows.length === 0) throw new CsvError(`${what}: a header row and no samples`);
  const F = ncol - 1;
  const shape = o.sampleShape ?? [F];
  if (shape.reduce((a, b) => a * b, 1) !== F)
    throw new CsvError(`${what}: ${F} features do not make samples of shape [${shape.join(', ')}]`);
  const images = new Float32Array(rows.length * F);
  const raw: string[] = [];
  const scale = o.scale ?? 1;
  rows.forEach((line, r) => {
    const cells = splitRow(line);
    const at = r + (header ? 2 : 1);
    if (cells.length !== ncol) throw new CsvError(`${what}: line ${at} has ${cells.length} fields, the first ${ncol}`);
    let k = 0;
    cells.forEach((c, i) => {
      if (i === label) return void raw.push(c);
      const v = Number(c);
      if (c === '' || !Number.isFinite(v))
        throw new CsvError(
          `${what}: line ${at}, column ${i}: ${JSON.stringify(c)} is not a number` +
            (r === 0 && !header ? ' (if this row names the columns, pass --csv-header yes)' : ''),
        );
      images[r * F + k++] = v * scale;
    });
  });
  const { labels, names } = numberLabels(raw, what, o.classNames);
  return { images, labels, count: rows.length, sampleShape: shape, classes: names.length, classNames: names };
}

/** Class indices for the label texts: integers as themselves, names sorted, or by the given names. */
function numberLabels(texts: string[], what: string, given?: string[]): { labels: Uint8Array; names: string[] } {
  // A numeric label is read as its number ("3.0", "3e0" and "3" are class 3).
  const raw = texts.map((t) => (t !== '' && Number.isInteger(Number(t)) && Number(t) >= 0 ? String(Number(t)) : t));
  const labels = new Uint8Array(raw.length);
  if (given) {
    const at = new Map(given.map((n, i) => [n, i]));
    raw.forEach((t, i) => {
      const k = at.get(t);
      if (k === undefined)
        throw new CsvError(
          `${what}: label ${JSON.stringify(t)} is not one of the model's classes (${given.join(', ')})`,
        );
      labels[i] = k;
    });
    return { labels, names: given };
  }
  const ints = raw.every((t) => /^\d+$/.test(t));
  if (ints) {
    const top = Math.max(...raw.map(Number));
    if (top > 255) throw new CsvError(`${what}: label ${top} is above 255 (at most 256 classes)`);
    raw.forEach((t, i) => (labels[i] = Number(t)));
    return { labels, names: Array.from({ length: top + 1 }, (_, i) => String(i)) };
  }
  const names = [...new Set(raw)].sort();
  if (names.length > 256) throw new CsvError(`${what}: ${names.length} distinct labels (at most 256 classes)`);
  const at = new Map(names.map((n, i) => [n, i]));
  raw.forEach((t, i) => (labels[i] = at.get(t)!));
  return { labels, names };
}
