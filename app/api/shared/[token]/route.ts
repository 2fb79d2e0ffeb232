// GET /api/shared/[token] - a shared video as everyone sees it (its public fields only); 404 once sharing is off
import { AppError, errorResponse } from "@/lib/errors";
import { getSharedJob } from "@/lib/jobs/adapters/queries";

export const dynamic = "force-dynamic";

export async function GET(_req: Request, { params }: { params: Promise<{ token: string }> }) {
  try {
    const shared = await getSharedJob((await params).token);
    if (!shared) throw new AppError("not_found", "This video is not shared.");
    // Revalidated on every use: the owner may turn sharing off at any moment.
    return Response.json(shared, { headers: { "Cache-Control": "no-cache" } });
  } catch (error) {
    return errorResponse(error);
  }
}
