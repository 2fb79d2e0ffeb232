import { after } from "next/server";
import { statusResponse } from "@/lib/jobs/adapters/status-response";

export const dynamic = "force-dynamic";
// Work continues after the answer (starting the next step, copying the video): give it time on Vercel.
export const maxDuration = 300;

// GET /api/status/[id] - the public state of one job
export async function GET(req: Request, { params }: { params: Promise<{ id: string }> }) {
  return statusResponse(req, (await params).id, after);
}
