import { parseArgs, type ParseArgsConfig } from 'node:util';
import { didYouMean } from '../core/suggest.js';

/** Wrong or missing arguments: the CLI prints the usage and exits with code 2. */
export class UsageError extends Error {
  /** `showUsage` false: the message says all (a long usage would bury it). */
  constructor(
    message: string,
    readonly showUsage = true,
  ) {
    super(message);
  }
}

export type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON: Options = {
  json: { type: 'boolean', default: false },
  debug: { type: 'boolean', default: false },
  help: { type: 'boolean', short: 'h', default: false },
};

export function parse(
  argv: string[],
  options: Options,
  positionals: number | { min: number } = 0,
): { values: Record<string, string | boolean | undefined>; positionals: string[] } {
  let r;
  const all = { ...COMMON, ...options };
  // `--lr -1`: parseArgs calls a value starting with "-" ambiguous; a negative number is a value, so it is
  // joined to its flag (--lr=-1) and reaches the flag's own range check.
  const args = [...argv];
  for (let i = args.length - 2; i >= 0; i--) {
    const m = /^--([^=]+)$/.exec(args[i]);
    if (m && all[m[1]]?.type === 'string' && /^-(\d|\.\d|Infinity)/.test(args[i + 1]))
      args.splice(i, 2, `${args[i]}=${args[i + 1]}`);
  }
  try {
    r = parseArgs({ args, options: all, allowPositionals: true, strict: true });
  } catch (e) {
    const msg = (e as Error).message.replace(/\. To specify a positional argument.*$/s, '');
    const flag = /^Unknown option '--([^'=]+)'/.exec(msg)?.[1];
    throw new UsageError(
      flag === undefined
        ? msg
        : `${msg}${didYouMean(
            `--${flag}`,
            Object.keys(all).map((k) => `--${k}`),
          )}`,
    );
  }
  if (typeof positionals === 'object') {
    if (!r.values.help && r.positionals.length < positionals.min)
      throw new UsageError(`expected at least ${positionals.min} positional arguments, got ${r.positionals.length}`);
  } else if (!r.values.help && r.positionals.length !== positionals) {
    throw new UsageError(
      positionals
        ? `expected ${positionals} positional argument(s), got ${r.positionals.length}`
        : `unexpected argument ${r.positionals[0]}`,
    );
  }
  return r as { values: Record<string, string | boolean | undefined>; positionals: string[] };
}

/**
 * An integer flag without a stated maximum is at most this (2³¹ − 1, the largest Int32): larger than
 * any count of samples, steps or widths one machine handles, and small enough to size nothing absurd.
 */
export const MAX_INT_FLAG = 2 ** 31 - 1;

/** A numeric option with bounds (finite always; an integer one at most MAX_INT_FLAG); missing gives the default. */
export function num(
  values: Record<string, unknown>,
  name: string,
  dflt: number,
  check: { int?: boolean; min?: number; max?: number; exclusiveMin?: boolean; limit?: [number, string] } = {},
): number {
  const raw = values[name];
  if (raw === undefined) return dflt;
  // `limit`: a maximum from core/limits.ts, named in the message; integers get MAX_INT_FLAG by default.
  const limit = check.limit ?? (check.int && check.max === undefined ? [MAX_INT_FLAG, 'MAX_INT_FLAG'] : undefined);
  const v = Number(raw);
  const bad =
    !Number.isFinite(v) ||
    (check.int && !Number.isInteger(v)) ||
    (check.min !== undefined && (check.exclusiveMin ? v <= check.min : v < check.min)) ||
    (check.max !== undefined && v > check.max) ||
    (limit !== undefined && v > limit[0]);
  if (bad) {
    const range = [
      check.int ? 'an integer' : 'a number',
      check.min !== undefined ? `${check.exclusiveMin ? '>' : '≥'} ${check.min}` : '',
      check.max !== undefined ? `≤ ${check.max}` : '',
    ]
      .filter(Boolean)
      .join(' ');
    const most = limit ? ` (at most ${limit[0]}, the limit ${limit[1]})` : '';
    throw new UsageError(`--${name} must be ${range}, got ${JSON.stringify(raw)}${most}`);
  }
  return v;
}

export function choice<T extends string>(
  values: Record<string, unknown>,
  name: string,
  allowed: readonly T[],
  dflt: T,
): T {
  const v = (values[name] as string | undefined) ?? dflt;
  if (!allowed.includes(v as T))
    throw new UsageError(`--${name} must be one of ${allowed.join(', ')}, got ${JSON.stringify(v)}`);
  return v as T;
}

/** Progress and notes go to stderr so that stdout carries only the result. */
export function note(s: string): void {
  process.stderr.write(`${s}\n`);
}

/** Print the result: one JSON object on stdout with --json, otherwise the human text. */
export function emit(json: boolean, obj: Record<string, unknown>, human: string): void {
  process.stdout.write(json ? `${JSON.stringify(obj)}\n` : `${human}\n`);
}

/** The data directory a command uses when --data-dir is not given (as locateFashionMnist looks). */
export const DATA_DIR_DEFAULT = '$FRUGAL_DATA_DIR, else /usr/share/datasets/fashion-mnist, else the shipped subset';

/**
 * The "Defaults:" paragraph of a usage: one `--flag value` per option that takes a value, wrapped at
 * 100 columns. A test holds it equal to the README's line for the command and checks no flag is missing.
 */
export function defaultsText(parts: string[]): string {
  const lines = ['  Defaults:'];
  for (const p of parts.map((s, i) => (i < parts.length - 1 ? `${s};` : `${s}.`))) {
    if (lines[lines.length - 1].length + p.length + 1 > 100) lines.push(`    ${p}`);
    else lines[lines.length - 1] += ` ${p}`;
  }
  return lines.join('\n');
}
