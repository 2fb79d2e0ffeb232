import { isTerminal } from "@/lib/core/job-status";
import type { PublicJob, PublicStep } from "@/lib/core/job";
import type { TypicalSeconds } from "@/components/job/job-facts";

/**
 * Time on the job page, from the steps' timestamps: how long the video step waited for a GPU
 * and how long it generated, and what is left. What is left is a range built from the models'
 * typical run times (a guess, and labelled as one), narrowed by real progress when the engine
 * reports it. The wait for a GPU cannot be predicted, so it is never included: the page says so.
 */

export type GenerateTimes = {
  /** From submitting the video step to the engine starting it (a GPU allocated), in ms. */
  waitMs: number | null;
  /** From the engine starting it to its end (or now), in ms. */
  generateMs: number | null;
};

export function generateTimes(job: Pick<PublicJob, "steps">, now: number | null): GenerateTimes {
  const step = job.steps.find((s) => s.name === "generate");
  if (!step || step.startedAt === null) return { waitMs: null, generateMs: null };
  const end = step.completedAt ?? now;
  if (end === null) return { waitMs: null, generateMs: null };
  return {
    waitMs: Math.max(0, (step.runningAt ?? end) - step.startedAt),
    generateMs: step.runningAt === null ? null : Math.max(0, end - step.runningAt),
  };
}

export type Eta = {
  lowSeconds: number;
  highSeconds: number;
  /** The video step has not started on a GPU yet: the wait for one comes on top. */
  plusGpuWait: boolean;
  /** The running step has gone past what it usually takes: no range is given. */
  overdueTypicalSeconds: number | null;
};

/** A guess is given as this range of the typical time. */
const LOW = 0.75;
const HIGH = 1.5;

function typicalSecondsOf(step: PublicStep, typical: TypicalSeconds): number {
  return typical[step.name][step.engine] ?? 0;
}

/**
 * What is left of a running job, or null when it has ended (or the time is not known yet).
 * `typical`: each step's usual seconds for this job (`jobFacts`, worked out on the server).
 */
export function estimateRemaining(job: PublicJob, now: number | null, typical: TypicalSeconds): Eta | null {
  if (now === null || isTerminal(job.status)) return null;
  let low = 0;
  let high = 0;
  let plusGpuWait = false;
  for (const step of job.steps) {
    if (step.state !== "waiting" && step.state !== "running") continue;
    const usual = typicalSecondsOf(step, typical);
    if (step.state === "waiting" || step.runningAt === null) {
      // Not started upstream yet: the whole usual time is ahead, and for Replicate a queue too.
      low += usual * LOW;
      high += usual * HIGH;
      if (step.name === "generate" && job.engine === "replicate") plusGpuWait = true;
      continue;
    }
    const ranFor = Math.max(0, (now - step.runningAt) / 1000);
    const reported = !step.progressEstimated && step.progress !== null && step.progress >= 5 && step.progress < 100;
    if (reported) {
      // The engine said how far it is: the rest at the pace so far.
      const rest = (ranFor * (100 - step.progress!)) / step.progress!;
      low += rest;
      high += rest * 1.2;
      continue;
    }
    if (ranFor > usual * HIGH && usual > 0) {
      return { lowSeconds: 0, highSeconds: 0, plusGpuWait: false, overdueTypicalSeconds: usual };
    }
    low += Math.max(0, usual * LOW - ranFor);
    high += Math.max(0, usual * HIGH - ranFor);
  }
  return { lowSeconds: low, highSeconds: high, plusGpuWait, overdueTypicalSeconds: null };
}

/** "about 45 seconds", "2 minutes". */
export function formatApprox(seconds: number): string {
  if (seconds < 90) {
    const s = Math.max(5, Math.round(seconds / 5) * 5);
    return `${s} seconds`;
  }
  const m = Math.round(seconds / 60);
  return m === 1 ? "1 minute" : `${m} minutes`;
}

function formatRange(low: number, high: number): string {
  if (high < 5) return "a few seconds";
  if (high < 90) {
    const a = Math.round(low / 5) * 5;
    const b = Math.max(5, Math.ceil(high / 5) * 5);
    if (a >= b) return `about ${b} seconds`;
    return a === 0 ? `up to ${b} seconds` : `${a}–${b} seconds`;
  }
  const a = Math.floor(low / 60);
  const b = Math.max(2, Math.ceil(high / 60));
  if (a >= b) return `about ${b} minutes`;
  return a === 0 ? `up to ${b} minutes` : `${a}–${b} minutes`;
}

/** The sentence the job page shows. */
export function describeEta(eta: Eta): string {
  if (eta.overdueTypicalSeconds !== null) {
    return `Taking longer than usual: this step typically takes about ${formatApprox(eta.overdueTypicalSeconds)}.`;
  }
  const left = `${formatRange(eta.lowSeconds, eta.highSeconds)} left`;
  return eta.plusGpuWait
    ? `Estimated ${left}, plus the wait for a GPU, which cannot be predicted.`
    : `Estimated ${left}.`;
}
