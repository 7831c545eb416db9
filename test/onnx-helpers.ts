// Shared by the ONNX tests: run bytes in onnxruntime-node, compare with Frugal, check files with Python's onnx.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { noGrad, type Module, type Tensor } from '../src/index.js';

export const PYTHON = '/usr/bin/python3';

/** Run an ONNX model on one input in onnxruntime-node (CPU, one thread: the machine is shared). */
export async function ortRun(bytes: Uint8Array, x: Tensor): Promise<{ data: Float32Array; dims: readonly number[] }> {
  const s = await ort.InferenceSession.create(bytes, { intraOpNumThreads: 1, interOpNumThreads: 1 });
  const feeds = { [s.inputNames[0]]: new ort.Tensor('float32', Float32Array.from(x.data), x.shape) };
  const out = (await s.run(feeds))[s.outputNames[0]];
  await s.release();
  return { data: out.data as Float32Array, dims: out.dims };
}

const argmaxRows = (d: ArrayLike<number>, rows: number) => {
  const k = d.length / rows,
    out: number[] = [];
  for (let r = 0; r < rows; r++) {
    let b = 0;
    for (let j = 1; j < k; j++) if (d[r * k + j] > d[r * k + b]) b = j;
    out.push(b);
  }
  return out;
};

/** Frugal's eval-mode output against ONNX Runtime's: same shape, max |Δ| ≤ tol, identical arg-max per row. */
export async function assertSameAsOrt(what: string, model: Module, bytes: Uint8Array, x: Tensor, tol = 1e-4) {
  model.eval();
  const y = noGrad(() => model.forward(x));
  const r = await ortRun(bytes, x);
  assert.deepEqual([...r.dims], y.shape, `${what}: output shape`);
  let d = 0;
  for (let i = 0; i < y.size; i++) d = Math.max(d, Math.abs(y.data[i] - r.data[i]));
  assert.ok(d <= tol, `${what}: max |Frugal − onnxruntime| = ${d} > ${tol}`);
  assert.deepEqual(argmaxRows(r.data, x.shape[0]), argmaxRows(y.data, x.shape[0]), `${what}: argmax differs`);
  return d;
}

/** Whether Debian's python3-onnx is importable. */
export function pythonOnnx(): boolean {
  return spawnSync(PYTHON, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0;
}

/** onnx.checker.check_model (full check, with shape inference) on each file; returns failures by name. */
export function pythonCheck(files: Record<string, Uint8Array>): Record<string, string> {
  const dir = mkdtempSync(join(tmpdir(), 'frugal-onnx-'));
  const paths = Object.entries(files).map(([k, b]) => {
    const p = join(dir, `${k.replace(/[^a-z0-9-]/gi, '_')}.onnx`);
    writeFileSync(p, b);
    return [k, p];
  });
  const script =
    'import json, sys, onnx\nbad = {}\nfor name, p in json.loads(sys.argv[1]):\n' +
    '    try:\n        onnx.checker.check_model(onnx.load(p), full_check=True)\n' +
    '    except Exception as e:\n        bad[name] = str(e)[:500]\nprint(json.dumps(bad))\n';
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(paths)], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout.trim());
}
