import { describe, expect, it } from "vitest";
import { CREATE_DEADLINE_MS } from "@/lib/engines/replicate/client";
import { needsReconcile } from "@/lib/jobs/pipeline/reconcile";
import { maxAttempts, retryDueAt } from "@/lib/jobs/domain/retry";
import type { Job, Step, StepName } from "@/lib/core/job";
import { makeJob, makeStep } from "@/test/support/job-factory";

const T0 = 1_700_000_000_000;

/** A job whose `name` step was claimed at T0 and has no engine reference yet. */
function claimed(name: StepName, step: Partial<Step> = {}): Job {
  const done = { state: "done", attempt: 1, progress: 100 } as const;
  const order: StepName[] = ["enhance", "generate", "sound", "save"];
  const at = order.indexOf(name);
  return makeJob({
    engine: "replicate",
    model: "wan-video/wan-2.2-t2v-fast",
    status: "processing",
    createdAt: T0,
    lastEventAt: T0,
    steps: order.map((n, i) =>
      i < at
        ? makeStep(n, n === "sound" ? { state: "skipped" } : done)
        : i === at
          ? makeStep(n, { state: "running", attempt: 1, startedAt: T0, ...step })
          : makeStep(n, n === "sound" ? { state: "skipped" } : {}),
    ),
  });
}

describe("needsReconcile for a step without an engine reference", () => {
  it("does not presume a Replicate create lost while it may still be under way (backoff and timeout)", () => {
    const job = claimed("generate", { engine: "replicate" });
    expect(needsReconcile(job, T0 + 30_000)).toBe(false);
    expect(needsReconcile(job, T0 + CREATE_DEADLINE_MS)).toBe(false);
    expect(needsReconcile(job, T0 + CREATE_DEADLINE_MS + 30_000)).toBe(true);
  });

  it("presumes a local start lost after 30 s", () => {
    const job = claimed("generate", { engine: "local" });
    expect(needsReconcile(job, T0 + 29_000)).toBe(false);
    expect(needsReconcile(job, T0 + 31_000)).toBe(true);
  });

  it("does not restart a save that still holds its lease, and does once the lease ran out", () => {
    const now = T0 + 10 * 60_000;
    expect(needsReconcile(claimed("save", { engine: "app", leaseUntil: now + 30_000 }), now)).toBe(false);
    expect(needsReconcile(claimed("save", { engine: "app", leaseUntil: now - 1 }), now)).toBe(true);
    expect(needsReconcile(claimed("save", { engine: "app" }), T0 + 60_000)).toBe(false);
  });
});

describe("a failed save is retried with backoff, well within the provider's hour", () => {
  /** The save step back to waiting after `attempt` failed tries, the last started at `startedAt`. */
  function saveWaiting(attempt: number, startedAt: number): Job {
    const job = claimed("save", { engine: "app" });
    return {
      ...job,
      lastEventAt: startedAt,
      steps: job.steps.map((s) => (s.name === "save" ? { ...s, state: "waiting", attempt, startedAt } : s)),
    };
  }

  it("waits 30 s after the first failure, then twice as long each time", () => {
    expect(needsReconcile(saveWaiting(1, T0), T0 + 29_000)).toBe(false);
    expect(needsReconcile(saveWaiting(1, T0), T0 + 30_000)).toBe(true);
    expect(needsReconcile(saveWaiting(3, T0), T0 + 119_000)).toBe(false);
    expect(needsReconcile(saveWaiting(3, T0), T0 + 120_000)).toBe(true);
  });

  it("gives saving six tries whose waits add up to a quarter of an hour", () => {
    let waited = 0;
    for (let attempt = 1; attempt < maxAttempts("save"); attempt++)
      waited += retryDueAt(saveWaiting(attempt, 0).steps.find((s) => s.name === "save")!);
    expect(maxAttempts("save")).toBe(6);
    expect(waited).toBe(15.5 * 60_000);
    expect(maxAttempts("generate")).toBe(3);
  });
});
