import { healthResponse } from "@/lib/ops/health";

export const dynamic = "force-dynamic";

// GET /api/health - 200 when the job store answers, 503 when it does not; reports the engines too
export function GET() {
  return healthResponse();
}
