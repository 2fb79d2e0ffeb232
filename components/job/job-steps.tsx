import { STEP_LABELS, STEP_STATE_LABELS, stepEngineLabel } from "@/components/job/job-text";
import type { PublicStep, StepState } from "@/lib/core/job";
import { CheckCircleIcon, DashedCircleIcon, MinusCircleIcon, SpinnerIcon, XCircleIcon } from "@/components/ui/icons";

function StepIcon({ state, moving }: { state: StepState; moving: boolean }) {
  const common = "size-5 shrink-0";
  switch (state) {
    case "done":
      return <CheckCircleIcon className={`${common} text-emerald-700 dark:text-emerald-400`} />;
    case "running":
      return (
        <SpinnerIcon
          className={`${common} text-brand-600 dark:text-indigo-300 ${moving ? "motion-safe:animate-spin" : ""}`}
        />
      );
    case "failed":
      return <XCircleIcon className={`${common} text-red-700 dark:text-red-400`} />;
    case "skipped":
    case "canceled":
      return <MinusCircleIcon className={`${common} text-zinc-500`} />;
    default:
      return <DashedCircleIcon className={`${common} text-zinc-400 dark:text-zinc-500`} />;
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
                <span
                  className={
                    step.state === "failed" ? "text-red-700 dark:text-red-300" : "text-zinc-600 dark:text-zinc-400"
                  }
                >
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
