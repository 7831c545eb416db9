// Shared parts of the reproductions: a seeded training subset, and the state file that lets
// `--resume` continue after the last finished run.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng, subset, type ImageDataset } from '../index.js';
import { writeFileAtomic } from '../node.js';

/** n images drawn without replacement (kept in dataset order); `salt` keeps each reproduction's draw its own. */
export function sampleDataset(ds: ImageDataset, n: number, seed: number, salt: number): ImageDataset {
  if (n >= ds.count) return ds;
  const idx = new Rng(seed * 7 + salt).shuffle(Array.from({ length: ds.count }, (_, i) => i)).slice(0, n).sort((a, b) => a - b);
  return subset(ds, idx);
}

/**
 * The finished runs of `reproduce-NAME[-quick].state.json` in outDir (with resume, when its
 * settings are these), and save() to write them back atomically after each run.
 */
export function runState<R>(outDir: string, name: string, quick: boolean, config: Record<string, unknown>, resume: boolean): { runs: Record<string, R>; save(): void } {
  const path = join(outDir, `reproduce-${name}${quick ? '-quick' : ''}.state.json`);
  const st: { config: Record<string, unknown>; runs: Record<string, R> } = { config, runs: {} };
  if (resume && existsSync(path)) {
    const prev = JSON.parse(readFileSync(path, 'utf8')) as typeof st;
    if (JSON.stringify(prev.config) !== JSON.stringify(config)) throw new Error(`--resume: ${path} was made with other settings (${JSON.stringify(prev.config)}); remove it or use the same flags`);
    st.runs = prev.runs;
  }
  return { runs: st.runs, save: () => writeFileAtomic(path, JSON.stringify(st, null, 1)) };
}
