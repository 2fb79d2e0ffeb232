import "server-only";
import { AppError, errorResponse } from "@/lib/errors";
import { toPublicJob } from "@/lib/jobs/public";
import { needsReconcile, reconcile } from "@/lib/jobs/reconcile";
import { isTerminal, JOB_ID_PATTERN } from "@/lib/jobs/schema";
import { getStore } from "@/lib/store";
import type { Schedule } from "@/lib/webhooks/handle-delivery";

/**
 * A job's public state as JSON: one store read, an ETag from the sequence number (304 when the
 * browser has it), and a nudge to reconcile when the job has been quiet too long.
 */
export async function statusResponse(req: Request, id: string, schedule: Schedule): Promise<Response> {
  try {
    if (!JOB_ID_PATTERN.test(id)) throw new AppError("bad_request", "That is not a valid job id.");
    const job = await getStore().get(id);
    if (!job) throw new AppError("not_found", "There is no job with that id. It may have been deleted.");
    if (needsReconcile(job, Date.now())) schedule(() => reconcile(id));

    const etag = `"${id}.${job.seq}"`;
    const headers = {
      ETag: etag,
      // A finished job never changes again; a running one must never be served from a cache.
      "Cache-Control": isTerminal(job.status) ? "private, max-age=31536000, immutable" : "no-store",
    };
    if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return Response.json(toPublicJob(job), { headers });
  } catch (error) {
    return errorResponse(error);
  }
}
