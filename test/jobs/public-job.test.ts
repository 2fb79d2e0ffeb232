import { describe, expect, it } from "vitest";
import { toPublicJob } from "@/lib/jobs/domain/public";
import { PRIVATE_JOB_FIELDS, PRIVATE_STEP_FIELDS, publicJobSchema, publicStepSchema } from "@/lib/core/job";
import { makeJob, makeStep } from "@/test/support/job-factory";

describe("the public job", () => {
  it("is exactly the public schema: every private field of the job and its steps is left out", () => {
    const job = makeJob({
      ownerId: "owner-secret",
      engineRef: "pred_engine_ref_secret",
      steps: [
        makeStep("enhance", { state: "done", output: "enhanced", logsLength: 12 }),
        makeStep("generate", {
          state: "running",
          ref: "pred_ref_secret",
          output: "https://replicate.delivery/secret.mp4",
          leaseUntil: 5,
        }),
        makeStep("sound", { state: "skipped", engine: "none" }),
        makeStep("save"),
      ],
    });
    const shown = toPublicJob(job);
    // strict(): a field the schema does not list (a private one let through) fails the parse.
    expect(() => publicJobSchema.strict().parse(shown)).not.toThrow();
    for (const step of shown.steps) expect(() => publicStepSchema.strict().parse(step)).not.toThrow();
    for (const field of PRIVATE_JOB_FIELDS) expect(shown).not.toHaveProperty(field);
    for (const field of PRIVATE_STEP_FIELDS) for (const step of shown.steps) expect(step).not.toHaveProperty(field);
    const text = JSON.stringify(shown);
    for (const secret of ["owner-secret", "pred_engine_ref_secret", "pred_ref_secret", "replicate.delivery"])
      expect(text).not.toContain(secret);
  });
});
