import { z } from "zod";
import { findModel, type ModelDef } from "@/lib/models/registry";
import { STYLE_IDS } from "@/lib/style-ids";
import { NEGATIVE_PROMPT_MAX, PROMPT_MAX, PROMPT_MIN, SEED_MAX } from "@/lib/jobs/domain/form-limits";
import { JOB_ID_PATTERN, MAX_COMPARED_MODELS, MAX_TAKES } from "@/lib/core/job";

/**
 * What the "Generate" form sends. One schema for both sides: the form validates with it before
 * submitting, and the createJob server action validates the same FormData with it again.
 */

export { NEGATIVE_PROMPT_MAX, PROMPT_MAX, PROMPT_MIN, SEED_MAX };

const emptyToUndefined = (v: unknown) => (v === "" || v === null ? undefined : v);

const checkbox = z.preprocess((v) => v === "on" || v === "true" || v === true, z.boolean());

export const promptSchema = z
  .string({ message: "Type a prompt." })
  .trim()
  .min(PROMPT_MIN, { message: `The prompt needs at least ${PROMPT_MIN} characters.` })
  .max(PROMPT_MAX, { message: `The prompt can have at most ${PROMPT_MAX} characters.` });

/** `models`: the models on offer (only their ids are read: the form passes the ones it lists). */
export function createJobSchema(models: readonly Pick<ModelDef, "id">[]) {
  const modelIds = models.map((m) => m.id);
  return z
    .object({
      prompt: promptSchema,
      style: z.enum(STYLE_IDS, { message: "Pick one of the styles." }),
      model: z.preprocess(
        emptyToUndefined,
        z
          .string({ message: "Pick a model." })
          .refine((id) => modelIds.includes(id), { message: "That model is not available here." }),
      ),
      duration: z.preprocess(emptyToUndefined, z.coerce.number({ message: "Pick a length." }).optional()),
      aspectRatio: z.preprocess(emptyToUndefined, z.string().optional()),
      resolution: z.preprocess(emptyToUndefined, z.string().optional()),
      seed: z.preprocess(
        emptyToUndefined,
        z.coerce
          .number({ message: "The seed must be a whole number." })
          .int({ message: "The seed must be a whole number." })
          .min(0, { message: "The seed cannot be negative." })
          .max(SEED_MAX, { message: `The seed can be at most ${SEED_MAX}.` })
          .optional(),
      ),
      negativePrompt: z.preprocess(
        emptyToUndefined,
        z
          .string()
          .trim()
          .max(NEGATIVE_PROMPT_MAX, {
            message: `The negative prompt can have at most ${NEGATIVE_PROMPT_MAX} characters.`,
          })
          .optional(),
      ),
      /** The prompt after the "Enhance" action, as the user left it (edited or not). */
      enhancedPrompt: z.preprocess(
        emptyToUndefined,
        z
          .string()
          .trim()
          .max(PROMPT_MAX, { message: `The enhanced prompt can have at most ${PROMPT_MAX} characters.` })
          .optional(),
      ),
      enhance: checkbox,
      sound: checkbox,
      remixOf: z.preprocess(emptyToUndefined, z.string().regex(JOB_ID_PATTERN).optional()),
      /** How many takes of this prompt (different seeds): 1 to MAX_TAKES. */
      takes: z.preprocess(
        emptyToUndefined,
        z.coerce
          .number({ message: "Pick how many takes." })
          .int({ message: "Pick how many takes." })
          .min(1, { message: "Pick how many takes." })
          .max(MAX_TAKES, { message: `At most ${MAX_TAKES} takes at once.` })
          .optional(),
      ),
      /** Other models to run the same prompt on, comma-separated ids, to compare side by side. */
      compare: z.preprocess(
        (v) =>
          typeof v === "string"
            ? v
                .split(",")
                .map((id) => id.trim())
                .filter(Boolean)
            : [],
        z.array(z.string()),
      ),
    })
    .superRefine((v, ctx) => {
      const model = findModel(v.model);
      if (!model) return;
      const p = model.params;
      const check = (
        name: "duration" | "aspectRatio" | "resolution",
        value: string | number | undefined,
        spec: { options: (string | number)[] } | undefined,
        what: string,
      ) => {
        if (value === undefined) return;
        if (!spec) ctx.addIssue({ code: "custom", path: [name], message: `${model.label} has no ${what} setting.` });
        else if (!spec.options.includes(value))
          ctx.addIssue({
            code: "custom",
            path: [name],
            message: `${model.label} supports ${what} ${spec.options.join(", ")}.`,
          });
      };
      check("duration", v.duration, p.duration, "length");
      check("aspectRatio", v.aspectRatio, p.aspectRatio, "aspect ratio");
      check("resolution", v.resolution, p.resolution, "resolution");
      if (v.seed !== undefined && !p.seed)
        ctx.addIssue({ code: "custom", path: ["seed"], message: `${model.label} does not take a seed.` });
      if (v.negativePrompt !== undefined && !p.negativePrompt)
        ctx.addIssue({
          code: "custom",
          path: ["negativePrompt"],
          message: `${model.label} does not take a negative prompt.`,
        });
      if (v.compare.length > 0) {
        const unknown = v.compare.find((id) => !modelIds.includes(id));
        if (unknown)
          ctx.addIssue({
            code: "custom",
            path: ["compare"],
            message: "A model to compare with is not available here.",
          });
        else if (v.compare.includes(v.model) || new Set(v.compare).size !== v.compare.length)
          ctx.addIssue({ code: "custom", path: ["compare"], message: "Pick each model to compare once." });
        else if (v.compare.length + 1 > MAX_COMPARED_MODELS)
          ctx.addIssue({
            code: "custom",
            path: ["compare"],
            message: `Compare at most ${MAX_COMPARED_MODELS} models at once.`,
          });
        if ((v.takes ?? 1) > 1)
          ctx.addIssue({
            code: "custom",
            path: ["takes"],
            message: "Make several takes, or compare models: not both at once.",
          });
      }
    });
}

export type CreateJobInput = z.infer<ReturnType<typeof createJobSchema>>;
export type CreateJobField = keyof CreateJobInput;

/** Field names to the first message for each, as forms show them. */
export function fieldErrors(error: z.ZodError): Partial<Record<string, string>> {
  const out: Partial<Record<string, string>> = {};
  for (const issue of error.issues) {
    const key = String(issue.path[0] ?? "form");
    out[key] ??= issue.message;
  }
  return out;
}

/** The typed result of the createJob server action, for useActionState. */
export type CreateJobState =
  | { status: "idle" }
  | { status: "invalid"; fieldErrors: Partial<Record<string, string>>; values: Record<string, string> }
  | { status: "rate_limited"; message: string; retryAfterSeconds: number; values: Record<string, string> }
  | { status: "failed"; message: string; values: Record<string, string> }
  | { status: "created"; id: string; url: string };
