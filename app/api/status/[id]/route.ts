import { after } from "next/server";
import { AppError, errorResponse } from "@/lib/errors";
import { toPublicJob } from "@/lib/jobs/public";
import { needsReconcile, reconcile } from "@/lib/jobs/reconcile";
import { isTerminal, JOB_ID_PATTERN } from "@/lib/jobs/schema";
import { getStore } from "@/lib/store";

export const dynamic = "force-dynamic";

// GET /api/status/[id] - the public state of one job
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  try {
    const { id } = await params;
    if (!JOB_ID_PATTERN.test(id)) throw new AppError("bad_request", "That is not a valid job id.");
    const job = await getStore().get(id);
    if (!job) throw new AppError("not_found", "There is no job with that id. It may have been deleted.");
    if (needsReconcile(job, Date.now())) after(() => reconcile(id));

    const terminal = isTerminal(job.status);
    const etag = `"${id}.${job.seq}"`;
    const headers = {
      ETag: etag,
      // A finished job never changes again; a running one must never be served from a cache.
      "Cache-Control": terminal ? "private, max-age=31536000, immutable" : "no-store",
    };
    if (req.headers.get("if-none-match") === etag) return new Response(null, { status: 304, headers });
    return Response.json(toPublicJob(job), { headers });
  } catch (error) {
    return errorResponse(error);
  }
}
