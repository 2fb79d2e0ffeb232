import { errorResponse } from "@/lib/errors";
import { listOwnerJobs } from "@/lib/jobs/queries";

export const dynamic = "force-dynamic";

// GET /api/jobs?cursor=<cursor> - this browser's jobs, newest first, a page at a time
export async function GET(req: Request) {
  try {
    const cursor = new URL(req.url).searchParams.get("cursor");
    const page = await listOwnerJobs(cursor && cursor.length <= 200 ? cursor : null);
    return Response.json(page, { headers: { "Cache-Control": "private, no-store" } });
  } catch (error) {
    return errorResponse(error);
  }
}
