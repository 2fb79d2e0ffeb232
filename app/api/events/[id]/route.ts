import { after } from "next/server";
import { eventStreamResponse } from "@/lib/jobs/event-stream";

export const dynamic = "force-dynamic";
// The stream closes itself after 280 s (EventStreamOptions.maxLifetimeMs), before this limit; the browser reconnects.
export const maxDuration = 300;

// GET /api/events/[id] - a job's changes as server-sent events, until it ends
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  // Reconciliation nudged by the stream runs under `after`, so a platform keeps it alive if the
  // stream closes first; should `after` refuse (outside the request's scope), it just runs.
  const schedule = (task: () => Promise<unknown>) => {
    try {
      after(task);
    } catch {
      void task().catch(() => undefined);
    }
  };
  return eventStreamResponse(req, (await params).id, { schedule });
}
