import "server-only";
import { AppError, errorResponse } from "@/lib/errors";
import { crossSite } from "@/lib/http/cross-site";
import type { ActionResult } from "@/lib/jobs/adapters/actions";

/**
 * An owner's action on one job (cancel, delete) as an API answer: 204 when done, else the
 * refusal's status (400 malformed id, 404 no such job or not this browser's, 409 already
 * finished, 503 store down; 403 only for a cross-site request) with the sentence the job page
 * would show.
 */
export async function ownerActionResponse(req: Request, act: () => Promise<ActionResult>): Promise<Response> {
  try {
    if (crossSite(req)) throw new AppError("forbidden", "Jobs cannot be changed from another site.");
    const result = await act();
    if (!result.ok) throw new AppError(result.code, result.message);
    return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
