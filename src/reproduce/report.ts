// The reproduction contract of shared/DESIGN.md: one JSON object per run, criteria never hidden.

export interface Criterion { name: string; target: string; value: number; pass: boolean }

export interface ReproduceReport {
  name: string; dataset: string; mode: 'quick' | 'full'; seeds: number[];
  paper: Record<string, unknown>;
  ours: Record<string, unknown>;
  criteria: Criterion[];
}

export function criterion(name: string, target: string, value: number, pass: boolean): Criterion {
  return { name, target, value, pass };
}

/** Mean and sample standard deviation (0 for one value). */
export function meanStd(v: number[]): { mean: number; std: number; n: number } {
  const n = v.length;
  if (n === 0) return { mean: NaN, std: NaN, n };
  const mean = v.reduce((a, b) => a + b, 0) / n;
  const std = n > 1 ? Math.sqrt(v.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1)) : 0;
  return { mean, std, n };
}
