// GET/HEAD /api/files/[jobId]/[file] - a video or poster of the local store, with Range support
// (?download=1: as an attachment named after the job's prompt); while a job's video is being
// saved, its video streamed from the engine's output under the same URL
import { errorResponse } from "@/lib/errors";
import { localVideoStore } from "@/lib/files";
import { attachmentDisposition } from "@/lib/files/download-name";
import { playbackResponse } from "@/lib/files/playback";
import { rangeResponse } from "@/lib/files/range-response";
import { FRAME_FILE_PREFIX, isValidFileName, isValidJobId, videoKey } from "@/lib/files/types";
import { getStore } from "@/lib/store";
import type { Job } from "@/lib/jobs/schema";

type Context = { params: Promise<{ jobId: string; file: string }> };

// A stored file never changes: a new render gets a new job id or file name.
const CACHE_CONTROL = "public, max-age=31536000, immutable";

export async function GET(request: Request, context: Context): Promise<Response> {
  return serve(request, context, true);
}

export async function HEAD(request: Request, context: Context): Promise<Response> {
  return serve(request, context, false);
}

async function serve(request: Request, { params }: Context, withBody: boolean): Promise<Response> {
  const { jobId, file } = await params;
  if (!isValidJobId(jobId) || !isValidFileName(file)) {
    return Response.json({ error: "Malformed file name." }, { status: 400 });
  }
  // A job's frame images are its owner's: /api/jobs/[id]/frames/[frame] serves them after a check.
  // (Videos are named after the prompt, which may well begin with "frame".)
  if (file.startsWith(FRAME_FILE_PREFIX) && !file.endsWith(".mp4")) return notFound();
  const store = localVideoStore();
  const key = videoKey(jobId, file);
  const info = await store.stat(key);
  if (!info) {
    // Not (yet) in the local store: the video of a job being saved, or of one saved to Blob.
    if (!file.endsWith(".mp4")) return notFound();
    let job: Job | null;
    try {
      job = await getStore().get(jobId);
    } catch (error) {
      return errorResponse(error);
    }
    return (job && (await playbackResponse(job, file, request, withBody))) ?? notFound();
  }
  const headers: Record<string, string> = { "Cache-Control": CACHE_CONTROL };
  if (file.endsWith(".mp4") && new URL(request.url).searchParams.get("download") === "1") {
    headers["Content-Disposition"] = attachmentDisposition((await jobOf(jobId))?.prompt ?? "");
  }
  return rangeResponse({
    request,
    size: info.size,
    contentType: info.contentType,
    withBody,
    headers,
    open: async (range) => (await store.open(key, range))?.stream ?? null,
  });
}

const notFound = () => Response.json({ error: "File not found." }, { status: 404 });

/** The job, for its prompt; a store that cannot answer must not stop the download of a stored file. */
async function jobOf(jobId: string): Promise<Job | null> {
  try {
    return await getStore().get(jobId);
  } catch {
    return null;
  }
}
