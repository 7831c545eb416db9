// pruneToRate's structured design: channel gates with AutoPruner's budget penalty, then a hard
// cut to the budget (kept channel counts chosen per layer) and fine-tuning with the cut fixed.
import { Tensor } from '../../core/tensor.js';
import * as F from '../../ops/index.js';
import type { Sequential } from '../../nn/layers.js';
import type { Module } from '../../nn/module.js';
import type { ChannelGroup, PrunableLayer, Structure } from './graph.js';
import { applyMask, pruneEntry } from './reparam.js';
import { installGate, gateValues, removeGates, type Gate, type GateSet } from './gates.js';
import { RATE_TOLERANCE, checkFraction, ones, type Plan } from './plan.js';
import type { PruneToRateOptions, RateMetric } from './to-rate.js';

/** The channel groups and what keeping some of their channels costs, in either metric. */
interface Budget {
  s: Structure;
  metric: RateMetric;
  other: RateMetric;
  target: number;
  /** The other metric's reduction to reach as well (opts.atLeast), if any. */
  floor?: number;
  /** Channels of a group in the dense model. */
  chOf(g: ChannelGroup): number;
  /** Cost in metric `m` of the weights with `keep(group)` channels kept per group. */
  costIn(m: RateMetric, keep: (g: ChannelGroup) => number): number;
  dense: Record<RateMetric, number>;
}

function makeBudget(s: Structure, metric: RateMetric, opts: PruneToRateOptions): Budget {
  const byProducer = new Map(s.groups.map((g) => [g.producer, g]));
  const byConsumer = new Map(s.groups.map((g) => [g.consumer, g]));
  const factor = (l: PrunableLayer, m: RateMetric) => l.perPair * (m === 'params' ? 1 : l.spatial);
  const costIn = (m: RateMetric, keep: (g: ChannelGroup) => number): number =>
    s.layers.reduce((a, l) => {
      const gOut = byProducer.get(l.index),
        gIn = byConsumer.get(l.index);
      const outs = gOut ? keep(gOut) : l.outChannels,
        ins = gIn ? keep(gIn) * gIn.columns : l.inChannels;
      return a + outs * ins * factor(l, m);
    }, 0);
  const outs = new Map(s.layers.map((l) => [l.index, l.outChannels]));
  const chOf = (g: ChannelGroup): number => outs.get(g.producer)!;
  const other: RateMetric = metric === 'params' ? 'flops' : 'params';
  return {
    s,
    metric,
    other,
    target: opts.target,
    floor: opts.atLeast?.[other],
    chOf,
    costIn,
    dense: { params: costIn('params', chOf), flops: costIn('flops', chOf) },
  };
}

/** The cut in the budget's metric (or the other one) with `keep(group)` channels kept. */
const cutOf = (b: Budget, keep: (g: ChannelGroup) => number, m: RateMetric = b.metric) =>
  1 - b.costIn(m, keep) / b.dense[m];

/** Refuse a target the model cannot reach, or an atLeast that names the target's own metric. */
function checkReachable(b: Budget, opts: PruneToRateOptions): void {
  const maxCut = cutOf(b, () => 1);
  if (opts.atLeast?.[b.metric] !== undefined) {
    throw new Error(`pruneToRate: atLeast names the target's own metric '${b.metric}'; give it for '${b.other}'`);
  }
  if (b.floor !== undefined) checkFraction(`atLeast.${b.other}`, b.floor);
  if (b.target > maxCut) {
    throw new Error(
      `pruneToRate: a structured ${b.metric} reduction of ${(100 * b.target).toFixed(1)}% is unreachable ` +
        `for this model: keeping one channel in every prunable layer still leaves ` +
        `${(100 * (1 - maxCut)).toFixed(2)}% ` +
        '(the last layer and un-gated layers stay whole); lower the target',
    );
  }
}

/** Masks of ones on every producer, its bias and batch norms and its consumer; gates on top of them. */
function installGates(model: Sequential, b: Budget): { set: GateSet; gateOf: Map<ChannelGroup, Gate> } {
  // Masks first, then gates: the gate wraps the masked forward.
  for (const g of b.s.groups) {
    const p = model.layers[g.producer];
    const size = b.s.layers.find((l) => l.index === g.producer)!;
    applyMask(p, 'weight', ones(size.outChannels * size.inChannels * size.perPair));
    if (p.namedParameters().some(([k]) => k === 'bias')) applyMask(p, 'bias', ones(b.chOf(g)));
    for (const bn of g.bns) for (const n of ['weight', 'bias']) applyMask(model.layers[bn], n, ones(b.chOf(g)));
    const c = b.s.layers.find((l) => l.index === g.consumer)!;
    if (!pruneEntry(c.module, 'weight')) applyMask(c.module, 'weight', ones(c.outChannels * c.inChannels * c.perPair));
  }
  const set: GateSet = { gates: [], alpha: 1 };
  const gateOf = new Map<ChannelGroup, Gate>();
  for (const g of b.s.groups) {
    const at = g.bns.length ? model.layers[g.bns[g.bns.length - 1]] : model.layers[g.producer];
    gateOf.set(g, installGate(set, at as Module, b.chOf(g)));
  }
  return { set, gateOf };
}

/**
 * The share r of channels every layer keeps so that `want` of metric m is removed: AutoPruner's
 * per-layer keep ratios, here uniform, found by bisection.
 */
function ratioFor(b: Budget, m: RateMetric, want: number): number {
  let lo = 0,
    hi = 1;
  for (let it = 0; it < 60; it++) {
    const r = (lo + hi) / 2;
    if (cutOf(b, (g) => Math.max(1, r * b.chOf(g)), m) >= want) lo = r;
    else hi = r;
  }
  return lo;
}

/** Zero the channels of group g not in `keep`: producer rows and bias, batch-norm entries, consumer inputs. */
function maskChannels(model: Sequential, g: ChannelGroup, keep: boolean[]): void {
  const p = model.layers[g.producer],
    C = keep.length,
    pm = pruneEntry(p, 'weight')!.mask;
  const per = pm.size / C,
    wm = new Float32Array(pm.size),
    cm = Float32Array.from(keep, Number);
  keep.forEach((k, c) => {
    if (k) wm.fill(1, c * per, (c + 1) * per);
  });
  applyMask(p, 'weight', wm);
  if (pruneEntry(p, 'bias')) applyMask(p, 'bias', cm);
  for (const b of g.bns) {
    applyMask(model.layers[b], 'weight', cm);
    applyMask(model.layers[b], 'bias', cm);
  }
  const cons = model.layers[g.consumer],
    cmask = pruneEntry(cons, 'weight')!.mask;
  const co = cmask.shape[0],
    cin = cmask.size / co;
  const perIn = cin / C,
    im = new Float32Array(cmask.size).fill(1);
  for (let o = 0; o < co; o++) {
    keep.forEach((k, c) => {
      if (!k) im.fill(0, o * cin + c * perIn, o * cin + (c + 1) * perIn);
    });
  }
  applyMask(cons, 'weight', im);
}

/** A choice of kept-channel counts under way: the counts each group may take, the current ones, the scores. */
interface Choice {
  b: Budget;
  allowed: Map<ChannelGroup, number[]>;
  count: Map<ChannelGroup, number>;
  /** Prefix sums of the gate scores in ranked order, per group. */
  prefix: Map<ChannelGroup, number[]>;
  /** The upper edge of the band the cut must land in. */
  hi: number;
}

const down = (c: Choice, g: ChannelGroup, n: number): number => {
  const a = c.allowed.get(g)!,
    i = a.indexOf(n);
  return i > 0 ? a[i - 1] : n;
};
const up = (c: Choice, g: ChannelGroup, n: number): number => {
  const a = c.allowed.get(g)!,
    i = a.indexOf(n);
  return i < a.length - 1 ? a[i + 1] : n;
};
const cut = (c: Choice) => cutOf(c.b, (g) => c.count.get(g)!);
const cutOther = (c: Choice) => cutOf(c.b, (g) => c.count.get(g)!, c.b.other);
/** Total gate score of the channels ranked [from, to) in group g. */
const score = (c: Choice, g: ChannelGroup, from: number, to: number) => c.prefix.get(g)![to] - c.prefix.get(g)![from];
const inBand = (c: Choice) =>
  cut(c) >= c.b.target && cut(c) <= c.hi && (c.b.floor === undefined || cutOther(c) >= c.b.floor);

/** Until the target is met: remove the kept step with the lowest score that stays inside the band. */
function removeSteps(c: Choice): void {
  const { b, count } = c;
  for (let guard = 0; guard < 100000 && cut(c) < b.target; guard++) {
    let best: ChannelGroup | null = null,
      bestScore = Infinity;
    for (const g of b.s.groups) {
      const n = count.get(g)!,
        m = down(c, g, n);
      if (m === n) continue;
      count.set(g, m);
      const ok = cut(c) <= c.hi;
      count.set(g, n);
      const sc = score(c, g, m, n);
      if (ok && sc < bestScore) {
        best = g;
        bestScore = sc;
      }
    }
    if (best) {
      count.set(best, down(c, best, count.get(best)!));
      continue;
    }
    // Every single removal overshoots: remove one step and give one back elsewhere.
    let pair: [ChannelGroup, ChannelGroup] | null = null;
    for (const g of b.s.groups)
      for (const h of b.s.groups) {
        const n = count.get(g)!,
          m = count.get(h)!;
        if (g === h || down(c, g, n) === n || up(c, h, m) === m) continue;
        count.set(g, down(c, g, n));
        count.set(h, up(c, h, m));
        const x = cut(c);
        count.set(g, n);
        count.set(h, m);
        if (x >= b.target && x <= c.hi && !pair) pair = [g, h];
      }
    if (!pair) break;
    count.set(pair[0], down(c, pair[0], count.get(pair[0])!));
    count.set(pair[1], up(c, pair[1], count.get(pair[1])!));
  }
}

/** While past the band: restore the removed step with the highest score that keeps the target and the floor. */
function restoreSteps(c: Choice): void {
  const { b, count } = c;
  for (let guard = 0; guard < 100000 && cut(c) > c.hi; guard++) {
    let best: ChannelGroup | null = null,
      bestScore = -Infinity;
    for (const g of b.s.groups) {
      const n = count.get(g)!,
        m = up(c, g, n);
      if (m === n) continue;
      count.set(g, m);
      const ok = cut(c) >= b.target && (b.floor === undefined || cutOther(c) >= b.floor);
      count.set(g, n);
      const sc = score(c, g, n, m);
      if (ok && sc > bestScore) {
        best = g;
        bestScore = sc;
      }
    }
    if (!best) break;
    count.set(best, up(c, best, count.get(best)!));
  }
}

/**
 * Coarse layers (few channels) can leave every single step outside the band: try all changes of
 * up to ±d steps per layer ((2d+1)^layers ≤ 10⁵ combinations) and keep the one inside the band
 * with the highest total gate score.
 */
function nudge(c: Choice): void {
  const gs = c.b.s.groups,
    d = Math.floor((Math.pow(1e5, 1 / gs.length) - 1) / 2);
  if (d < 1) return;
  const base = gs.map((g) => c.allowed.get(g)!.indexOf(c.count.get(g)!));
  let best: number[] | null = null,
    bestScore = -Infinity;
  const walk = (i: number): void => {
    if (i === gs.length) {
      if (!inBand(c)) return;
      const sc = gs.reduce((a, g) => a + score(c, g, 0, c.count.get(g)!), 0);
      if (sc > bestScore) {
        bestScore = sc;
        best = gs.map((g) => c.count.get(g)!);
      }
      return;
    }
    const a = c.allowed.get(gs[i])!;
    for (let k = Math.max(0, base[i] - d); k <= Math.min(a.length - 1, base[i] + d); k++) {
      c.count.set(gs[i], a[k]);
      walk(i + 1);
    }
    c.count.set(gs[i], a[base[i]]);
  };
  walk(0);
  const chosen: number[] | null = best;
  if (chosen) gs.forEach((g, j) => c.count.set(g, chosen[j]));
}

/**
 * Kept-channel counts per group: multiples of q (or the whole layer), so the compacted layers suit
 * the kernels' 4-wide blocks. Per layer about r·C of the highest-scored channels survive; then steps
 * of q channels are removed (lowest scores first) or restored (highest first) until the target is met
 * within the band and the other metric's floor holds. `achieved` is the cut the counts give (outside
 * the band when no choice lands in it).
 */
function chooseCounts(
  b: Budget,
  keepRatio: number,
  q: number,
  ranked: Map<ChannelGroup, number[]>,
  gateOf: Map<ChannelGroup, Gate>,
): { count: Map<ChannelGroup, number>; achieved: number } {
  const allowed = new Map(
    b.s.groups.map((g) => {
      const C = b.chOf(g),
        a: number[] = [];
      for (let n = Math.min(q, C); n < C; n += Math.min(q, C)) a.push(n);
      a.push(C);
      return [g, a];
    }),
  );
  const count = new Map(
    b.s.groups.map((g) => {
      const a = allowed.get(g)!,
        want = keepRatio * b.chOf(g);
      return [g, a.reduce((x, n) => (Math.abs(n - want) < Math.abs(x - want) ? n : x), a[0])];
    }),
  );
  // Prefix sums of the gate scores in ranked order: nudge() scores up to 10⁵ combinations.
  const prefix = new Map(
    b.s.groups.map((g) => {
      const sc = gateOf.get(g)!.score.data,
        p = [0];
      for (const ch of ranked.get(g)!) p.push(p[p.length - 1] + sc[ch]);
      return [g, p];
    }),
  );
  const c: Choice = { b, allowed, count, prefix, hi: b.target + RATE_TOLERANCE * 0.8 };
  removeSteps(c);
  restoreSteps(c);
  if (!inBand(c)) nudge(c);
  return { count, achieved: cut(c) };
}

/**
 * The hard cut: rank each group's channels by gate score, choose the counts (blocks of roundTo
 * channels, else single channels), mask the rest and switch the gates off. Returns the kept channels.
 */
function hardCut(
  model: Sequential,
  b: Budget,
  keepRatio: number,
  roundTo: number,
  set: GateSet,
  gateOf: Map<ChannelGroup, Gate>,
): Map<ChannelGroup, number[]> {
  const ranked = new Map(
    b.s.groups.map((g) => {
      const sc = gateOf.get(g)!.score.data;
      return [g, Array.from({ length: b.chOf(g) }, (_, c) => c).sort((x, y) => sc[y] - sc[x] || x - y)];
    }),
  );
  const withinTolerance = (a: number) => Math.abs(a - b.target) <= RATE_TOLERANCE;
  let choice = chooseCounts(b, keepRatio, roundTo, ranked, gateOf);
  // Blocks of roundTo channels too coarse for the band: single channels.
  if (!withinTolerance(choice.achieved) && roundTo > 1) choice = chooseCounts(b, keepRatio, 1, ranked, gateOf);
  if (!withinTolerance(choice.achieved)) {
    throw new Error(
      `pruneToRate: the hard cut reached ${(100 * choice.achieved).toFixed(2)}%, not ${(100 * b.target).toFixed(1)}% ` +
        '± 0.5; the channel sizes are too coarse for this target',
    );
  }
  const counts = choice.count;
  const removed = new Set<string>();
  for (const g of b.s.groups) for (const c of ranked.get(g)!.slice(counts.get(g)!)) removed.add(`${g.producer}:${c}`);
  const kept = new Map<ChannelGroup, number[]>();
  for (const g of b.s.groups) {
    const keep = Array.from({ length: b.chOf(g) }, (_, c) => !removed.has(`${g.producer}:${c}`));
    kept.set(
      g,
      keep.flatMap((k, c) => (k ? [c] : [])),
    );
    maskChannels(model, g, keep);
  }
  for (const gate of set.gates) gate.active = false;
  return kept;
}

/** Channels of a producer whose weight row is not all masked (for resumed runs). */
function countAlive(model: Sequential, g: ChannelGroup): number {
  const e = pruneEntry(model.layers[g.producer], 'weight');
  if (!e) return 0;
  const C = e.mask.shape[0],
    per = e.mask.size / C;
  let n = 0;
  for (let c = 0; c < C; c++) {
    for (let i = 0; i < per; i++)
      if (e.mask.data[c * per + i] !== 0) {
        n++;
        break;
      }
  }
  return n;
}

/** Design (b): channel gates, a budget penalty, a hard cut to the budget, then fine-tuning. */
export function structuredPlan(
  model: Sequential,
  s: Structure,
  metric: RateMetric,
  opts: PruneToRateOptions,
  total: number,
): Plan {
  const lambda = opts.penalty ?? 5,
    hardAt = opts.hardAt ?? 0.5,
    alphaMax = opts.alphaMax ?? 50;
  const roundTo = opts.roundTo ?? 4;
  if (!(Number.isInteger(roundTo) && roundTo >= 1)) {
    throw new Error(`pruneToRate: roundTo must be an integer ≥ 1, got ${roundTo}`);
  }
  if (!(lambda > 0)) throw new Error(`pruneToRate: penalty must be > 0, got ${lambda}`);
  checkFraction('hardAt', hardAt);
  if (!(alphaMax >= 1)) throw new Error(`pruneToRate: alphaMax must be ≥ 1, got ${alphaMax}`);
  if (s.groups.length === 0) {
    throw new Error(
      'pruneToRate: no channel group can be removed structurally (a conv or linear layer must feed ' +
        'another through batch norm, relu, pooling or flatten)',
    );
  }
  const b = makeBudget(s, metric, opts);
  checkReachable(b, opts);
  const { set, gateOf } = installGates(model, b);
  const keepRatio = Math.min(
    ratioFor(b, metric, opts.target),
    b.floor !== undefined ? ratioFor(b, b.other, b.floor) : 1,
  );
  const hardStep = Math.max(1, Math.round(hardAt * total));
  let hard = false;
  let kept = new Map<ChannelGroup, number[]>();
  const cutNow = () => {
    kept = hardCut(model, b, keepRatio, roundTo, set, gateOf);
    hard = true;
  };
  return {
    onEpochBegin(step) {
      // Resumed after the cut: the restored masks hold it; the gates stay off.
      if (step >= hardStep && !hard) {
        for (const gate of set.gates) gate.active = false;
        hard = true;
      }
      set.alpha = Math.pow(alphaMax, Math.min(1, step / hardStep));
    },
    afterStep(step) {
      if (hard) return;
      set.alpha = Math.pow(alphaMax, Math.min(1, step / hardStep));
      if (step >= hardStep) cutNow();
    },
    // AutoPruner's penalty, per layer: λ·Σ_l (mean(v_l) − r)², r the keep ratio that meets the budget.
    regularizer: () => {
      if (hard) return Tensor.scalar(0);
      let sum: Tensor | null = null;
      for (const g of s.groups) {
        const d = F.sub(F.mean(gateValues(set, gateOf.get(g)!)), keepRatio);
        const sq = F.mul(d, d);
        sum = sum ? F.add(sum, sq) : sq;
      }
      return F.mul(sum!, lambda);
    },
    finish() {
      if (!hard) cutNow();
      removeGates(set);
    },
    channels: () =>
      s.groups.map((g) => ({
        layer: g.producer,
        before: b.chOf(g),
        after: kept.get(g)?.length ?? countAlive(model, g),
      })),
  };
}
