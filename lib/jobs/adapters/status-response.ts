import "server-only";
import { AppError, errorResponse } from "@/lib/errors";
import { loadVisibleJob, NO_SUCH_JOB, type WithHeaders } from "@/lib/jobs/adapters/access";
import { toPublicJob } from "@/lib/jobs/domain/public";
import { queuePlace } from "@/lib/jobs/pipeline/queue-place";
import { needsReconcile, reconcile } from "@/lib/jobs/pipeline/reconcile";
import { isTerminal, JOB_ID_PATTERN, type Job } from "@/lib/core/job";
import type { Schedule } from "@/lib/core/schedule";

/**
 * A finished job's state stays in the browser's cache for as long as the browser keeps it, but
 * is checked on every use: `no-cache` means "revalidate first", answered with a bodyless 304 for
 * one store read while the ETag (the job's seq) still matches. It cannot be `immutable`: a
 * finished job still changes (its owner shares or unshares it, which bumps the seq) and goes
 * away (deleted by its owner, or by retention), and a fresh-for-a-year copy would go on showing
 * the old state, or a deleted video, with no request to say otherwise. `private`: a job is its
 * owner's alone, never for shared caches (and the answer depends on the cookie: `Vary: Cookie`).
 * A running job changes every few seconds: never stored.
 */
function cacheControl(status: Job["status"]): string {
  return isTerminal(status) ? "private, no-cache" : "no-store";
}

/**
 * A job's state as JSON for its owner (anyone else: 404, as for a job that does not exist): one
 * store read (and one of the line while it waits), an ETag from the sequence number and place in
 * line (304 when the browser has it), and a nudge to reconcile when the job has been quiet too long.
 */
export async function statusResponse(req: WithHeaders, id: string, schedule: Schedule): Promise<Response> {
  try {
    if (!JOB_ID_PATTERN.test(id)) throw new AppError("bad_request", "That is not a valid job id.");
    const job = await loadVisibleJob(id, req);
    if (!job) throw new AppError("not_found", NO_SUCH_JOB);
    if (needsReconcile(job, Date.now())) schedule(() => reconcile(id));

    // A waiting job's place changes without a change to its record: it is part of the version.
    const place = await queuePlace(job);
    const etag =
      place.queuePosition === null
        ? `"${id}.${job.seq}"`
        : `"${id}.${job.seq}.q${place.queuePosition}.${place.queueWaitSeconds ?? ""}"`;
    const headers = { ETag: etag, "Cache-Control": cacheControl(job.status), Vary: "Cookie" };
    if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return Response.json(toPublicJob(job, Date.now(), place), { headers });
  } catch (error) {
    return errorResponse(error);
  }
}
