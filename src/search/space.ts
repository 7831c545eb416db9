// A search space in JSON, checked once, and seeded random draws from it with rejection of invalid draws.
// Browser-safe: no storage, no processes (those are in store-*.ts and worker.ts).
import { Rng } from '../core/rng.js';
import { didYouMean } from '../core/suggest.js';

/** A value a hyperparameter takes. */
export type ParamValue = number | string | boolean;
/** One draw: flat names (a repeated group's members are `GROUP.I.NAME`, I from 0). */
export type Params = Record<string, ParamValue>;

/**
 * One hyperparameter or group. `if` makes it conditional: it is drawn only when every named parameter
 * (drawn before it) has the given value (or one of the values, for an array).
 */
export type ParamDef = (
  | { type: 'int'; min: number; max: number; step?: number }
  | { type: 'float'; min: number; max: number; steps?: number }
  | { type: 'loguniform'; min: number; max: number; steps?: number }
  | { type: 'choice'; values: ParamValue[] }
  | { type: 'repeat'; count: string | number; params: Record<string, ParamDef> }
) & { if?: Record<string, ParamValue | ParamValue[]> };

/** A bad space: names the field and the fix. */
export class SearchSpaceError extends Error {}

/**
 * Refuse a key of `o` outside `valid` (a misspelt "seeed" or "mn" would otherwise be ignored and the default
 * used): names where, the key, the valid keys and the nearest one.
 */
export function checkKnownKeys(o: object, valid: readonly string[], where: string): void {
  for (const k of Object.keys(o))
    if (!valid.includes(k))
      throw new SearchSpaceError(`${where}: unknown key '${k}'; it takes ${valid.join(', ')}` + didYouMean(k, valid));
}

/** The keys each parameter type takes (what validateSpace, drawLeaf and gridValues read). */
const PARAM_KEYS: Record<string, readonly string[]> = {
  int: ['type', 'min', 'max', 'step', 'if'],
  float: ['type', 'min', 'max', 'steps', 'if'],
  loguniform: ['type', 'min', 'max', 'steps', 'if'],
  choice: ['type', 'values', 'if'],
  repeat: ['type', 'count', 'params', 'if'],
};

/**
 * Check a parsed JSON `params` object: every `int`/`float`/`loguniform` has finite min ≤ max (loguniform
 * min > 0), every `choice` at least one value, every `repeat` a count that is an int parameter declared
 * before it (or a fixed integer ≥ 0), every `if` names a parameter declared before it.
 */
export function validateSpace(v: unknown, where = 'params'): Record<string, ParamDef> {
  if (!v || typeof v !== 'object' || Array.isArray(v))
    throw new SearchSpaceError(
      `${where} must be an object of hyperparameters, e.g. {"lr": {"type": "loguniform", ...}}`,
    );
  const seen = new Map<string, ParamDef>();
  for (const [name, d] of Object.entries(v as Record<string, ParamDef>)) {
    const at = `${where}.${name}`;
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name))
      throw new SearchSpaceError(`${at}: a name is letters, digits, _ and - (no dots: dots join group members)`);
    if (!d || typeof d !== 'object') throw new SearchSpaceError(`${at} must be an object with a "type"`);
    if (Object.hasOwn(PARAM_KEYS, d.type)) checkKnownKeys(d, PARAM_KEYS[d.type], at);
    if (d.if !== undefined) {
      if (typeof d.if !== 'object' || d.if === null) throw new SearchSpaceError(`${at}.if must be an object`);
      for (const [k, want] of Object.entries(d.if)) {
        if (!seen.has(k)) throw new SearchSpaceError(`${at}.if names "${k}", which is not declared before it`);
        // A condition on a value its choice can never take would leave the parameter never drawn, silently.
        const on = seen.get(k)!;
        const wanted = Array.isArray(want) ? want : [want];
        if (on.type === 'choice' && !wanted.some((w) => on.values.includes(w as never)))
          throw new SearchSpaceError(
            `${at}.if wants ${k} = ${JSON.stringify(want)}, which it never takes (its values: ` +
              `${JSON.stringify(on.values)})`,
          );
      }
    }
    if (d.type === 'int' || d.type === 'float' || d.type === 'loguniform') {
      if (typeof d.min !== 'number' || typeof d.max !== 'number' || !Number.isFinite(d.min) || !Number.isFinite(d.max))
        throw new SearchSpaceError(`${at}: "min" and "max" must be finite numbers`);
      if (d.min > d.max) throw new SearchSpaceError(`${at}: min ${d.min} > max ${d.max}; swap them or fix the range`);
      if (d.type === 'int' && (!Number.isInteger(d.min) || !Number.isInteger(d.max)))
        throw new SearchSpaceError(`${at}: an int range needs integer min and max`);
      if (d.type === 'int' && d.step !== undefined && !(Number.isInteger(d.step) && d.step >= 1))
        throw new SearchSpaceError(`${at}: "step" must be an integer ≥ 1`);
      if (d.type === 'loguniform' && d.min <= 0)
        throw new SearchSpaceError(`${at}: a loguniform range needs min > 0 (got ${d.min}); use "float" for 0`);
      if (d.type !== 'int' && d.steps !== undefined && !(Number.isInteger(d.steps) && d.steps >= 1))
        throw new SearchSpaceError(`${at}: "steps" (grid points) must be an integer ≥ 1`);
    } else if (d.type === 'choice') {
      if (!Array.isArray(d.values) || d.values.length === 0)
        throw new SearchSpaceError(`${at}: a choice needs a non-empty "values" array`);
      for (const x of d.values)
        if (!['number', 'string', 'boolean'].includes(typeof x))
          throw new SearchSpaceError(`${at}: choice values must be numbers, strings or booleans`);
    } else if (d.type === 'repeat') {
      if (typeof d.count === 'number') {
        if (!Number.isInteger(d.count) || d.count < 0) {
          throw new SearchSpaceError(`${at}.count must be an integer ≥ 0`);
        }
      } else {
        const c = seen.get(String(d.count));
        if (!c || c.type !== 'int')
          throw new SearchSpaceError(`${at}.count must name an int parameter declared before it, got "${d.count}"`);
        if (c.min < 0) throw new SearchSpaceError(`${at}.count "${d.count}" has min ${c.min} < 0`);
      }
      validateSpace(d.params, `${at}.params`);
    } else {
      throw new SearchSpaceError(
        `${at}: unknown type ${JSON.stringify((d as { type: unknown }).type)}; use int, ` +
          `float, loguniform, choice or repeat`,
      );
    }
    seen.set(name, d);
  }
  return v as Record<string, ParamDef>;
}

/**
 * The type of the parameter a flat draw name stands for (`GROUP.I.NAME` is NAME of repeat group GROUP), or
 * undefined when the space has no such parameter.
 */
export function paramType(space: Record<string, ParamDef>, flat: string): ParamDef['type'] | undefined {
  const [head, i, ...rest] = flat.split('.');
  const d = Object.hasOwn(space, head) ? space[head] : undefined;
  if (!d) return undefined;
  if (i === undefined) return d.type;
  return d.type === 'repeat' && /^\d+$/.test(i) && rest.length ? paramType(d.params, rest.join('.')) : undefined;
}

function active(d: ParamDef, p: Params, prefix: string): boolean {
  if (!d.if) return true;
  return Object.entries(d.if).every(([k, want]) => {
    const got = p[prefix + k];
    return Array.isArray(want) ? want.includes(got) : got === want;
  });
}

/** One value of a leaf parameter drawn uniformly (log-uniformly for loguniform). */
function drawLeaf(d: ParamDef, rng: Rng): ParamValue {
  switch (d.type) {
    case 'int': {
      const step = d.step ?? 1;
      return d.min + step * rng.int(Math.floor((d.max - d.min) / step) + 1);
    }
    case 'float':
      return d.min + (d.max - d.min) * rng.random();
    case 'loguniform':
      return Math.exp(Math.log(d.min) + (Math.log(d.max) - Math.log(d.min)) * rng.random());
    case 'choice':
      return d.values[rng.int(d.values.length)];
    default:
      throw new Error('unreachable');
  }
}

function drawInto(space: Record<string, ParamDef>, rng: Rng, out: Params, prefix: string): void {
  for (const [name, d] of Object.entries(space)) {
    if (!active(d, out, prefix)) continue;
    if (d.type === 'repeat') {
      const n = typeof d.count === 'number' ? d.count : (out[prefix + d.count] as number);
      for (let i = 0; i < n; i++) drawInto(d.params, rng, out, `${prefix}${name}.${i}.`);
    } else out[prefix + name] = drawLeaf(d, rng);
  }
}

/** Why draws were refused, with how often (kept with the trial). */
export type Rejections = Record<string, number>;

/** A check of one draw: null when it is valid, else the reason it is not (e.g. "length ≤ 0 after block 4"). */
export type DrawCheck = (p: Params) => string | null;

/** The seed of trial `number` of a study seeded `seed`: draws of different trials are independent streams. */
export function trialSeed(seed: number, number: number): number {
  return (Math.imul(seed >>> 0, 0x9e3779b1) ^ Math.imul(number + 1, 0x85ebca77)) >>> 0;
}

/**
 * Trial `number`'s draw: seeded by (seed, number), so a resumed or distributed study draws the same
 * parameters for the same trial. A draw `check` refuses is drawn again (its reason counted); after
 * `maxRejections` refusals in a row a SearchSpaceError names the most frequent reasons.
 */
export function sampleParams(
  space: Record<string, ParamDef>,
  seed: number,
  number: number,
  check?: DrawCheck,
  maxRejections = 1000,
): { params: Params; rejections: Rejections } {
  const rng = new Rng(trialSeed(seed, number));
  const rejections: Rejections = {};
  for (let tries = 0; ; tries++) {
    const p: Params = {};
    drawInto(space, rng, p, '');
    const why = check?.(p) ?? null;
    if (why === null) return { params: p, rejections };
    rejections[why] = (rejections[why] ?? 0) + 1;
    if (tries + 1 >= maxRejections) {
      const top = Object.entries(rejections)
        .sort((a, b) => b[1] - a[1])
        .slice(0, 3)
        .map(([r, n]) => `${n}× ${r}`)
        .join('; ');
      throw new SearchSpaceError(
        `no valid draw after ${maxRejections} rejections (${top}); narrow the ranges so a draw can be valid`,
      );
    }
  }
}

/** Grid values of a leaf: every int (by step), every choice, `steps` points of a float/loguniform range. */
function gridValues(d: ParamDef, at: string): ParamValue[] {
  switch (d.type) {
    case 'int': {
      const step = d.step ?? 1,
        out: number[] = [];
      for (let v = d.min; v <= d.max; v += step) out.push(v);
      return out;
    }
    case 'choice':
      return d.values;
    case 'float':
    case 'loguniform': {
      if (d.steps === undefined)
        throw new SearchSpaceError(`${at}: a grid over a ${d.type} range needs "steps" (how many points)`);
      const log = d.type === 'loguniform';
      const [a, b] = log ? [Math.log(d.min), Math.log(d.max)] : [d.min, d.max];
      return Array.from({ length: d.steps }, (_, i) => {
        const t = d.steps === 1 ? 0.5 : i / (d.steps! - 1);
        return log ? Math.exp(a + (b - a) * t) : a + (b - a) * t;
      });
    }
    default:
      throw new Error('unreachable');
  }
}

/** Flatten a space into the ordered leaves of one draw so far (repeat groups unrolled by their count). */
function* gridFrom(items: [string, ParamDef, string][], at: number, p: Params): Generator<Params> {
  if (at === items.length) {
    yield { ...p };
    return;
  }
  const [name, d, prefix] = items[at];
  if (!active(d, p, prefix)) {
    yield* gridFrom(items, at + 1, p);
    return;
  }
  if (d.type === 'repeat') {
    const n = typeof d.count === 'number' ? d.count : (p[prefix + d.count] as number);
    const inner: [string, ParamDef, string][] = [];
    for (let i = 0; i < n; i++)
      for (const [k, v] of Object.entries(d.params)) inner.push([k, v, `${prefix}${name}.${i}.`]);
    yield* gridFrom([...items.slice(0, at), ...inner, ...items.slice(at + 1)], at, p);
    return;
  }
  for (const v of gridValues(d, prefix + name)) {
    p[prefix + name] = v;
    yield* gridFrom(items, at + 1, p);
    delete p[prefix + name];
  }
}

/**
 * Every point of the space in a fixed order (last parameter fastest), skipping those `check` refuses.
 * Floats need `steps`. Lazy, so a large grid costs only what is read.
 */
export function* gridPoints(space: Record<string, ParamDef>, check?: DrawCheck): Generator<Params> {
  for (const p of gridFrom(
    Object.entries(space).map(([k, d]) => [k, d, ''] as [string, ParamDef, string]),
    0,
    {},
  ))
    if (!check || check(p) === null) yield p;
}

/** Canonical JSON (keys sorted) of a value: two spaces are the same study only if these strings are equal. */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object')
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((v as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  return JSON.stringify(v);
}
