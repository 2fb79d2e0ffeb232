import { describe, expect, it } from "vitest";
import { groupPlan } from "@/lib/jobs/domain/group-members";
import { createJobSchema } from "@/lib/jobs/domain/request";
import { MODELS } from "@/lib/models/registry";

const parse = (values: Record<string, string>) => createJobSchema(MODELS).parse({ style: "cinematic", ...values });

describe("groupPlan", () => {
  it("makes one job without takes or models to compare", () => {
    const plan = groupPlan(parse({ prompt: "a fox in snow", model: "local/preview" }), () => 7);
    expect(plan.kind).toBeNull();
    expect(plan.inputs).toHaveLength(1);
  });

  it("gives takes seeds one apart, from the seed given or a random one, wrapping at the maximum", () => {
    expect(
      groupPlan(parse({ prompt: "a fox in snow", model: "local/preview", takes: "3", seed: "10" }), () => 7).inputs.map(
        (i) => i.seed,
      ),
    ).toEqual([10, 11, 12]);
    expect(
      groupPlan(parse({ prompt: "a fox in snow", model: "local/preview", takes: "2" }), () => 7).inputs.map(
        (i) => i.seed,
      ),
    ).toEqual([7, 8]);
    expect(
      groupPlan(
        parse({ prompt: "a fox in snow", model: "local/preview", takes: "2", seed: "2147483647" }),
        () => 7,
      ).inputs.map((i) => i.seed),
    ).toEqual([2147483647, 0]);
    // A model without a seed setting varies by itself.
    expect(
      groupPlan(parse({ prompt: "a fox in snow", model: "minimax/video-01", takes: "2" }), () => 7).inputs.map(
        (i) => i.seed,
      ),
    ).toEqual([undefined, undefined]);
  });

  it("puts the prompt on each compared model with the settings that model offers", () => {
    const plan = groupPlan(
      parse({
        prompt: "a fox in snow",
        model: "kwaivgi/kling-v2.1-master",
        duration: "10",
        negativePrompt: "blur",
        compare: "google/veo-3-fast,wan-video/wan-2.2-t2v-fast",
      }),
      () => 7,
    );
    expect(plan.kind).toBe("models");
    expect(plan.inputs.map((i) => [i.model, i.duration, i.negativePrompt])).toEqual([
      ["kwaivgi/kling-v2.1-master", 10, "blur"],
      ["google/veo-3-fast", undefined, "blur"],
      ["wan-video/wan-2.2-t2v-fast", undefined, undefined],
    ]);
    expect(plan.inputs.every((i) => i.compare.length === 0 && i.takes === undefined)).toBe(true);
  });
});
