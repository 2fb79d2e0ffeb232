import "server-only";
import { replicateConfigured } from "@/lib/engines";
import { env } from "@/lib/env";
import { withFormDefaults, type AppliedDefaults } from "@/lib/jobs/form-defaults";
import { getVideoStore } from "@/lib/files";
import { framesRefusedBy, storeFrameImages, type FrameUploads, type FrameUploadsResult } from "@/lib/jobs/frame-images";
import { newJob, newJobId } from "@/lib/jobs/new-job";
import { advance } from "@/lib/jobs/pipeline";
import { createJobSchema, fieldErrors, type CreateJobInput } from "@/lib/jobs/request";
import type { Job } from "@/lib/jobs/schema";
import { withinCreateLimits } from "@/lib/limits/spend";
import { jobLog, log } from "@/lib/log";
import { availableModels, getModel } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import type { Schedule } from "@/lib/webhooks/handle-delivery";

/**
 * Starting a job, the one path for the "Generate" form's server action, `POST /api/jobs` and
 * "Retry": validate, check the spend limits, store the job, and start it after the answer.
 * Creating a job never waits for rendering, and a refused job never reaches an engine.
 * An unreachable store throws StoreUnavailableError; callers turn it into their own answer.
 */

export type StartContext = {
  /** From `clientAddress(headers)`. */
  ip: string;
  /** Runs work after the answer (Next's `after`). */
  schedule: Schedule;
};

export type Started = { ok: true; job: Job } | { ok: false; message: string; retryAfterSeconds: number };

export type StartExtras = {
  /** Checked frames (the model takes them): stored with the job before it is created. */
  uploads?: FrameUploads;
  continuedFrom?: string;
};

export async function startJob(input: CreateJobInput, ownerId: string, ctx: StartContext, extras: StartExtras = {}): Promise<Started> {
  const store = getStore();
  const now = Date.now();
  const id = newJobId();
  const images = extras.uploads ? await storeFrameImages(id, extras.uploads) : undefined;
  const job = newJob({ input, ownerId, llmEnhancer: replicateConfigured(), now, id, images, continuedFrom: extras.continuedFrom });
  let created: Awaited<ReturnType<typeof withinCreateLimits>> | null = null;
  try {
    created = await withinCreateLimits({ ip: ctx.ip, ownerId, store, now, env: env() }, () => store.create(job));
  } finally {
    // A refused (or failed) job keeps no files.
    if (images && !created?.ok) await getVideoStore().delete(id).catch(() => undefined);
  }
  if (!created.ok) {
    log.info({ reason: created.reason }, "job refused by a limit");
    return { ok: false, message: created.message, retryAfterSeconds: created.retryAfterSeconds };
  }
  jobLog(job.id).info({ model: job.model, style: job.style }, "job created");
  ctx.schedule(() => advance(job.id));
  return { ok: true, job };
}

export type Submitted =
  | { status: "invalid"; fieldErrors: Partial<Record<string, string>> }
  | { status: "rate_limited"; message: string; retryAfterSeconds: number }
  | { status: "created"; job: Job; defaults: AppliedDefaults };

/**
 * Validates the form's values with the same schema the browser used, then starts the job.
 * `owner` is asked only for valid values, so an invalid request mints no owner cookie.
 * With `formDefaults` (the API), fields left out take the form's defaults, listed in the answer;
 * the form itself always sends every field (an unticked box is left out, and means off).
 */
export async function submitJob(
  submitted: Record<string, string>,
  ctx: StartContext & { owner: () => Promise<string>; formDefaults?: boolean },
  frames: FrameUploadsResult = { ok: true, uploads: {} },
): Promise<Submitted> {
  const models = availableModels(replicateConfigured());
  const { values, defaults } = ctx.formDefaults ? withFormDefaults(submitted, models) : { values: submitted, defaults: {} };
  const parsed = createJobSchema(models).safeParse(values);
  const errors = { ...(parsed.success ? {} : fieldErrors(parsed.error)), ...(frames.ok ? {} : frames.fieldErrors) };
  if (parsed.success && frames.ok) Object.assign(errors, framesRefusedBy(getModel(parsed.data.model), frames.uploads));
  if (!parsed.success || !frames.ok || Object.keys(errors).length > 0) return { status: "invalid", fieldErrors: errors };
  const started = await startJob(parsed.data, await ctx.owner(), ctx, { uploads: frames.uploads });
  if (!started.ok) return { status: "rate_limited", message: started.message, retryAfterSeconds: started.retryAfterSeconds };
  return { status: "created", job: started.job, defaults };
}

const MAX_VALUE_LENGTH = 4000;

/** Form fields as the schema reads them: strings only (files and React's `$` fields dropped), each bounded. */
export function formValues(entries: Iterable<[string, unknown]>): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (typeof value === "string" && !key.startsWith("$")) values[key] = value.slice(0, MAX_VALUE_LENGTH);
  }
  return values;
}

/**
 * A JSON body's fields as form values: strings as they are, numbers and booleans as the form
 * would send them ("4", "true"); anything else is left out, so the schema reports it missing.
 * Null when the body is not one JSON object.
 */
export function jsonValues(body: unknown): Record<string, string> | null {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return null;
  const entries = Object.entries(body).flatMap(([key, value]): [string, string][] =>
    typeof value === "string" ? [[key, value]] : typeof value === "number" || typeof value === "boolean" ? [[key, String(value)]] : [],
  );
  return formValues(entries);
}
