import "server-only";
import { timingSafeEqual } from "node:crypto";
import { env } from "@/lib/env";
import { AppError, errorResponse } from "@/lib/errors";
import { sweep } from "@/lib/jobs/pipeline/sweep";

/**
 * Vercel Cron calls the sweep route with `Authorization: Bearer <CRON_SECRET>` when the project
 * has CRON_SECRET set. Anyone else gets 401, and so does everyone while CRON_SECRET is unset:
 * an open route would let strangers make this deployment ask Replicate about every job.
 */
function authorized(header: string | null, secret: string | undefined): boolean {
  if (!secret || !header) return false;
  const given = Buffer.from(header);
  const expected = Buffer.from(`Bearer ${secret}`);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

export async function cronSweepResponse(req: Request): Promise<Response> {
  try {
    const secret = env().CRON_SECRET;
    if (!authorized(req.headers.get("authorization"), secret)) {
      throw new AppError(
        "unauthorized",
        secret ? "Missing or wrong cron secret." : "CRON_SECRET is not set on this deployment.",
      );
    }
    const result = await sweep();
    return Response.json(result, { headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
