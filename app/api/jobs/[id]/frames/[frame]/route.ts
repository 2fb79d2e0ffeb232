// GET /api/jobs/[id]/frames/[frame] - a job's first or last frame image, for its owner only
import { localVideoStore } from "@/lib/files";
import { videoKey } from "@/lib/files/types";
import { AppError, errorResponse } from "@/lib/errors";
import { loadVisibleJob, NO_SUCH_JOB } from "@/lib/jobs/adapters/access";
import { JOB_ID_PATTERN } from "@/lib/core/job";
import { FRAMES, type Frame } from "@/lib/core/frame-image";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ id: string; frame: string }> };

export async function GET(req: Request, { params }: Context): Promise<Response> {
  try {
    const { id, frame } = await params;
    if (!JOB_ID_PATTERN.test(id) || !(FRAMES as readonly string[]).includes(frame))
      throw new AppError("bad_request", "Malformed job id or frame.");
    // Someone else's job is answered as no job at all (lib/jobs/adapters/access.ts).
    const job = await loadVisibleJob(id, req);
    if (!job) throw new AppError("not_found", NO_SUCH_JOB);
    const image = job.images?.[frame as Frame];
    if (!image) throw new AppError("not_found", "This job has no such image.");
    const headers = {
      "Content-Type": image.contentType,
      // The owner's browser may keep it; nothing shared may.
      "Cache-Control": "private, max-age=3600",
      "X-Content-Type-Options": "nosniff",
    };
    // Blob keeps it at an unguessable public URL: the owner is sent there (Vercel caps function bodies at 4.5 MB).
    if (!image.url.startsWith("/"))
      return new Response(null, {
        status: 302,
        headers: { Location: image.url, "Cache-Control": "private, no-store" },
      });
    const opened = await localVideoStore().open(videoKey(job.id, image.file));
    if (!opened) throw new AppError("not_found", "This image is missing from storage.");
    return new Response(opened.stream, { headers: { ...headers, "Content-Length": String(opened.size) } });
  } catch (error) {
    return errorResponse(error);
  }
}
