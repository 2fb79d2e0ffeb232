// GET/HEAD /api/shared/[token]/[file] - the video (video.mp4) or poster (poster.jpg) of a shared video, through
// its share token only, with Range support (?download=1: named after the prompt). 404 once sharing is off.
import { errorResponse } from "@/lib/errors";
import { localKeyOf, SHARED_FILE_NAMES, type SharedFileName } from "@/lib/files/local-video-store";
import { fileNotFound, serveLocalFile } from "@/lib/files/serve-local-file";
import { SHARED_FILE_MAX_AGE } from "@/lib/files/types";
import { SHARE_TOKEN_PATTERN } from "@/lib/core/job";
import { getStore } from "@/lib/store";

export const dynamic = "force-dynamic";

type Context = { params: Promise<{ token: string; file: string }> };

/**
 * Any cache may keep a shared file, but briefly: an unshare reaches whoever already had the URL
 * within this many seconds. (On Vercel Blob the share has copies of its own with the same lifetime.)
 */
const CACHE_CONTROL = `public, max-age=${SHARED_FILE_MAX_AGE}, s-maxage=${SHARED_FILE_MAX_AGE}`;

export async function GET(request: Request, context: Context): Promise<Response> {
  return serve(request, context, true);
}

export async function HEAD(request: Request, context: Context): Promise<Response> {
  return serve(request, context, false);
}

async function serve(request: Request, { params }: Context, withBody: boolean): Promise<Response> {
  const { token, file } = await params;
  if (!SHARE_TOKEN_PATTERN.test(token) || !(SHARED_FILE_NAMES as readonly string[]).includes(file))
    return fileNotFound();
  try {
    const job = await getStore().findShared(token);
    if (!job || job.status !== "succeeded") return fileNotFound();
    const key = localKeyOf((file as SharedFileName) === "video.mp4" ? job.videoUrl : job.posterUrl);
    if (!key) return fileNotFound();
    return await serveLocalFile(request, key, { withBody, cacheControl: CACHE_CONTROL, downloadName: job.prompt });
  } catch (error) {
    return errorResponse(error);
  }
}
