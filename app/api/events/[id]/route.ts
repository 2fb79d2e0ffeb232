import { eventStreamResponse } from "@/lib/jobs/event-stream";

export const dynamic = "force-dynamic";
// The stream closes itself after 280 s (EventStreamOptions.maxLifetimeMs), before this limit; the browser reconnects.
export const maxDuration = 300;

// GET /api/events/[id] - a job's changes as server-sent events, until it ends
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return eventStreamResponse(req, (await params).id);
}
