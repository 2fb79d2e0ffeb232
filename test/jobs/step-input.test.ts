import { describe, expect, it } from "vitest";
import { initialFormValues, toFormData, valuesFromSubmitted } from "@/components/generate/form-values";
import { ruleEnhance } from "@/lib/enhance/rules";
import { jobFormValues } from "@/lib/jobs/domain/form-values";
import { newJob } from "@/lib/jobs/domain/new-job";
import { negativePromptAsSent } from "@/lib/jobs/domain/prompt-as-sent";
import { createJobSchema } from "@/lib/jobs/domain/request";
import type { Job } from "@/lib/core/job";
import { stepInput } from "@/lib/jobs/domain/step-input";
import { findStep } from "@/lib/jobs/domain/steps";
import { transition } from "@/lib/jobs/domain/transition";
import { clipSeconds, defaultParams, MODELS } from "@/lib/models/registry";
import { applyStyle, getStyle } from "@/lib/styles";

const T0 = 1_700_000_000_000;

function job(form: Record<string, string>, llmEnhancer = false): Job {
  const input = createJobSchema(MODELS).parse({
    prompt: "a red fox in the snow",
    style: "cinematic",
    model: "local/preview",
    ...form,
  });
  return transition(newJob({ input, ownerId: "owner-1", llmEnhancer, now: T0 }), { type: "admit" }, T0)!;
}

/** The job with its generate step done, as the sound step sees it. */
function generated(j: Job, output = "https://replicate.delivery/x/video.mp4"): Job {
  return { ...j, steps: j.steps.map((s) => (s.name === "generate" ? { ...s, state: "done", output } : s)) };
}

describe("the prompt sent without enhancement", () => {
  it("is the style's template with its camera and lighting hints", () => {
    const cinematic = getStyle("cinematic");
    const sent = applyStyle("a red fox in the snow", "cinematic");
    expect(sent).toContain("a red fox in the snow");
    expect(sent).toContain("Anamorphic widescreen framing");
    expect(sent).toContain(`Camera: ${cinematic.camera}.`);
    expect(sent).toContain(`Lighting: ${cinematic.lighting}.`);
    expect(sent.length).toBeLessThan(300);
  });

  it("leaves out a hint the prompt already gives", () => {
    const atNight = applyStyle("a red fox in the snow at night", "cinematic");
    expect(atNight).not.toContain("Lighting:");
    expect(atNight).toContain("Camera:");
    const closeUp = applyStyle("close-up of a red fox", "anime");
    expect(closeUp).not.toContain("Camera:");
    expect(closeUp).toContain(`Lighting: ${getStyle("anime").lighting}.`);
  });

  it("is what the local engine receives, and what the job shows as sent", () => {
    const j = job({});
    expect(j.finalPrompt).toBe(applyStyle("a red fox in the snow", "cinematic"));
    expect(stepInput(j, "generate", "local").input.prompt).toBe(j.finalPrompt);
  });

  it("the enhanced prompt is what the local engine receives once enhancement ran", () => {
    let j = job({ enhance: "on" });
    j = transition(j, { type: "step.claim", step: "enhance", engine: "rules" }, T0 + 1)!;
    j = transition(
      j,
      { type: "step.complete", step: "enhance", attempt: 1, output: ruleEnhance(j.prompt, j.style) },
      T0 + 2,
    )!;
    expect(j.finalPrompt).toContain("Subtle natural motion");
    expect(stepInput(j, "generate", "local").input.prompt).toBe(j.finalPrompt);
  });

  it("is what a Replicate model receives", () => {
    const j = job({ model: "minimax/video-01" });
    expect(stepInput(j, "generate", "replicate").input).toEqual({ prompt: j.finalPrompt, prompt_optimizer: false });
  });
});

describe("the negative prompt sent", () => {
  it("is the user's terms then the style's, each once, for a model that takes one", () => {
    const j = job({ model: "kwaivgi/kling-v2.1-master", negativePrompt: "blurry, Cartoon" });
    const input = stepInput(j, "generate", "replicate").input;
    expect(input.negative_prompt).toBe("blurry, Cartoon, flat lighting, low resolution, watermark, text artifacts");
    // The job page shows the same text as sent.
    expect(negativePromptAsSent(j)).toBe(input.negative_prompt);
    // The user's own stays as they typed it, for remixing.
    expect(j.params.negativePrompt).toBe("blurry, Cartoon");
  });

  it("is the style's alone when the user gave none", () => {
    const j = job({ model: "google/veo-3-fast", style: "film-noir" });
    expect(stepInput(j, "generate", "replicate").input.negative_prompt).toBe(getStyle("film-noir").negativePrompt);
  });

  it("is not sent to a model without one", () => {
    const j = job({ model: "wan-video/wan-2.2-t2v-fast" });
    expect(stepInput(j, "generate", "replicate").input).not.toHaveProperty("negative_prompt");
    expect(negativePromptAsSent(j)).toBeNull();
    expect(negativePromptAsSent(job({}))).toBeNull();
  });
});

describe("the sound step's input", () => {
  it("asks MMAudio for the clip's real length when the model has no duration setting", () => {
    const j = generated(job({ model: "minimax/video-01", sound: "on" }));
    expect(stepInput(j, "sound", "replicate").input).toMatchObject({
      video: "https://replicate.delivery/x/video.mp4",
      duration: 6,
    });
  });

  it("asks for the chosen duration otherwise", () => {
    const j = generated(job({ model: "bytedance/seedance-1-lite", duration: "10", sound: "on" }));
    expect(stepInput(j, "sound", "replicate").input).toMatchObject({ duration: 10 });
  });

  it("knows the clip length of every model that can take the sound step", () => {
    for (const model of MODELS.filter((m) => !m.ownAudio)) {
      expect(clipSeconds(model, defaultParams(model)), model.id).toBeGreaterThan(0);
    }
  });
});

describe("automatic enhancement", () => {
  it("uses the LLM whenever one is configured, as the Enhance button does, also for the local preview", () => {
    expect(findStep(job({ enhance: "on" }, true), "enhance")!.engine).toBe("replicate");
    expect(findStep(job({ enhance: "on" }, false), "enhance")!.engine).toBe("rules");
  });
});

describe("remix and retry of a job whose prompt was enhanced and edited by hand", () => {
  const edited = "A red fox leaping through deep snow, slow motion, low camera, soft blue dusk light";
  const original = job({ enhancedPrompt: edited, enhance: "on", seed: "42" });

  it("keep the edited prompt and leave automatic enhancement off", () => {
    const values = jobFormValues(original);
    expect(values.enhancedPrompt).toBe(edited);
    expect(values.enhance).toBeUndefined();
    const again = newJob({
      input: createJobSchema(MODELS).parse(values),
      ownerId: "owner-1",
      llmEnhancer: true,
      now: T0,
    });
    expect(again.finalPrompt).toBe(edited);
    expect(again.steps.map((s) => [s.name, s.state, s.engine])).toEqual(
      original.steps.map((s) => [s.name, s.state, s.engine]),
    );
    expect(again.params).toEqual(original.params);
  });

  it("fill the remix form with the edited prompt, which it submits again", () => {
    const form = initialFormValues(MODELS, valuesFromSubmitted(jobFormValues(original)));
    expect(form.enhancedPrompt).toBe(edited);
    expect(form.enhance).toBe(false);
    expect(form.seed).toBe("42");
    expect(toFormData(form, MODELS[0]).get("enhancedPrompt")).toBe(edited);
  });

  it("keep automatic enhancement on for a job that enhanced automatically", () => {
    const values = jobFormValues(job({ enhance: "on" }));
    expect(values.enhance).toBe("on");
    expect(values.enhancedPrompt).toBeUndefined();
  });
});
