import { healthResponse } from "@/lib/ops/health";

export const dynamic = "force-dynamic";

// GET /api/health - 503 when this instance cannot work (store unreachable, no ffmpeg), else 200; Replicate readiness too
export function GET() {
  return healthResponse();
}
