// GET/HEAD /api/files/[jobId]/[file] - a video or poster of the local store, to the job's owner only (anyone
// else: 404, as for a file that does not exist), with Range support (?download=1: as an attachment named
// after the job's prompt); while a job's video is being saved, its video streamed from the engine's output
// under the same URL
import { errorResponse } from "@/lib/errors";
import { localVideoStore } from "@/lib/files";
import { playbackResponse } from "@/lib/jobs/adapters/playback";
import { fileNotFound, serveLocalFile } from "@/lib/files/serve-local-file";
import { FRAME_FILE_PREFIX, isValidFileName, isValidJobId, videoKey } from "@/lib/files/types";
import { loadVisibleJob } from "@/lib/jobs/adapters/access";

type Context = { params: Promise<{ jobId: string; file: string }> };

/**
 * A stored file never changes (a new render gets a new job id or file name), and only its owner's
 * browser may keep it: `private`, never in a shared cache. (A shared video is served through its
 * share token, at /api/shared/[token]/…, with a short public lifetime.)
 */
const CACHE_CONTROL = "private, max-age=31536000, immutable";

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
  // A job's frame images are served by /api/jobs/[id]/frames/[frame] only.
  // (Videos are named after the prompt, which may well begin with "frame".)
  if (file.startsWith(FRAME_FILE_PREFIX) && !file.endsWith(".mp4")) return fileNotFound();
  try {
    const job = await loadVisibleJob(jobId, request);
    if (!job) return fileNotFound();
    const key = videoKey(jobId, file);
    const response = (await localVideoStore().stat(key))
      ? await serveLocalFile(request, key, { withBody, cacheControl: CACHE_CONTROL, downloadName: job.prompt })
      : // Not (yet) in the local store: the video of a job being saved, or of one saved to Blob.
        ((file.endsWith(".mp4") ? await playbackResponse(job, file, request, withBody) : null) ?? fileNotFound());
    // The answer depends on who asks.
    response.headers.set("Vary", "Cookie");
    return response;
  } catch (error) {
    return errorResponse(error);
  }
}
