import { cancelJob } from "@/lib/jobs/adapters/actions";
import { ownerActionResponse } from "@/lib/jobs/adapters/owner-action-response";

export const dynamic = "force-dynamic";
// The engine is asked to stop after the answer: give it time on Vercel.
export const maxDuration = 60;

// POST /api/jobs/[id]/cancel - cancel a running job of this browser; 204, or 409 when it already finished
export async function POST(req: Request, { params }: { params: Promise<{ id: string }> }) {
  const { id } = await params;
  return ownerActionResponse(req, () => cancelJob(id));
}
