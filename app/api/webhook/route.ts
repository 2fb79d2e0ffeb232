import { after } from "next/server";
import { handleDelivery } from "@/lib/webhooks/handle-delivery";

export const dynamic = "force-dynamic";
// Work continues after the answer (starting the next step, copying the video): give it time on Vercel.
export const maxDuration = 300;

// POST /api/webhook?job=<id>&step=<step>&attempt=<n> - a signed prediction update from Replicate or the local engine
export function POST(req: Request) {
  return handleDelivery(req, after);
}
