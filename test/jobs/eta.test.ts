import { describe, expect, it } from "vitest";
import { describeEta, estimateRemaining as estimate, generateTimes } from "@/components/job/eta";
import { jobFacts } from "@/components/job/job-facts";
import { toPublicJob } from "@/lib/jobs/domain/public";
import type { Job, PublicJob } from "@/lib/core/job";
import { makeJob, makeStep } from "@/test/support/job-factory";

const T0 = 1_700_000_000_000;

/** As the job page does: the typical times worked out on the server from the job. */
const estimateRemaining = (job: PublicJob, now: number | null) => estimate(job, now, jobFacts(job).typicalSeconds);

/** A job whose video step was submitted at T0, started on a GPU at `runningAt`, maybe done. */
function generating(over: {
  runningAt: number | null;
  completedAt?: number | null;
  progress?: number | null;
  estimated?: boolean;
  engine?: Job["engine"];
  model?: string;
}): Job {
  const done = over.completedAt != null;
  return makeJob({
    engine: over.engine ?? "local",
    model: over.model ?? "local/preview",
    status: "processing",
    stage: over.runningAt === null ? "waiting_gpu" : "generating",
    startedAt: T0,
    steps: [
      makeStep("enhance", { state: "done", completedAt: T0 }),
      makeStep("generate", {
        state: done ? "done" : "running",
        engine: over.engine ?? "local",
        startedAt: T0,
        runningAt: over.runningAt,
        completedAt: over.completedAt ?? null,
        progress: over.progress ?? null,
        progressEstimated: over.estimated ?? true,
      }),
      makeStep("sound", { state: "skipped" }),
      makeStep("save", { state: "waiting", engine: "app" }),
    ],
  });
}

describe("generateTimes", () => {
  it("splits the video step into waiting for a GPU and generating", () => {
    const job = generating({ runningAt: T0 + 12_000, completedAt: T0 + 52_000 });
    expect(generateTimes(job, T0 + 99_000)).toEqual({ waitMs: 12_000, generateMs: 40_000 });
  });

  it("counts the wait up to now while no GPU has started it", () => {
    expect(generateTimes(generating({ runningAt: null }), T0 + 7000)).toEqual({ waitMs: 7000, generateMs: null });
    expect(generateTimes(generating({ runningAt: null }), null)).toEqual({ waitMs: null, generateMs: null });
  });
});

describe("estimateRemaining", () => {
  it("gives a range from the typical time while the progress is only estimated", () => {
    // Local preview: typically 6 s; 2 s in, save (2 s) still to come.
    const eta = estimateRemaining(toPublicJob(generating({ runningAt: T0 }), T0 + 2000), T0 + 2000)!;
    expect(eta.lowSeconds).toBeCloseTo(6 * 0.75 - 2 + 2 * 0.75);
    expect(eta.highSeconds).toBeCloseTo(6 * 1.5 - 2 + 2 * 1.5);
    expect(describeEta(eta)).toBe("Estimated 5–10 seconds left.");
  });

  it("adds the unpredictable GPU wait in words, not numbers, on Replicate", () => {
    const job = generating({ runningAt: null, engine: "replicate", model: "wan-video/wan-2.2-t2v-fast" });
    const eta = estimateRemaining(toPublicJob(job, T0 + 1000), T0 + 1000)!;
    expect(eta.plusGpuWait).toBe(true);
    expect(describeEta(eta)).toBe("Estimated 35–75 seconds left, plus the wait for a GPU, which cannot be predicted.");
  });

  it("uses the engine's own progress when it reports one", () => {
    // 50% after 60 s: about 60 s more.
    const job = generating({
      runningAt: T0,
      progress: 50,
      estimated: false,
      engine: "replicate",
      model: "wan-video/wan-2.2-t2v-fast",
    });
    const eta = estimateRemaining(toPublicJob(job, T0 + 60_000), T0 + 60_000)!;
    expect(eta.lowSeconds).toBeGreaterThanOrEqual(60);
    expect(eta.highSeconds).toBeLessThan(80);
  });

  it("says so when a step runs longer than usual, and nothing once the job ended", () => {
    const late = estimateRemaining(toPublicJob(generating({ runningAt: T0 }), T0 + 60_000), T0 + 60_000)!;
    expect(describeEta(late)).toBe("Taking longer than usual: this step typically takes about 5 seconds.");
    const ended = toPublicJob({ ...generating({ runningAt: T0 }), status: "canceled", stage: "canceled" });
    expect(estimateRemaining(ended, T0 + 1000)).toBeNull();
  });
});
