import { describe, expect, it } from "vitest";
import { CREATE_DEADLINE_MS } from "@/lib/engines/replicate/client";
import { needsReconcile } from "@/lib/jobs/reconcile";
import type { Job, Step, StepName } from "@/lib/jobs/schema";
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
