import { eventStreamResponse } from "@/lib/jobs/adapters/event-stream";
import { withStreamSlot } from "@/lib/limits/stream-caps";

export const dynamic = "force-dynamic";
// The stream closes itself after 280 s (EventStreamOptions.maxLifetimeMs), before this limit; the browser reconnects.
export const maxDuration = 300;

// GET /api/events/[id] - a job's changes as server-sent events, until it ends
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  // Reconciliation nudged by the stream starts at once (not under `after`, which would wait for
  // the stream to end); the open stream keeps the function alive meanwhile.
  // Within the open-stream caps (lib/limits/stream-caps.ts); over them the page polls instead.
  const { id } = await params;
  return withStreamSlot(req, (release) => eventStreamResponse(req, id, { onClose: release }));
}
