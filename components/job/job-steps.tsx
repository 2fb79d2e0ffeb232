import { STEP_LABELS, STEP_STATE_LABELS, stepEngineLabel } from "@/components/job/job-text";
import type { PublicStep, StepState } from "@/lib/jobs/schema";

function StepIcon({ state, moving }: { state: StepState; moving: boolean }) {
  const common = "size-5 shrink-0";
  switch (state) {
    case "done":
      return (
        <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className={`${common} text-emerald-700 dark:text-emerald-400`}>
          <path
            fillRule="evenodd"
            d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16Zm3.86-9.8a.75.75 0 0 0-1.22-.88l-3.24 4.5-1.6-1.6a.75.75 0 1 0-1.06 1.06l2.2 2.2a.75.75 0 0 0 1.14-.09l3.78-5.19Z"
            clipRule="evenodd"
          />
        </svg>
      );
    case "running":
      return (
        <svg
          viewBox="0 0 24 24"
          fill="none"
          aria-hidden="true"
          className={`${common} text-brand-600 dark:text-indigo-300 ${moving ? "motion-safe:animate-spin" : ""}`}
        >
          <circle cx="12" cy="12" r="9" stroke="currentColor" strokeOpacity="0.25" strokeWidth="3" />
          <path d="M21 12a9 9 0 0 0-9-9" stroke="currentColor" strokeWidth="3" strokeLinecap="round" />
        </svg>
      );
    case "failed":
      return (
        <svg viewBox="0 0 20 20" fill="currentColor" aria-hidden="true" className={`${common} text-red-700 dark:text-red-400`}>
          <path
            fillRule="evenodd"
            d="M10 18a8 8 0 1 0 0-16 8 8 0 0 0 0 16ZM8.28 7.22a.75.75 0 0 0-1.06 1.06L8.94 10l-1.72 1.72a.75.75 0 1 0 1.06 1.06L10 11.06l1.72 1.72a.75.75 0 1 0 1.06-1.06L11.06 10l1.72-1.72a.75.75 0 0 0-1.06-1.06L10 8.94 8.28 7.22Z"
            clipRule="evenodd"
          />
        </svg>
      );
    case "skipped":
    case "canceled":
      return (
        <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true" className={`${common} text-zinc-500`}>
          <circle cx="10" cy="10" r="7.25" />
          <path d="M6.5 10h7" strokeLinecap="round" />
        </svg>
      );
    default:
      return (
        <svg viewBox="0 0 20 20" fill="none" stroke="currentColor" strokeWidth="1.6" aria-hidden="true" className={`${common} text-zinc-400 dark:text-zinc-500`}>
          <circle cx="10" cy="10" r="7.25" strokeDasharray="3 3" />
        </svg>
      );
  }
}

/** enhance → generate → sound → save, each with its state, who runs it and its note. */
export function JobSteps({ steps, jobRunning }: { steps: PublicStep[]; jobRunning: boolean }) {
  return (
    <ol className="space-y-3">
      {steps.map((step) => {
        const engine = stepEngineLabel(step.engine);
        const progress =
          step.state === "running" && step.progress !== null
            ? `${step.progressEstimated ? "about " : ""}${Math.round(step.progress)}%`
            : null;
        return (
          <li key={step.name} className="flex gap-3">
            <StepIcon state={step.state} moving={jobRunning} />
            <div className="min-w-0 flex-1 space-y-0.5">
              <p className="flex flex-wrap items-baseline gap-x-2 text-sm">
                <span className="font-medium">{STEP_LABELS[step.name]}</span>
                <span className={step.state === "failed" ? "text-red-700 dark:text-red-300" : "text-zinc-600 dark:text-zinc-400"}>
                  {STEP_STATE_LABELS[step.state]}
                  {progress ? ` · ${progress}` : null}
                  {engine ? ` · by ${engine}` : null}
                </span>
              </p>
              {step.note ? <p className="text-sm text-zinc-600 dark:text-zinc-400">{step.note}</p> : null}
              {step.error ? <p className="text-sm text-red-700 dark:text-red-300">{step.error}</p> : null}
            </div>
          </li>
        );
      })}
    </ol>
  );
}
