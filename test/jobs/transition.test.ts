import { describe, expect, it } from "vitest";
import { newJob } from "@/lib/jobs/domain/new-job";
import { createJobSchema, type CreateJobInput } from "@/lib/jobs/domain/request";
import { jobSchema, type Job, type StepName } from "@/lib/core/job";
import { canceledRefs, findStep, isOrphan, nextStep } from "@/lib/jobs/domain/steps";
import { transition, type JobEvent, type PredictionEvent } from "@/lib/jobs/domain/transition";
import { toPublicJob } from "@/lib/jobs/domain/public";
import { findModel, MODELS } from "@/lib/models/registry";

const T0 = 1_700_000_000_000;

function input(overrides: Partial<Record<string, string>> = {}): CreateJobInput {
  const form = { prompt: "a red fox running through snow", style: "cinematic", model: "local/preview", ...overrides };
  return createJobSchema(MODELS).parse(form);
}

/** A new job as the line admits it (its steps may start). */
function job(overrides: Partial<Record<string, string>> = {}, llm = false): Job {
  return transition(waiting(overrides, llm), { type: "admit" }, T0)!;
}

/** A new job, still waiting in line for a slot. */
function waiting(overrides: Partial<Record<string, string>> = {}, llm = false): Job {
  return newJob({ input: input(overrides), ownerId: "owner-1", llmEnhancer: llm, now: T0 });
}

/** Applies events in order, keeping the last state (an event that changes nothing keeps the job). */
function run(start: Job, events: JobEvent[], at = T0): Job {
  return events.reduce((j, e, i) => transition(j, e, at + (i + 1) * 1000) ?? j, start);
}

function prediction(
  step: StepName,
  status: PredictionEvent["status"],
  extra: Partial<PredictionEvent> = {},
): PredictionEvent {
  return {
    type: "prediction",
    step,
    ref: "pred-1",
    status,
    logs: null,
    output: null,
    error: null,
    startedAt: null,
    typicalSeconds: 100,
    ...extra,
  };
}

const startGenerate: JobEvent[] = [
  { type: "step.claim", step: "generate", engine: "replicate" },
  { type: "step.ref", step: "generate", attempt: 1, ref: "pred-1" },
];

describe("a new job", () => {
  it("waits in line and starts nothing until it is admitted", () => {
    const w = waiting();
    expect(w).toMatchObject({ status: "queued", stage: "queued", message: "Waiting in line…", admittedAt: null });
    expect(nextStep(w)).toBeNull();
    expect(transition(w, { type: "step.claim", step: "generate", engine: "local" }, T0 + 1)).toBeNull();
    const admitted = transition(w, { type: "admit" }, T0 + 5)!;
    expect(admitted).toMatchObject({ status: "queued", admittedAt: T0 + 5 });
    expect(nextStep(admitted)).toBe("generate");
    expect(transition(admitted, { type: "admit" }, T0 + 6)).toBeNull();
    // A record written before the queue existed has no admittedAt: it counts as admitted.
    const { admittedAt: _a, ...legacy } = w;
    expect(nextStep(legacy)).toBe("generate");
  });

  it("goes back in line, not failed, when the engine refuses a start for now", () => {
    const started = run(job(), startGenerate.slice(0, 1));
    expect(started.status).toBe("starting");
    const back = transition(
      started,
      { type: "requeue", step: "generate", attempt: 1, reason: "Replicate is busy." },
      T0 + 9,
    )!;
    expect(back).toMatchObject({ status: "queued", admittedAt: null, error: null });
    expect(findStep(back, "generate")).toMatchObject({
      state: "waiting",
      ref: null,
      attempt: 1,
      note: "Replicate is busy.",
    });
    expect(nextStep(back)).toBeNull();
    // A stale attempt changes nothing; admitted again, the step starts its next attempt.
    expect(transition(back, { type: "requeue", step: "generate", attempt: 1, reason: "x" }, T0 + 10)).toBeNull();
    const again = run(transition(back, { type: "admit" }, T0 + 11)!, startGenerate.slice(0, 1), T0 + 11);
    expect(findStep(again, "generate")).toMatchObject({ state: "running", attempt: 2 });
    // Canceled while waiting: it ends at once.
    expect(transition(back, { type: "cancel" }, T0 + 12)).toMatchObject({ status: "canceled" });
  });

  it("is queued, schema-valid, with skipped steps for options left off", () => {
    const j = job();
    expect(jobSchema.parse(j)).toEqual(j);
    expect(j.status).toBe("queued");
    expect(j.steps.map((s) => [s.name, s.state])).toEqual([
      ["enhance", "skipped"],
      ["generate", "waiting"],
      ["sound", "skipped"],
      ["save", "waiting"],
    ]);
    expect(j.finalPrompt).toContain("a red fox running through snow");
    expect(nextStep(j)).toBe("generate");
  });

  it("plans enhance and sound when asked", () => {
    const j = job({ enhance: "on", sound: "on" });
    expect(j.steps.map((s) => s.state)).toEqual(["waiting", "waiting", "waiting", "waiting"]);
    expect(nextStep(j)).toBe("enhance");
  });
});

describe("transition", () => {
  it("walks a job from queued through generating to succeeded", () => {
    let j = run(job(), startGenerate);
    expect(j.status).toBe("starting");
    expect(j.message).toMatch(/starting|gpu/i);
    j = transition(
      j,
      prediction("generate", "processing", { logs: "Generating:  45%|████▌     | 45/100" }),
      T0 + 5000,
    )!;
    expect(j.status).toBe("processing");
    expect(findStep(j, "generate")!.progress).toBe(45);
    expect(j.progress).toBeGreaterThan(0);
    expect(j.message).toContain("45%");
    j = transition(j, prediction("generate", "succeeded", { output: "https://replicate.delivery/x.mp4" }), T0 + 6000)!;
    expect(nextStep(j)).toBe("save");
    j = run(
      j,
      [
        { type: "step.claim", step: "save", engine: "app" },
        { type: "saved", attempt: 1, videoUrl: "/api/files/x/video.mp4", posterUrl: null },
      ],
      T0 + 7000,
    );
    expect(j.status).toBe("succeeded");
    expect(j.progress).toBe(100);
    expect(j.videoUrl).toBe("/api/files/x/video.mp4");
    expect(j.completedAt).not.toBeNull();
  });

  it("reads tqdm progress after normalising carriage returns", () => {
    const j = run(job(), startGenerate);
    const logs = "loading\nGenerating:  10%|█         | 10/100\rGenerating:  62%|██████▏   | 62/100";
    const next = transition(j, prediction("generate", "processing", { logs }), T0 + 5000)!;
    expect(findStep(next, "generate")!.progress).toBe(62);
    expect(next.progressEstimated).toBe(false);
  });

  it("estimates progress from the start time when the logs show none, and says so", () => {
    const j = run(job(), startGenerate);
    const next = transition(
      j,
      prediction("generate", "processing", { logs: "warming up", startedAt: T0 }),
      T0 + 50_000,
    )!;
    expect(findStep(next, "generate")!.progress).toBe(50);
    expect(next.progressEstimated).toBe(true);
    expect(next.message).toContain("estimated");
  });

  it("never moves progress backwards", () => {
    let j = run(job(), startGenerate);
    j = transition(j, prediction("generate", "processing", { logs: "x 70%|███████   | 70/100" }), T0 + 5000)!;
    const before = j.progress;
    const older = transition(j, prediction("generate", "processing", { logs: "x 30%|███ | 30/100" }), T0 + 6000);
    expect(older).toBeNull();
    const longerButLower = transition(
      j,
      prediction("generate", "processing", { logs: "x 70%|███████   | 70/100\nrestarting sampler 20%|██ | 20/100" }),
      T0 + 7000,
    );
    expect(longerButLower?.progress ?? before).toBeGreaterThanOrEqual(before!);
  });

  it("never shows less than an estimate already shown when the first tqdm line is lower", () => {
    const model = "wan-video/wan-2.2-t2v-fast";
    const typicalSeconds = findModel(model)!.typicalSeconds;
    const gen = (j: { steps: { name: string; progress: number | null }[] }) =>
      j.steps.find((s) => s.name === "generate")!.progress!;
    let j = run(job({ model }), startGenerate);
    j = transition(
      j,
      prediction("generate", "processing", { logs: "booting", startedAt: T0, typicalSeconds }),
      T0 + 5_000,
    )!;
    expect(j.progressEstimated).toBe(true);
    // A viewer polls a while later: the estimate has moved on without any stored change.
    const shown = toPublicJob(j, T0 + typicalSeconds * 500);
    expect(gen(shown)).toBeGreaterThanOrEqual(45);
    expect(shown.message).toContain(`${gen(shown)}% (estimated)`);
    const tqdm = transition(
      j,
      prediction("generate", "processing", { logs: "booting\n 10%|█         | 10/100", startedAt: T0, typicalSeconds }),
      T0 + typicalSeconds * 500 + 1_000,
    )!;
    const after = toPublicJob(tqdm, T0 + typicalSeconds * 500 + 1_000);
    expect(after.progressEstimated).toBe(false);
    expect(gen(after)).toBeGreaterThanOrEqual(gen(shown));
    expect(after.progress!).toBeGreaterThanOrEqual(shown.progress!);
    // Real progress takes over once it passes the estimate.
    const passed = transition(
      tqdm,
      prediction("generate", "processing", {
        logs: "booting\n 10%|█ | 10/100\n 80%|████████ | 80/100",
        typicalSeconds,
      }),
      T0 + typicalSeconds * 500 + 2_000,
    )!;
    expect(findStep(passed, "generate")!.progress).toBe(80);
  });

  it("ignores duplicate deliveries", () => {
    let j = run(job(), startGenerate);
    const e = prediction("generate", "processing", { logs: "x 40%|████ | 40/100" });
    j = transition(j, e, T0 + 5000)!;
    expect(transition(j, e, T0 + 6000)).toBeNull();
  });

  it("ignores events for another prediction of the same step (stale attempt)", () => {
    const j = run(job(), startGenerate);
    expect(
      transition(j, prediction("generate", "succeeded", { ref: "old-pred", output: "https://x/y.mp4" }), T0 + 9000),
    ).toBeNull();
  });

  it("keeps terminal states final", () => {
    let j = run(job(), startGenerate);
    j = transition(j, prediction("generate", "failed", { error: "CUDA out of memory" }), T0 + 5000)!;
    expect(j.status).toBe("failed");
    expect(j.error).toContain("CUDA out of memory");
    expect(transition(j, prediction("generate", "succeeded", { output: "https://x/y.mp4" }), T0 + 6000)).toBeNull();
    expect(transition(j, { type: "cancel" }, T0 + 7000)).toBeNull();
  });

  it.each(["failed", "aborted"] as const)("ends the job on %s with a sentence", (status) => {
    const j = transition(run(job(), startGenerate), prediction("generate", status), T0 + 5000)!;
    expect(j.status).toBe("failed");
    expect(j.error).toMatch(/\.$/);
    expect(j.steps.find((s) => s.name === "save")!.state).toBe("skipped");
  });

  it("ends the job canceled when the provider cancels the video step", () => {
    const j = transition(run(job(), startGenerate), prediction("generate", "canceled"), T0 + 5000)!;
    expect(j.status).toBe("canceled");
  });

  it("a cancel racing a completion leaves one consistent final state", () => {
    const base = run(job(), startGenerate);
    const done: JobEvent = prediction("generate", "succeeded", { output: "https://x/y.mp4" });
    const cancel: JobEvent = { type: "cancel" };
    const a = run(base, [done, cancel]);
    const b = run(base, [cancel, done]);
    expect(a.status).toBe("canceled");
    expect(b.status).toBe("canceled");
    expect(a.steps.every((s) => s.state !== "running")).toBe(true);
  });

  it("names the predictions a cancel stopped from the job as the cancel left it, not as the owner read it", () => {
    const enhanced = run(job({ enhance: "on" }, true), [
      { type: "step.claim", step: "enhance", engine: "replicate" },
      prediction("enhance", "succeeded", { ref: "pred-enhance", output: "A better prompt." }),
    ]);
    // The owner's page read the job while generation was being started, before its prediction id was known.
    const readByOwner = run(enhanced, [{ type: "step.claim", step: "generate", engine: "replicate" }], T0 + 5_000);
    expect(findStep(readByOwner, "generate")!.ref).toBeNull();
    const beforeCancel = run(
      readByOwner,
      [{ type: "step.ref", step: "generate", attempt: 1, ref: "pred-generate" }],
      T0 + 10_000,
    );
    const canceled = transition(beforeCancel, { type: "cancel" }, T0 + 20_000)!;
    expect(canceledRefs(canceled)).toEqual([{ engine: "replicate", ref: "pred-generate" }]);
  });

  it("tells which predictions no step waits for any more", () => {
    const started = run(job(), startGenerate);
    expect(isOrphan(started, "generate", "pred-1", 1)).toBe(false);
    expect(isOrphan(started, "generate", "pred-2", 1)).toBe(true);
    // Claimed, id not yet known: a delivery of this attempt may still name its prediction.
    expect(isOrphan(run(job(), [startGenerate[0]!]), "generate", "early", 1)).toBe(false);
    const retried = run(started, [
      { type: "step.reset", step: "generate", attempt: 1, reason: "lost" },
      startGenerate[0]!,
    ]);
    expect(isOrphan(retried, "generate", "pred-1", 1)).toBe(true);
    expect(isOrphan(run(started, [{ type: "cancel" }]), "generate", "pred-1", 1)).toBe(true);
    expect(isOrphan(null, "generate", "pred-1", 1)).toBe(true);
    const done = transition(started, prediction("generate", "succeeded", { output: "https://x/y.mp4" }), T0 + 5_000)!;
    expect(isOrphan(done, "generate", "pred-1", 1)).toBe(false);
  });

  it("treats a succeeded prediction without output as a failure", () => {
    const j = transition(run(job(), startGenerate), prediction("generate", "succeeded"), T0 + 5000)!;
    expect(j.status).toBe("failed");
  });

  it("falls back to the rule-based enhancer when the LLM fails, and says so", () => {
    let j = job({ enhance: "on" }, true);
    j = run(j, [
      { type: "step.claim", step: "enhance", engine: "replicate" },
      prediction("enhance", "failed", { error: "model offline" }),
    ]);
    const enhance = findStep(j, "enhance")!;
    expect(enhance.state).toBe("done");
    expect(enhance.engine).toBe("rules");
    expect(enhance.note).toMatch(/rule-based/);
    expect(j.finalPrompt).toContain("red fox");
    expect(nextStep(j)).toBe("generate");
  });

  it("delivers the silent video when the sound step fails", () => {
    let j = job({ sound: "on" });
    j = run(j, [
      ...startGenerate,
      prediction("generate", "succeeded", { output: "https://x/y.mp4" }),
      { type: "step.claim", step: "sound", engine: "replicate" },
      prediction("sound", "failed", { ref: "pred-2", error: "no audio" }),
    ]);
    expect(j.status).not.toBe("failed");
    expect(j.notice).toMatch(/silent video/);
    expect(nextStep(j)).toBe("save");
  });

  it("adopts the prediction id from a webhook that arrives before the reference was recorded", () => {
    const claimed = run(job(), [{ type: "step.claim", step: "generate", engine: "replicate" }]);
    const j = transition(
      claimed,
      prediction("generate", "processing", { ref: "early", attempt: 1, logs: "a 5%| | 5/100" }),
      T0 + 3000,
    )!;
    expect(findStep(j, "generate")!.ref).toBe("early");
    expect(transition(claimed, prediction("generate", "processing", { ref: "x", attempt: 2 }), T0 + 3000)).toBeNull();
  });

  it("lets only one claimer start a step", () => {
    const first = transition(job(), { type: "step.claim", step: "generate", engine: "local" }, T0 + 1)!;
    expect(transition(first, { type: "step.claim", step: "generate", engine: "local" }, T0 + 2)).toBeNull();
    expect(transition(first, { type: "step.claim", step: "save", engine: "app" }, T0 + 2)).toBeNull();
  });

  it("puts a lost step back to waiting for another attempt", () => {
    const j = run(job(), [...startGenerate, { type: "step.reset", step: "generate", attempt: 1, reason: "lost" }]);
    expect(nextStep(j)).toBe("generate");
    const again = transition(j, { type: "step.claim", step: "generate", engine: "local" }, T0 + 9000)!;
    expect(findStep(again, "generate")!.attempt).toBe(2);
  });
});
