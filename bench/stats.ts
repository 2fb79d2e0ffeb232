/** Small numeric helpers for the benchmark: percentiles and formatting. */

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export function ms(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return value < 10 ? `${value.toFixed(1)} ms` : `${Math.round(value)} ms`;
}

export function num(value: number, digits = 1): string {
  if (!Number.isFinite(value)) return "n/a";
  return Number.isInteger(value) ? String(value) : value.toFixed(digits);
}

export const sleep = (millis: number) => new Promise<void>((resolve) => setTimeout(resolve, millis));
