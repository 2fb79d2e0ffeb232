import { after } from "next/server";
import { errorResponse } from "@/lib/errors";
import { createJobResponse } from "@/lib/jobs/adapters/create-response";
import { listOwnerJobs } from "@/lib/jobs/adapters/queries";

export const dynamic = "force-dynamic";
// Starting the first step continues after the answer: give it time on Vercel.
export const maxDuration = 300;

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

// POST /api/jobs - start a job from the Generate form's fields (JSON or form data); 201 { id, url, job }
export async function POST(req: Request) {
  return createJobResponse(req, after);
}
