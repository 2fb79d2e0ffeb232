import type { Job, Stage, Step } from "@/lib/core/job";
import { STEP_WEIGHTS, weightTotal } from "@/lib/jobs/domain/progress";
import { isAdmitted, runningStep } from "@/lib/jobs/domain/steps";

const FINISHED: Step["state"][] = ["done", "skipped", "failed", "canceled"];

/** Status, stage, message and overall progress, derived from the steps. */
export function derive(job: Job): Job {
  if (job.status === "canceled") {
    return { ...job, stage: "canceled", message: job.notice ?? "Canceled." };
  }
  if (job.status === "failed") {
    return { ...job, stage: "failed", message: job.error ?? "The job failed." };
  }
  const counted = job.steps.filter((s) => s.state !== "skipped");
  const total = weightTotal(job);
  let done = 0;
  let unknown = false;
  for (const s of counted) {
    if (FINISHED.includes(s.state)) done += STEP_WEIGHTS[s.name];
    else if (s.state === "running") {
      if (s.progress === null) unknown = true;
      else done += (STEP_WEIGHTS[s.name] * s.progress) / 100;
    }
  }
  const computed = unknown ? null : Math.round((done / total) * 100);
  const allFinished = job.steps.every((s) => FINISHED.includes(s.state));
  if (allFinished) {
    return {
      ...job,
      status: "succeeded",
      stage: "done",
      message: job.notice ? `Done. ${job.notice}` : "Done.",
      progress: 100,
      progressEstimated: false,
      completedAt: job.completedAt ?? job.steps.find((s) => s.name === "save")?.completedAt ?? null,
    };
  }
  const running = runningStep(job);
  const progress = computed === null ? job.progress : Math.max(job.progress ?? 0, computed);
  const { status, stage, message } = describe(job, running);
  return { ...job, status, stage, message, progress, progressEstimated: Boolean(running?.progressEstimated) };
}

function describe(job: Job, running: Step | undefined): { status: Job["status"]; stage: Stage; message: string } {
  const started = job.steps.some((s) => s.state !== "waiting" && s.state !== "skipped");
  if (!isAdmitted(job)) return { status: "queued", stage: "queued", message: "Waiting in line…" };
  if (!running) {
    return started
      ? { status: "processing", stage: "queued", message: "Preparing the next step…" }
      : { status: "queued", stage: "queued", message: "Queued." };
  }
  const pct =
    running.progress === null ? "" : ` ${running.progress}%${running.progressEstimated ? " (estimated)" : ""}`;
  const local = running.engine === "local";
  switch (running.name) {
    case "enhance":
      return {
        status: "processing",
        stage: "enhancing",
        message:
          running.engine === "rules" ? "Enhancing the prompt (rule-based)…" : "Enhancing the prompt with an LLM…",
      };
    case "generate":
      if (running.runningAt === null) {
        return local
          ? { status: "starting", stage: "waiting_gpu", message: "Starting the local preview renderer…" }
          : { status: "starting", stage: "waiting_gpu", message: "Waiting for a GPU…" };
      }
      return {
        status: "processing",
        stage: "generating",
        message: local ? `Rendering the local preview…${pct}` : `Generating the video…${pct}`,
      };
    case "sound":
      return {
        status: "processing",
        stage: "adding_sound",
        message: local ? `Adding a soundtrack…${pct}` : `Adding sound…${pct}`,
      };
    case "save":
      return { status: "processing", stage: "saving", message: "Saving the video…" };
  }
}
