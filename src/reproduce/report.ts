// The reproduction contract of shared/DESIGN.md: one JSON object per run, criteria never hidden.
import type { ProgressSink } from '../index.js';
import type { SavedState } from './state.js';
import type { ChartSpec } from '../report/vega.js';

export interface Criterion {
  name: string;
  target: string;
  value: number;
  pass: boolean;
  /** For a statistical criterion: how many independent seeds the value rests on (see requireSeeds). */
  seeds?: number;
}

/** Independent seeds a statistical criterion of a full run needs (issue 24 of the project standard). */
export const MIN_SEEDS = 3;

export interface ReproduceReport {
  name: string;
  dataset: string;
  mode: 'quick' | 'full';
  seeds: number[];
  paper: Record<string, unknown>;
  ours: Record<string, unknown>;
  criteria: Criterion[];
  /** Runs the state lacks (a partial state read by --report-only); absent when every run is there. */
  missing?: string[];
}

/** A pass/fail line; give `seeds` when the value is a statistic over that many independent runs. */
export function criterion(name: string, target: string, value: number, pass: boolean, seeds?: number): Criterion {
  return seeds === undefined ? { name, target, value, pass } : { name, target, value, pass, seeds };
}

/**
 * A full run's statistical criteria resting on fewer than MIN_SEEDS seeds are failed and say why: one
 * seed's number is not evidence either way. Quick runs are smoke tests and are left as they are.
 */
export function requireSeeds<R extends Pick<ReproduceReport, 'criteria' | 'mode'>>(r: R, min = MIN_SEEDS): R {
  if (r.mode !== 'full') return r;
  const criteria = r.criteria.map((c) =>
    c.seeds !== undefined && c.seeds < min
      ? {
          ...c,
          name: `${c.name} (not established: ${c.seeds} seed(s), a statistical criterion needs ≥ ${min})`,
          pass: false,
        }
      : c,
  );
  return { ...r, criteria };
}

/** A criterion whose runs are missing from the state: reported, and failed, rather than left out. */
export function unmeasured(name: string, target: string, missing: string): Criterion {
  return criterion(`${name} (not measured: ${missing} missing)`, target, NaN, false);
}

/** True when there is at least one criterion, every one passes and no run is missing. */
export function allPass(r: Pick<ReproduceReport, 'criteria' | 'missing'>): boolean {
  return r.criteria.length > 0 && r.criteria.every((c) => c.pass) && !r.missing?.length;
}

/** The exit status of `frugal reproduce`: 0 when every criterion passes, 3 when the run finished but one failed. */
export function exitStatus(r: Pick<ReproduceReport, 'criteria' | 'missing'>): 0 | 3 {
  return allPass(r) ? 0 : 3;
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(v: number[]): { mean: number; std: number; n: number } {
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}

/** What `frugal reproduce` hands every reproduction: the shared flags, parsed, and the reproduction's own. */
export interface ReproContext {
  quick: boolean;
  seeds: number[];
  dataDir?: string;
  trainSamples?: number;
  epochs?: number;
  /** Folder of the state file, checkpoints and models (--out). */
  outDir: string;
  resume: boolean;
  progress?: ProgressSink;
  log: (line: string) => void;
  /** The reproduction's own flags (Reproduction.options), parsed; absent when not given. */
  own: Record<string, number | boolean | string | undefined>;
}

/** A flag of one reproduction beyond the shared ones (a count: a positive integer), with its --help line. */
export interface ReproOption {
  /** count: a positive integer; flag: a boolean; choice: one of `choices`. */
  type: 'count' | 'flag' | 'choice';
  choices?: string[];
  usage: string;
  help: string;
}

/**
 * One reproduction, as the registry holds it: `run` trains (resuming from the state file) and
 * returns the report; `fromState` rebuilds the report from a saved state without training
 * (--report-only; a partial state lists its missing runs); `report` is the Markdown of the
 * measured numbers, which the results writer wraps with the criteria, the paper and the run.
 */
export interface Reproduction {
  name: string;
  /** One line for `frugal reproduce --help`. */
  describe: string;
  /** Flags only this reproduction takes, by name (without --). */
  options: Record<string, ReproOption>;
  /** Seeds 1..K when --seeds is not given, for a quick run and (at least MIN_SEEDS) a full one. */
  defaultSeeds?: number;
  /** May be async (e.g. a reproduction that waits for worker processes). */
  run(ctx: ReproContext): ReproduceReport | Promise<ReproduceReport>;
  fromState(state: SavedState, seeds: number[] | undefined): ReproduceReport;
  report(r: ReproduceReport): string;
  /**
   * Charts written beside the results document, by file name: Vega-Lite specs that the results writer renders to
   * SVG through src/report/vega.ts (so every reproduction's chart is drawn and tested the same way); optional.
   */
  charts?(r: ReproduceReport): Record<string, ChartSpec>;
  /** Where the data come from when the reproduction reads no dataset (no Fashion-MNIST is located). */
  dataSource?: string;
}
