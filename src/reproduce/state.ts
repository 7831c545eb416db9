// Shared parts of the reproductions: a seeded training subset, and the state file that lets
// `--resume` continue after the last finished run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, subset, type ImageDataset } from '../index.js';
import { writeFileAtomic } from '../node.js';

/** n images drawn without replacement (kept in dataset order); `salt` keeps each reproduction's draw its own. */
export function sampleDataset(ds: ImageDataset, n: number, seed: number, salt: number): ImageDataset {
  if (n >= ds.count) return ds;
  const idx = new Rng(seed * 7 + salt)
    .shuffle(Array.from({ length: ds.count }, (_, i) => i))
    .slice(0, n)
    .sort((a, b) => a - b);
  return subset(ds, idx);
}

/** The content of a state file: the settings it was made with and the finished runs by key. */
export interface SavedState<R = unknown> {
  config: Record<string, unknown>;
  runs: Record<string, R>;
}

/** Where a reproduction keeps its state: `reproduce-NAME[-quick].state.json` in outDir. */
export function statePath(outDir: string, name: string, quick: boolean): string {
  return join(outDir, `reproduce-${name}${quick ? '-quick' : ''}.state.json`);
}

/** Read a state file (never written here): what --report-only rebuilds the report from. */
export function readState<R>(outDir: string, name: string, quick: boolean): SavedState<R> {
  const path = statePath(outDir, name, quick);
  if (!existsSync(path)) {
    const cmd = `frugal reproduce ${name}${quick ? ' --quick' : ''}`;
    throw new Error(`no state file at ${path}: run \`${cmd}\` first, or give its --out DIR`);
  }
  let st: SavedState<R>;
  try {
    st = JSON.parse(readFileSync(path, 'utf8')) as SavedState<R>;
  } catch (e) {
    throw new Error(`${path} is not valid JSON: ${(e as Error).message}`);
  }
  if (!st || typeof st.config !== 'object' || typeof st.runs !== 'object') {
    throw new Error(`${path} has no config and runs: not a state file`);
  }
  return st;
}

/**
 * The finished runs of `reproduce-NAME[-quick].state.json` in outDir (with resume, when its
 * settings are these), and save() to write them back atomically after each run.
 */
export function runState<R>(
  outDir: string,
  name: string,
  quick: boolean,
  config: Record<string, unknown>,
  resume: boolean,
): { runs: Record<string, R>; save(): void } {
  const path = statePath(outDir, name, quick);
  const st: SavedState<R> = { config, runs: {} };
  if (resume && existsSync(path)) {
    const prev = JSON.parse(readFileSync(path, 'utf8')) as typeof st;
    // The seeds may grow: --seeds K --resume keeps the finished seeds' runs and adds the others.
    const settings = (c: Record<string, unknown>) => JSON.stringify({ ...c, seeds: undefined });
    if (settings(prev.config) !== settings(config))
      throw new Error(
        `--resume: ${path} was made with other settings (${JSON.stringify(prev.config)}); remove it or use the ` +
          `same flags`,
      );
    st.runs = prev.runs;
  }
  return { runs: st.runs, save: () => writeFileAtomic(path, JSON.stringify(st, null, 1)) };
}
