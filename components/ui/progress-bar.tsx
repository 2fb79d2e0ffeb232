/**
 * A progress bar. With a value it is a determinate `progressbar` (aria-valuenow 0–100); with
 * null it is indeterminate (no aria-valuenow) and shows a moving stripe (static when the user
 * prefers reduced motion). Drawn with SVG attributes rather than inline styles, so a strict
 * style-src Content-Security-Policy does not break it.
 */
export function ProgressBar({
  value,
  estimated = false,
  label,
}: {
  value: number | null;
  estimated?: boolean;
  label: string;
}) {
  const known = value !== null && Number.isFinite(value);
  const pct = known ? Math.round(Math.min(100, Math.max(0, value))) : null;
  const valueText = pct === null ? undefined : estimated ? `About ${pct}% (estimated)` : `${pct}%`;

  return (
    <div
      role="progressbar"
      aria-label={label}
      aria-valuemin={known ? 0 : undefined}
      aria-valuemax={known ? 100 : undefined}
      aria-valuenow={pct ?? undefined}
      aria-valuetext={valueText}
      className="relative h-2.5 w-full overflow-hidden rounded-full bg-zinc-200 dark:bg-zinc-800"
    >
      {pct !== null ? (
        <svg className="absolute inset-0 size-full" aria-hidden="true" preserveAspectRatio="none">
          <rect
            width={`${pct}%`}
            height="100%"
            className={`transition-[width] duration-500 ${estimated ? "fill-brand-500" : "fill-brand-600"} dark:fill-indigo-400`}
          />
        </svg>
      ) : (
        <div
          aria-hidden="true"
          className="absolute inset-y-0 left-0 w-2/5 rounded-full bg-brand-600 motion-safe:animate-indeterminate motion-reduce:w-full motion-reduce:opacity-40 dark:bg-indigo-400"
        />
      )}
    </div>
  );
}
