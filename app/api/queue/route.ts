import { errorResponse } from "@/lib/errors";
import { DEFAULT_QUEUE_MODEL_SECONDS, queueStatus } from "@/lib/jobs/pipeline/queue-place";
import { findModel } from "@/lib/models/registry";

export const dynamic = "force-dynamic";

// GET /api/queue?model=<id> - the line as someone about to press Generate sees it: { waiting, running, maxRunning, waitSeconds }
export async function GET(req: Request) {
  try {
    const model = findModel(new URL(req.url).searchParams.get("model") ?? "");
    const status = await queueStatus(model?.typicalSeconds ?? DEFAULT_QUEUE_MODEL_SECONDS);
    return Response.json(status, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
