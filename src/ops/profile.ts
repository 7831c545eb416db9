/**
 * Time per op kind, forward and backward (`frugal train --profile`). Forward time is taken
 * around the outermost public op call (nested ops count toward the outer one); backward
 * time around each backward rule. Off by default: then the cost is one boolean test per op.
 */
export interface OpTime {
  ms: number;
  calls: number;
}

export const profiler = {
  enabled: false,
  forward: new Map<string, OpTime>(),
  backward: new Map<string, OpTime>(),
  reset(): void {
    this.forward.clear();
    this.backward.clear();
  },
};

let depth = 0;

function add(map: Map<string, OpTime>, name: string, ms: number): void {
  const e = map.get(name);
  if (e) {
    e.ms += ms;
    e.calls++;
  } else map.set(name, { ms, calls: 1 });
}

export function addBackwardTime(op: string, ms: number): void {
  add(profiler.backward, op, ms);
}

/** Wrap a public op so that, when profiling, its forward time is recorded under `name`. */
export function profiled<A extends unknown[], R>(name: string, fn: (...a: A) => R): (...a: A) => R {
  return (...a: A): R => {
    if (!profiler.enabled || depth > 0) return fn(...a);
    depth++;
    const t = performance.now();
    try {
      return fn(...a);
    } finally {
      depth--;
      add(profiler.forward, name, performance.now() - t);
    }
  };
}

/** Rows sorted by total time, with the share of the whole. */
export function profileRows(): { op: string; forwardMs: number; backwardMs: number; calls: number; share: number }[] {
  const ops = new Set([...profiler.forward.keys(), ...profiler.backward.keys()]);
  const rows = [...ops].map((op) => ({
    op,
    forwardMs: profiler.forward.get(op)?.ms ?? 0,
    backwardMs: profiler.backward.get(op)?.ms ?? 0,
    calls: profiler.forward.get(op)?.calls ?? profiler.backward.get(op)?.calls ?? 0,
    share: 0,
  }));
  const total = rows.reduce((s, r) => s + r.forwardMs + r.backwardMs, 0) || 1;
  for (const r of rows) r.share = (r.forwardMs + r.backwardMs) / total;
  return rows.sort((a, b) => b.forwardMs + b.backwardMs - (a.forwardMs + a.backwardMs));
}
