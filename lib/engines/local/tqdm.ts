/** tqdm-style progress lines, the shape Replicate's models print and the app reads progress from. */

const PARTIALS = ["", "▏", "▎", "▍", "▌", "▋", "▊", "▉"];

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const mm = String(Math.floor(s / 60) % 60).padStart(2, "0");
  const ss = String(s % 60).padStart(2, "0");
  return s >= 3600 ? `${Math.floor(s / 3600)}:${mm}:${ss}` : `${mm}:${ss}`;
}

/**
 * A tqdm-style progress line, e.g. ` 45%|████▌     | 54/120 [00:01<00:01, 45.00it/s]`. No
 * description prefix: replicate's `parseProgressFromLogs` only reads lines that start with the
 * percentage.
 */
export function tqdmLine(current: number, total: number, elapsedSeconds: number): string {
  const frac = total > 0 ? Math.min(1, Math.max(0, current / total)) : 0;
  const width = 10;
  const eighths = Math.floor(frac * width * 8);
  const full = Math.floor(eighths / 8);
  const bar = ("█".repeat(full) + (full < width ? (PARTIALS[eighths % 8] ?? "") : "")).padEnd(width, " ");
  const rate = elapsedSeconds > 0 ? current / elapsedSeconds : 0;
  const remaining = rate > 0 ? (total - current) / rate : 0;
  return `${String(Math.floor(frac * 100)).padStart(3, " ")}%|${bar}| ${current}/${total} [${clock(elapsedSeconds)}<${clock(remaining)}, ${rate.toFixed(2)}it/s]`;
}
