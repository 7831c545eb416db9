// --resume: the checkpoint must exist and have been written by a run with the same settings; continuing a run
// with another learning rate, data set or model would silently mix two experiments.
import { existsSync, readFileSync } from 'node:fs';
import { checkpointInfo } from '../node.js';
import { UsageError } from './args.js';

const show = (v: unknown): string => {
  const s = v === undefined ? 'unset' : typeof v === 'string' ? v : JSON.stringify(v);
  // Cut in the middle: a long path or plant digest differs at its end more often than at its start.
  return s.length > 60 ? `${s.slice(0, 29)}…${s.slice(-30)}` : s;
};

/**
 * With --resume: the checkpoint at `path` must exist (exit 1 otherwise) and its settings (fit's `config`,
 * keyed by flag name) must equal `config` (exit 2, listing each difference). Returns what it says of the run.
 * Settings a checkpoint predates (an older file without them) are not compared.
 */
export function checkResume(path: string, config: Record<string, unknown>): ReturnType<typeof checkpointInfo> {
  if (!existsSync(path)) throw new Error(`--resume: no checkpoint at ${path}; run without --resume to start`);
  const info = checkpointInfo(readFileSync(path));
  const saved = info.config;
  if (saved) {
    const keys = [...new Set([...Object.keys(saved), ...Object.keys(config)])];
    const diffs = keys.filter((k) => JSON.stringify(saved[k]) !== JSON.stringify(config[k]));
    if (diffs.length)
      throw new UsageError(
        `--resume: ${path} was written with other settings: ` +
          diffs.map((k) => `--${k} ${show(saved[k])} there, ${show(config[k])} now`).join('; ') +
          '; give the same flags to continue it, or start afresh without --resume',
        false,
      );
  }
  return info;
}
