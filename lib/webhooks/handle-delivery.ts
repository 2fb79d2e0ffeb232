import "server-only";
import type { Schedule } from "@/lib/core/schedule";
import { AppError, errorResponse } from "@/lib/errors";
import { readBodyCapped } from "@/lib/http/read-body";
import { proceed } from "@/lib/jobs/pipeline/dispatch";
import { predictionEvent, predictionSchema } from "@/lib/jobs/domain/prediction-event";
import { JOB_ID_PATTERN, stepNameSchema } from "@/lib/core/job";
import { cancelOrphan } from "@/lib/jobs/pipeline/orphans";
import { isOrphan } from "@/lib/jobs/domain/steps";
import { transition } from "@/lib/jobs/domain/transition";
import { jobLog } from "@/lib/log";
import { getStore } from "@/lib/store";
import { signatureHeaders, verifyWebhook } from "@/lib/webhooks/verify";
import { webhookSecrets } from "@/lib/webhooks/secrets";

/** A prediction object is a few KiB; logs of a long run can be more. Anything past this is not a delivery. */
const MAX_BODY_BYTES = 512 * 1024;
/**
 * Replicate retries a final delivery for about a minute with the same webhook-id, and a signature
 * is accepted for 5 minutes: a replay after that fails verification anyway. 15 minutes covers both
 * with room for clock skew, and keeps the embedded store's folder of marks small.
 */
const DEDUPE_SECONDS = 15 * 60;

/**
 * Verifies and applies one webhook delivery. Answers fast: follow-up work (starting the next
 * step, saving the video) is scheduled, not awaited.
 */
export async function handleDelivery(req: Request, schedule: Schedule): Promise<Response> {
  try {
    const raw = await readBodyCapped(req, MAX_BODY_BYTES);
    // Checked before the secrets are loaded: an unsigned request must not make us ask Replicate for one.
    if (!signatureHeaders(req.headers)) throw new AppError("unauthorized", "The delivery is not signed.");
    const signers = await webhookSecrets();
    const verified = verifyWebhook(
      raw,
      req.headers,
      signers.map((s) => s.secret),
    );
    if (!verified.ok) {
      if (verified.reason === "malformed") throw new AppError("bad_request", "The body is not JSON.");
      throw new AppError(
        "unauthorized",
        verified.reason === "unsigned"
          ? "The delivery is not signed."
          : "The signature does not match, or it is older than 5 minutes.",
      );
    }

    const params = new URL(req.url).searchParams;
    const jobId = params.get("job") ?? "";
    const step = stepNameSchema.safeParse(params.get("step"));
    const attemptText = params.get("attempt");
    const attempt = attemptText === null ? undefined : Number(attemptText);
    if (
      !JOB_ID_PATTERN.test(jobId) ||
      !step.success ||
      (attempt !== undefined && !(Number.isInteger(attempt) && attempt > 0))
    ) {
      throw new AppError("bad_request", "The webhook URL must name a job, a step and an attempt.");
    }
    const prediction = predictionSchema.safeParse(verified.payload);
    if (!prediction.success) throw new AppError("bad_request", "The body is not a prediction object.");

    const store = getStore();
    const dedupeKey = `webhook:${verified.webhookId}`;
    if (!(await store.setOnce(dedupeKey, DEDUPE_SECONDS))) {
      return Response.json({ ok: true, duplicate: true });
    }
    let result;
    try {
      result = await store.update(jobId, (job) =>
        transition(job, predictionEvent(job, step.data, prediction.data, attempt), Date.now()),
      );
    } catch (error) {
      // Not applied: let the sender's retry try again.
      await store.forget(dedupeKey).catch(() => undefined);
      throw error;
    }
    const { id: ref, status } = prediction.data;
    const live = status === "starting" || status === "processing";
    if (
      live &&
      signers[verified.signer]?.engine === "replicate" &&
      !result?.changed &&
      isOrphan(result?.job ?? null, step.data, ref, attempt)
    ) {
      // A paid run that no step waits for (an attempt presumed lost, a canceled or deleted job): stop it.
      schedule(() => cancelOrphan(jobId, "replicate", ref));
    }
    if (!result) {
      // An answer other than 2xx makes Replicate retry; a deleted job will never accept it.
      return Response.json({ ok: true, applied: false, reason: "unknown job" });
    }
    if (result.changed) {
      jobLog(jobId).info({ step: step.data, status: prediction.data.status, seq: result.job.seq }, "webhook applied");
      schedule(() => proceed(jobId));
    }
    return Response.json({ ok: true, applied: result.changed });
  } catch (error) {
    return errorResponse(error);
  }
}
