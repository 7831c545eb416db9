// Output paths, checked before any work starts: a run of an hour must not end in "EISDIR: …tmp-1234". Every
// command that writes a file or a directory passes its flag through here first. Policy: a missing parent
// directory is created (as `mkdir -p`); a path that names a directory, a path ending in "/", or anything
// that is not a regular file is a wrong flag (exit 2); a location the filesystem refuses is exit 1.
import { closeSync, existsSync, openSync, statSync, unlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { UsageError } from './args.js';
import { fileReason } from '../io/fs-reason.js';
import { makeDirs } from '../io/model-file.js';

/** The filesystem refused an output location (exit 1): names the path, the reason and the fix. */
export class OutputPathError extends Error {}

/** The nearest existing ancestor of `dir` (itself when it exists). */
function existingAncestor(dir: string): string {
  let d = resolve(dir);
  while (!existsSync(d) && dirname(d) !== d) d = dirname(d);
  return d;
}

/** Create `dir` (and its parents) and prove it writable by creating and removing a probe file. */
function ensureWritableDir(flag: string, path: string, dir: string, create = true): void {
  const top = existingAncestor(dir);
  if (!statSync(top).isDirectory())
    throw new OutputPathError(
      `${flag} ${path}: ${top} is a file, so no directory can be made under it; choose another location`,
    );
  // create false: the first write makes the directory (writeFileAtomic); check that it can be made in `top`.
  if (!create) dir = top;
  try {
    makeDirs(dir);
  } catch (e) {
    throw new OutputPathError(
      `${flag} ${path}: cannot create the directory ${dir} (${fileReason(e)}); choose a writable location`,
    );
  }
  const probe = join(dir, `.frugal-write-probe-${process.pid}`);
  try {
    closeSync(openSync(probe, 'wx'));
    unlinkSync(probe);
  } catch (e) {
    throw new OutputPathError(
      `${flag} ${path}: cannot write in ${dir} (${fileReason(e)}); choose a writable location ` +
        '(a directory you own, e.g. runs/)',
    );
  }
}

/**
 * Check an output FILE path before any work starts and create its missing parent directories.
 * Refused with exit 2 (a wrong flag): an empty path, a path ending in "/", an existing directory,
 * an existing non-regular file (a device, a FIFO). Refused with exit 1: a location the filesystem
 * will not write (read-only, no permission, a parent that is a file). An existing file is replaced
 * (atomically, when the result is written). Returns the path unchanged.
 */
export function checkOutputFile(
  flag: string,
  path: string,
  example = 'model.safetensors',
  o: { create?: boolean } = {},
): string {
  if (!path) throw new UsageError(`${flag} needs a file path, e.g. ${flag} runs/${example}`);
  if (/[/\\]$/.test(path) || basename(path) === '.' || basename(path) === '..')
    throw new UsageError(
      `${flag} ${path} names a directory (it ends in "/"); give a file path in it, e.g. ${flag} ${join(path, example)}`,
    );
  if (existsSync(path)) {
    const st = statSync(path);
    if (st.isDirectory())
      throw new UsageError(
        `${flag} ${path} is an existing directory; give a file path in it, e.g. ${flag} ${join(path, example)}`,
      );
    if (!st.isFile()) throw new UsageError(`${flag} ${path} exists and is not a regular file; choose a file path`);
  }
  ensureWritableDir(flag, path, dirname(path), o.create ?? true);
  return path;
}

/**
 * Check an output DIRECTORY before any work starts, creating it (and its parents) when missing.
 * An existing file there is a wrong flag (exit 2); a location the filesystem refuses is exit 1.
 */
export function checkOutputDir(flag: string, path: string, create = true): string {
  if (!path) throw new UsageError(`${flag} needs a directory path, e.g. ${flag} runs`);
  if (existsSync(path) && !statSync(path).isDirectory())
    throw new UsageError(`${flag} ${path} is an existing file; ${flag} takes a directory`);
  // create false: checked that it can be made, left for the first write (writeFileAtomic makes directories), so
  // a run that fails before writing anything leaves no empty directory behind.
  ensureWritableDir(flag, path, path, create);
  return path;
}

/**
 * The default output of a run given no --out: `runs/NAME-YYYYMMDD-HHMMSS.safetensors` (UTC), never an
 * existing file (a `-2`, `-3`, … suffix is added), so that a forgotten --out never overwrites a model.
 */
export function defaultRunPath(name: string, now = new Date(), dir = 'runs'): string {
  const stamp = now
    .toISOString()
    .replace(/\.\d+Z$/, '')
    .replace(/[-:]/g, '')
    .replace('T', '-');
  const base = join(dir, `${name}-${stamp}`);
  let path = `${base}.safetensors`;
  for (let i = 2; existsSync(path) || existsSync(`${path}.ckpt`); i++) path = `${base}-${i}.safetensors`;
  return path;
}

/**
 * The --out of a training command: checked when given; otherwise the non-overwriting default of
 * defaultRunPath(name), announced on stderr. --resume needs --out (the run to continue).
 */
export function runOutput(values: Record<string, unknown>, name: string): string {
  const given = values.out as string | undefined;
  if (given !== undefined) return checkOutputFile('--out', given);
  if (values.resume) throw new UsageError('--resume continues the run saved at --out PATH; give that --out');
  // runs/ is made by the first write, so a run that fails before it leaves no empty directory behind.
  const out = checkOutputFile('--out', defaultRunPath(name), 'model.safetensors', { create: false });
  process.stderr.write(`frugal: no --out given; the model will be saved to ${out}\n`);
  return out;
}

/** The name of a model for file names: cnn, mlp, or the spec file's name without .json. */
export function modelName(label: string): string {
  return basename(label).replace(/\.json$/, '') || 'model';
}
