"use server";

import { after } from "next/server";
import { currentOwner, ensureOwner } from "@/lib/auth/owner";
import { getEngine, replicateConfigured } from "@/lib/engines";
import { newJob } from "@/lib/jobs/new-job";
import { advance, applyEvent } from "@/lib/jobs/pipeline";
import { createJobSchema, fieldErrors, type CreateJobState } from "@/lib/jobs/request";
import { isTerminal, JOB_ID_PATTERN } from "@/lib/jobs/schema";
import { runningStep } from "@/lib/jobs/transition";
import { jobLog, log } from "@/lib/log";
import { availableModels } from "@/lib/models/registry";
import { getStore } from "@/lib/store";
import { StoreUnavailableError } from "@/lib/store/types";

const STORE_DOWN = "The job store is unreachable right now, so nothing was started. Try again in a moment.";

function formValues(formData: FormData): Record<string, string> {
  const values: Record<string, string> = {};
  for (const [key, value] of formData.entries()) {
    if (typeof value === "string" && !key.startsWith("$")) values[key] = value.slice(0, 4000);
  }
  return values;
}

/** Validates the form with the same schema the browser used, stores the job and starts it in the background. */
export async function createJob(_prev: CreateJobState, formData: FormData): Promise<CreateJobState> {
  const values = formValues(formData);
  const parsed = createJobSchema(availableModels(replicateConfigured())).safeParse(values);
  if (!parsed.success) return { status: "invalid", fieldErrors: fieldErrors(parsed.error), values };
  try {
    const ownerId = await ensureOwner();
    const job = newJob({ input: parsed.data, ownerId, llmEnhancer: replicateConfigured(), now: Date.now() });
    await getStore().create(job);
    jobLog(job.id).info({ model: job.model, style: job.style }, "job created");
    // The engine starts after the response: creating a job never waits for rendering.
    after(() => advance(job.id));
    return { status: "created", id: job.id };
  } catch (error) {
    if (error instanceof StoreUnavailableError) return { status: "failed", message: STORE_DOWN, values };
    log.error({ err: error instanceof Error ? error.message : String(error) }, "createJob failed");
    return { status: "failed", message: "Something went wrong on our side; the job was not started.", values };
  }
}

export type ActionResult = { ok: true } | { ok: false; message: string };

/** Cancels a running job: the job ends canceled at once, and the engine is asked to stop. Owner only. */
export async function cancelJob(id: string): Promise<ActionResult> {
  if (typeof id !== "string" || !JOB_ID_PATTERN.test(id)) return { ok: false, message: "That is not a valid job id." };
  try {
    const owner = await currentOwner();
    const store = getStore();
    const job = await store.get(id);
    if (!job) return { ok: false, message: "There is no such job." };
    if (!owner || owner !== job.ownerId) return { ok: false, message: "Only the person who made this video can cancel it." };
    if (isTerminal(job.status)) return { ok: false, message: "This job has already finished." };
    const result = await applyEvent(id, { type: "cancel" });
    if (!result?.changed || result.job.status !== "canceled") return { ok: false, message: "This job has already finished." };
    const step = runningStep(job);
    if (step?.ref && (step.engine === "local" || step.engine === "replicate")) {
      const ref = step.ref;
      const engineId = step.engine;
      after(async () => {
        try {
          await (await getEngine(engineId)).cancel(ref);
        } catch (error) {
          jobLog(id).warn({ err: error instanceof Error ? error.message : String(error) }, "upstream cancel failed");
        }
      });
    }
    jobLog(id).info("job canceled");
    return { ok: true };
  } catch (error) {
    if (error instanceof StoreUnavailableError) return { ok: false, message: STORE_DOWN.replace("nothing was started", "nothing changed") };
    throw error;
  }
}
