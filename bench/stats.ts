// Small statistics for benchmarks: percentiles and ratios against a baseline measured in the same run.

export function percentile(samples: number[], p: number): number {
  if (samples.length === 0) throw new Error('no samples');
  const sorted = [...samples].sort((a, b) => a - b);
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

export const median = (samples: number[]) => percentile(samples, 50);

export interface BenchResult {
  name: string;
  /** What was measured, one figure per line of the table. */
  figures: { metric: string; value: number; unit: string; baseline?: number; ratio?: number; goal?: string; met?: boolean }[];
  notes?: string[];
}

export function ratio(value: number, baseline: number): number {
  return Math.round((value / baseline) * 100) / 100;
}

export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;
