import { isTerminal, type Job, type Step, type StepName } from "@/lib/core/job";

/** Questions asked of a job's steps: which one runs, which one is next, which runs are no longer wanted. */

export function findStep(job: Job, name: StepName): Step | undefined {
  return job.steps.find((s) => s.name === name);
}

/** Whether the job holds a slot; one still waiting in line starts nothing. */
export function isAdmitted(job: Pick<Job, "admittedAt">): boolean {
  return job.admittedAt !== null;
}

/** The step to start next: the first waiting one whose predecessors are finished, if none is running. */
export function nextStep(job: Job): StepName | null {
  if (isTerminal(job.status) || !isAdmitted(job)) return null;
  for (const step of job.steps) {
    if (step.state === "running") return null;
    if (step.state === "waiting") return step.name;
  }
  return null;
}

export function runningStep(job: Job): Step | undefined {
  return job.steps.find((s) => s.state === "running");
}

/**
 * Whether prediction `ref`, started for `attempt` of a step, is no longer wanted: the job ended
 * or was deleted, or the step moved on to another attempt or another prediction. Such a run
 * would be paid for and never shown, so callers cancel it upstream.
 */
export function isOrphan(job: Job | null, name: StepName, ref: string, attempt?: number): boolean {
  const step = job ? findStep(job, name) : undefined;
  if (!job || !step) return true;
  if (step.ref === ref) return step.state === "canceled";
  if (attempt !== undefined && attempt !== step.attempt) return true;
  // Running without a recorded prediction: this one may still become the step's.
  return !(step.state === "running" && step.ref === null && !isTerminal(job.status));
}

/** The predictions a cancel stopped: those of the steps it marked canceled. */
export function canceledRefs(job: Job): { engine: "local" | "replicate"; ref: string }[] {
  return job.steps.flatMap((s) =>
    s.state === "canceled" && s.ref && (s.engine === "local" || s.engine === "replicate")
      ? [{ engine: s.engine, ref: s.ref }]
      : [],
  );
}

/** The job with one step changed. */
export function withStep(job: Job, name: StepName, patch: (s: Step) => Step): Job {
  return { ...job, steps: job.steps.map((s) => (s.name === name ? patch(s) : s)) };
}
