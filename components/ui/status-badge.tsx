import type { JobStatus } from "@/lib/core/job";

const LOOKS: Record<JobStatus, { label: string; classes: string }> = {
  queued: {
    label: "Waiting in line",
    classes: "bg-zinc-100 text-zinc-800 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-100 dark:ring-zinc-600",
  },
  starting: {
    label: "Running",
    classes: "bg-brand-50 text-brand-800 ring-brand-100 dark:bg-indigo-950 dark:text-indigo-200 dark:ring-indigo-800",
  },
  processing: {
    label: "Running",
    classes: "bg-brand-50 text-brand-800 ring-brand-100 dark:bg-indigo-950 dark:text-indigo-200 dark:ring-indigo-800",
  },
  succeeded: {
    label: "Ready",
    classes:
      "bg-emerald-50 text-emerald-800 ring-emerald-200 dark:bg-emerald-950 dark:text-emerald-200 dark:ring-emerald-800",
  },
  failed: {
    label: "Failed",
    classes: "bg-red-50 text-red-800 ring-red-200 dark:bg-red-950 dark:text-red-200 dark:ring-red-800",
  },
  canceled: {
    label: "Canceled",
    classes: "bg-zinc-100 text-zinc-700 ring-zinc-300 dark:bg-zinc-800 dark:text-zinc-300 dark:ring-zinc-600",
  },
};

/** A job's status in a word, in a colored pill (the word carries the meaning, not the color). */
export function StatusBadge({ status, progress }: { status: JobStatus; progress?: number | null }) {
  const look = LOOKS[status];
  const running = status === "starting" || status === "processing";
  return (
    <span
      className={`inline-flex items-center rounded-full px-2 py-0.5 text-xs font-medium ring-1 ring-inset ${look.classes}`}
    >
      {look.label}
      {running && progress != null ? ` · ${Math.round(progress)}%` : null}
    </span>
  );
}
