"use server";

import { headers } from "next/headers";
import { after } from "next/server";
import { ensureOwner } from "@/lib/auth/owner";
import { getEngine, replicateConfigured } from "@/lib/engines";
import { enhanceNow, type Enhanced } from "@/lib/enhance/enhance-now";
import { env } from "@/lib/env";
import { getVideoStore } from "@/lib/files";
import { continuationModel, continuationValues, lastFrameOf } from "@/lib/jobs/pipeline/continue-job";
import { jobFormValues } from "@/lib/jobs/domain/form-values";
import { jobFrameUploads, readFrameUploads } from "@/lib/jobs/pipeline/frame-images";
import { loadVisibleJob, NO_SUCH_JOB } from "@/lib/jobs/adapters/access";
import { dispatch } from "@/lib/jobs/pipeline/dispatch";
import { applyEvent } from "@/lib/jobs/pipeline/advance";
import { forgetQueueSnapshot } from "@/lib/jobs/pipeline/queue-place";
import { endShare, removeShareFiles, ShareFilesNotRemovedError, startShare } from "@/lib/jobs/pipeline/sharing";
import { createJobSchema, promptSchema, type CreateJobState } from "@/lib/jobs/domain/request";
import { isTerminal, JOB_ID_PATTERN, type Job } from "@/lib/core/job";
import { formValues, startJob, submitJob } from "@/lib/jobs/pipeline/submit-job";
import { STYLE_IDS } from "@/lib/styles";
import { canceledRefs } from "@/lib/jobs/domain/steps";
import { clientAddress } from "@/lib/http/client-address";
import { checkEnhanceLimits } from "@/lib/limits/enhance-limits";
import { jobLog, log } from "@/lib/log";
import { availableModels } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import { isStoreUnavailable } from "@/lib/store/types";

const STORE_DOWN = "The job store is unreachable right now, so nothing was started. Try again in a moment.";

/** Validates the form with the same schema the browser used, stores the job and starts it in the background. */
export async function createJob(_prev: CreateJobState, formData: FormData): Promise<CreateJobState> {
  const values = formValues(formData);
  try {
    const frames = await readFrameUploads((field) => formData.get(field) ?? undefined);
    const result = await submitJob(
      values,
      { owner: ensureOwner, ip: clientAddress(await headers()), schedule: after },
      frames,
    );
    switch (result.status) {
      case "invalid":
        return { status: "invalid", fieldErrors: result.fieldErrors, values };
      case "rate_limited":
        return { status: "rate_limited", message: result.message, retryAfterSeconds: result.retryAfterSeconds, values };
      case "created":
        return {
          status: "created",
          id: result.job.id,
          url: result.job.group ? `/groups/${result.job.group.id}` : `/jobs/${result.job.id}`,
        };
    }
  } catch (error) {
    if (isStoreUnavailable(error)) return { status: "failed", message: STORE_DOWN, values };
    log.error({ err: error instanceof Error ? error.message : String(error) }, "createJob failed");
    return { status: "failed", message: "Something went wrong on our side; the job was not started.", values };
  }
}

/** Why an owner's action was refused; the job API answers each with its HTTP status. */
export type ActionFailure = "bad_request" | "not_found" | "forbidden" | "conflict" | "unavailable";
export type ActionResult = { ok: true } | { ok: false; code: ActionFailure; message: string };
type Refusal = { code: ActionFailure; message: string };

/**
 * Loads a job this browser owns, or says why not (in a sentence). Someone else's job is refused
 * exactly as a job that does not exist (lib/jobs/adapters/access.ts).
 */
async function ownedJob(id: unknown): Promise<{ job: Job } | Refusal> {
  if (typeof id !== "string" || !JOB_ID_PATTERN.test(id))
    return { code: "bad_request", message: "That is not a valid job id." };
  const job = await loadVisibleJob(id);
  if (!job) return { code: "not_found", message: NO_SUCH_JOB };
  return { job };
}

function storeDown(error: unknown): ActionResult {
  if (isStoreUnavailable(error))
    return {
      ok: false,
      code: "unavailable",
      message: "The job store is unreachable right now; nothing changed. Try again in a moment.",
    };
  throw error;
}

/** Cancels a running job: the job ends canceled at once, and the engine is asked to stop. Owner only. */
export async function cancelJob(id: string): Promise<ActionResult> {
  try {
    const owned = await ownedJob(id);
    if ("message" in owned) return { ok: false, ...owned };
    const { job } = owned;
    if (isTerminal(job.status)) return { ok: false, code: "conflict", message: "This job has already finished." };
    const result = await applyEvent(job.id, { type: "cancel" });
    if (!result?.changed || result.job.status !== "canceled")
      return { ok: false, code: "conflict", message: "This job has already finished." };
    cancelUpstream(result.job);
    await freeSlot(job.id);
    jobLog(job.id).info("job canceled");
    return { ok: true };
  } catch (error) {
    return storeDown(error);
  }
}

/**
 * A canceled or deleted job leaves the line (or frees its slot) before the answer, so the places
 * of those behind it move at once; the next job starts after the answer. Should the store fail
 * here, the queue sweep frees it later.
 */
async function freeSlot(jobId: string): Promise<void> {
  const released = await getStore()
    .queue.release(jobId, Date.now(), false)
    .catch(() => false);
  forgetQueueSnapshot();
  if (released) after(() => dispatch());
}

/**
 * Stops the predictions of the steps the cancel ended, read from the job as the cancel left it:
 * a step that started between the owner's read and the cancel is stopped too. (One whose create
 * is still under way is stopped by the pipeline when the create returns.)
 */
function cancelUpstream(canceled: Job): void {
  for (const { engine, ref } of canceledRefs(canceled)) {
    after(async () => {
      try {
        await (await getEngine(engine)).cancel(ref);
      } catch (error) {
        jobLog(canceled.id).warn(
          { err: error instanceof Error ? error.message : String(error) },
          "upstream cancel failed",
        );
      }
    });
  }
}

/** Deletes a job and its files. A running job is canceled first, so no engine keeps working for nobody. Owner only. */
export async function deleteJob(id: string): Promise<ActionResult> {
  try {
    const owned = await ownedJob(id);
    if ("message" in owned) return { ok: false, ...owned };
    const { job } = owned;
    if (!isTerminal(job.status)) {
      const result = await applyEvent(job.id, { type: "cancel" });
      if (result?.changed) cancelUpstream(result.job);
    }
    await getStore().delete(job.id);
    await freeSlot(job.id);
    await getVideoStore().delete(job.id);
    jobLog(job.id).info("job deleted");
    await removeShareFiles(job.id, job.share);
    return { ok: true };
  } catch (error) {
    if (error instanceof ShareFilesNotRemovedError) return { ok: true };
    return storeDown(error);
  }
}

/**
 * Makes a public share page, /v/<token>, with a new token, or takes it down (the token, the page,
 * its embed and its files go at once). Owner only.
 */
export async function setShared(id: string, shared: boolean): Promise<ActionResult> {
  try {
    const owned = await ownedJob(id);
    if ("message" in owned) return { ok: false, ...owned };
    if (!shared) {
      await endShare(owned.job.id);
      return { ok: true };
    }
    const share = await startShare(owned.job);
    return share ? { ok: true } : { ok: false, code: "conflict", message: "Only a finished video can be shared." };
  } catch (error) {
    if (error instanceof ShareFilesNotRemovedError) {
      return {
        ok: false,
        code: "unavailable",
        message:
          "The share page is off, but the storage did not remove its copy of the video yet. Try again in a moment.",
      };
    }
    return storeDown(error);
  }
}

/** Runs a failed or canceled job again with the same settings, as a new job. Owner only. */
export async function retryJob(id: string): Promise<{ ok: true; id: string } | { ok: false; message: string }> {
  try {
    const owned = await ownedJob(id);
    if ("message" in owned) return { ok: false, ...owned };
    const { job } = owned;
    if (job.status !== "failed" && job.status !== "canceled")
      return { ok: false, message: "Only a failed or canceled job can be retried." };
    const input = createJobSchema(availableModels(replicateConfigured())).safeParse(jobFormValues(job));
    if (!input.success)
      return { ok: false, message: "This job's model is not available here any more; remix it with another model." };
    const started = await startJob(
      input.data,
      job.ownerId!,
      { ip: clientAddress(await headers()), schedule: after },
      { uploads: await jobFrameUploads(job) },
    );
    return started.ok ? { ok: true, id: started.job.id } : { ok: false, message: started.message };
  } catch (error) {
    const result = storeDown(error);
    return result.ok ? { ok: false, message: "Something went wrong." } : result;
  }
}

export type ContinueResult =
  | { ok: true; id: string }
  | { ok: false; code: ActionFailure | "rate_limited"; message: string; retryAfterSeconds?: number };

/**
 * "Continue from the last frame": a new job whose first frame is this finished video's last
 * frame, prompt, style and options carried over, linked both ways. Owner only.
 */
export async function continueJob(id: string): Promise<ContinueResult> {
  try {
    const owned = await ownedJob(id);
    if ("message" in owned) return { ok: false, ...owned };
    const { job } = owned;
    if (job.status !== "succeeded" || !job.videoUrl)
      return { ok: false, code: "conflict", message: "Only a finished video can be continued." };
    const models = availableModels(replicateConfigured());
    const model = continuationModel(job, models);
    if (!model) return { ok: false, code: "conflict", message: "No model here takes a first frame." };
    const input = createJobSchema(models).safeParse(continuationValues(job, model));
    if (!input.success)
      return {
        ok: false,
        code: "conflict",
        message: "This video's settings cannot be used again here; remix it instead.",
      };
    let first;
    try {
      first = await lastFrameOf(job);
    } catch (error) {
      jobLog(job.id).warn(
        { err: error instanceof Error ? error.message : String(error) },
        "last frame extraction failed",
      );
      return {
        ok: false,
        code: "unavailable",
        message: "The video's last frame could not be read; try again in a moment.",
      };
    }
    const started = await startJob(
      input.data,
      job.ownerId!,
      { ip: clientAddress(await headers()), schedule: after },
      { uploads: { first }, continuedFrom: job.id },
    );
    if (!started.ok)
      return {
        ok: false,
        code: "rate_limited",
        message: started.message,
        retryAfterSeconds: started.retryAfterSeconds,
      };
    await getStore().update(job.id, (j) => ({ ...j, continuations: [...(j.continuations ?? []), started.job.id] }));
    return { ok: true, id: started.job.id };
  } catch (error) {
    const result = storeDown(error);
    return result.ok ? { ok: false, code: "unavailable", message: "Something went wrong." } : result;
  }
}

export type EnhanceResult = ({ ok: true } & Enhanced) | { ok: false; message: string; retryAfterSeconds?: number };

/** The "Enhance" button: the prompt rewritten for video, to show beside the original and edit. */
export async function enhancePrompt(prompt: string, style: string): Promise<EnhanceResult> {
  const parsedPrompt = promptSchema.safeParse(prompt);
  if (!parsedPrompt.success)
    return { ok: false, message: parsedPrompt.error.issues[0]?.message ?? "Type a prompt first." };
  if (!(STYLE_IDS as readonly string[]).includes(style)) return { ok: false, message: "Pick one of the styles." };
  try {
    // Each use may start a paid LLM prediction: counted per network, for the site and per browser.
    const ownerId = await ensureOwner();
    const limit = await checkEnhanceLimits({
      ip: clientAddress(await headers()),
      ownerId,
      store: getStore(),
      now: Date.now(),
      env: env(),
    });
    if (!limit.ok) {
      log.info({ reason: limit.reason }, "enhance refused by a limit");
      return { ok: false, message: limit.message, retryAfterSeconds: limit.retryAfterSeconds };
    }
  } catch (error) {
    if (isStoreUnavailable(error))
      return {
        ok: false,
        message: "The job store is unreachable right now, so nothing was enhanced. Try again in a moment.",
      };
    throw error;
  }
  return { ok: true, ...(await enhanceNow(parsedPrompt.data, style)) };
}
