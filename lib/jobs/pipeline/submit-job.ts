import "server-only";
import { randomInt } from "node:crypto";
import { replicateConfigured } from "@/lib/engines";
import { env } from "@/lib/env";
import { withFormDefaults, type AppliedDefaults } from "@/lib/jobs/domain/form-defaults";
import { getVideoStore } from "@/lib/files";
import {
  framesRefusedBy,
  storeFrameImages,
  type FrameUploads,
  type FrameUploadsResult,
} from "@/lib/jobs/pipeline/frame-images";
import { newJob, newJobId } from "@/lib/jobs/domain/new-job";
import { dispatch, enqueueJob } from "@/lib/jobs/pipeline/dispatch";
import { createJobSchema, fieldErrors, type CreateJobInput } from "@/lib/jobs/domain/request";
import { groupPlan } from "@/lib/jobs/domain/group-members";
import type { Job, JobGroup } from "@/lib/core/job";
import { SEED_MAX } from "@/lib/jobs/domain/form-limits";
import { withinCreateLimits } from "@/lib/limits/create-limits";
import { jobLog, log } from "@/lib/log";
import { availableModels, getModel } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import type { Schedule } from "@/lib/core/schedule";

/**
 * Starting a job, the one path for the "Generate" form's server action, `POST /api/jobs` and
 * "Retry": validate, check the spend limits, store the job and put it in line, and let the line
 * move after the answer (it starts at once when a slot is free).
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
export type StartedAll = { ok: true; jobs: Job[] } | { ok: false; message: string; retryAfterSeconds: number };

export type StartExtras = {
  /** Checked frames: stored with each job whose model takes them, before it is created. */
  uploads?: FrameUploads;
  continuedFrom?: string;
};

export async function startJob(
  input: CreateJobInput,
  ownerId: string,
  ctx: StartContext,
  extras: StartExtras = {},
): Promise<Started> {
  const started = await startJobs(null, [input], ownerId, ctx, extras);
  return started.ok ? { ok: true, job: started.jobs[0]! } : started;
}

/**
 * Stores one job, or the members of a group (each counted by the spend limits, and all refused
 * together), then starts each after the answer.
 */
export async function startJobs(
  kind: JobGroup["kind"] | null,
  inputs: readonly CreateJobInput[],
  ownerId: string,
  ctx: StartContext,
  extras: StartExtras = {},
): Promise<StartedAll> {
  const store = getStore();
  const now = Date.now();
  const ids = inputs.map(() => newJobId());
  const group: JobGroup | null = kind && ids.length > 1 ? { id: ids[0]!, kind, members: ids } : null;
  const withFiles: string[] = [];
  let created: Awaited<ReturnType<typeof withinCreateLimits>> | null = null;
  try {
    const jobs: Job[] = [];
    for (const [i, input] of inputs.entries()) {
      const id = ids[i]!;
      const images =
        extras.uploads && getModel(input.model).images ? await storeFrameImages(id, extras.uploads) : undefined;
      if (images) withFiles.push(id);
      jobs.push(
        newJob({
          input,
          ownerId,
          llmEnhancer: replicateConfigured(),
          now,
          id,
          images,
          continuedFrom: extras.continuedFrom,
          group,
        }),
      );
    }
    created = await withinCreateLimits(
      { ip: ctx.ip, ownerId, store, now, env: env() },
      async () => {
        for (const job of jobs) await store.create(job);
        // Should this fail, the jobs are stored but not in line: the queue sweep puts them there.
        for (const job of jobs) {
          await enqueueJob(job).catch((error: unknown) =>
            jobLog(job.id).warn({ err: String(error) }, "putting the job in line failed"),
          );
        }
      },
      jobs.length,
    );
    if (!created.ok) {
      log.info({ reason: created.reason, jobs: jobs.length }, "job refused by a limit");
      return { ok: false, message: created.message, retryAfterSeconds: created.retryAfterSeconds };
    }
    for (const job of jobs)
      jobLog(job.id).info({ model: job.model, style: job.style, group: group?.id }, "job created");
    ctx.schedule(() => dispatch());
    return { ok: true, jobs };
  } finally {
    // A refused (or failed) job keeps no files.
    if (!created?.ok)
      await Promise.all(
        withFiles.map((id) =>
          getVideoStore()
            .delete(id)
            .catch(() => undefined),
        ),
      );
  }
}

export type Submitted =
  | { status: "invalid"; fieldErrors: Partial<Record<string, string>> }
  | { status: "rate_limited"; message: string; retryAfterSeconds: number }
  | { status: "created"; job: Job; jobs: Job[]; defaults: AppliedDefaults };

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
  const { values, defaults } = ctx.formDefaults
    ? withFormDefaults(submitted, models)
    : { values: submitted, defaults: {} };
  const parsed = createJobSchema(models).safeParse(values);
  const errors = { ...(parsed.success ? {} : fieldErrors(parsed.error)), ...(frames.ok ? {} : frames.fieldErrors) };
  if (parsed.success && frames.ok) {
    Object.assign(errors, framesRefusedBy(getModel(parsed.data.model), frames.uploads));
    // Every model compared gets the same frames: one that cannot take them is named.
    for (const id of parsed.data.compare) {
      const model = getModel(id);
      if (Object.keys(framesRefusedBy(model, frames.uploads)).length > 0 && !errors.compare)
        errors.compare = `${model.label} cannot take ${frames.uploads.last ? "these frames" : "a first frame"}; compare models that do, or remove the image.`;
    }
  }
  if (!parsed.success || !frames.ok || Object.keys(errors).length > 0)
    return { status: "invalid", fieldErrors: errors };
  const plan = groupPlan(parsed.data, randomSeed);
  const started = await startJobs(plan.kind, plan.inputs, await ctx.owner(), ctx, { uploads: frames.uploads });
  if (!started.ok)
    return { status: "rate_limited", message: started.message, retryAfterSeconds: started.retryAfterSeconds };
  return { status: "created", job: started.jobs[0]!, jobs: started.jobs, defaults };
}

const randomSeed = () => randomInt(0, SEED_MAX);

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
    typeof value === "string"
      ? [[key, value]]
      : typeof value === "number" || typeof value === "boolean"
        ? [[key, String(value)]]
        : [],
  );
  return formValues(entries);
}
