import "server-only";
import { open, stat } from "node:fs/promises";
import { Readable } from "node:stream";
import { resolveLocalOutput } from "@/lib/engines/local/render-files";
import { env } from "@/lib/env";
import { maxVideoBytes } from "@/lib/files";
import { fetchProviderVideo } from "@/lib/files/fetch-video";
import { rangeResponse } from "@/lib/files/range-response";
import { VideoFileError } from "@/lib/files/types";
import type { Job } from "@/lib/core/job";
import { finalSource, videoFileName } from "@/lib/jobs/domain/video-source";

/**
 * The job's video under its playback URL when our copy is not in the local store: while the
 * copy is being made, streamed from the engine's output (the provider's file, with the player's
 * Range sent on, or the local render); after it was saved to Blob, streamed from there. The
 * bytes are the same in each case, so a player that started on one source goes on with the next.
 * The provider's URL never reaches the browser. null: there is no such video (404).
 */
export async function playbackResponse(
  job: Job,
  file: string,
  request: Request,
  withBody: boolean,
): Promise<Response | null> {
  if (file !== videoFileName(job.prompt)) return null;
  if (job.status === "succeeded") {
    // Saved to Blob: our lasting copy, on the store's own host.
    if (!job.videoUrl || job.videoUrl.startsWith("/")) return null;
    return remote(job.videoUrl, [new URL(job.videoUrl).host], request, withBody);
  }
  const source = finalSource(job);
  if (!source) return null;
  if (source.startsWith("local:")) return localRender(source, request, withBody);
  return remote(source, undefined, request, withBody);
}

// Until our copy exists the bytes may still change (the silent video is kept when the one with
// sound cannot be saved): nothing of this answer is cached.
const NOT_CACHED = "no-store";

async function localRender(source: string, request: Request, withBody: boolean): Promise<Response | null> {
  const file = resolveLocalOutput(env().DATA_DIR, source);
  const info = file ? await stat(file).catch(() => null) : null;
  if (!file || !info?.isFile()) return null;
  return rangeResponse({
    request,
    size: info.size,
    contentType: "video/mp4",
    withBody,
    headers: { "Cache-Control": NOT_CACHED },
    open: async ({ start, end }) => {
      const handle = await open(file, "r").catch(() => null);
      if (!handle) return null;
      return Readable.toWeb(handle.createReadStream({ start, end })) as unknown as ReadableStream<Uint8Array>;
    },
  });
}

async function remote(
  url: string,
  allowedHosts: string[] | undefined,
  request: Request,
  withBody: boolean,
): Promise<Response | null> {
  const range = request.headers.has("if-range") ? null : request.headers.get("range");
  let video;
  try {
    video = await fetchProviderVideo(url, { allowedHosts, maxBytes: maxVideoBytes(), range, signal: request.signal });
  } catch (error) {
    if (!(error instanceof VideoFileError)) throw error;
    if (error.reason === "not_found") return null;
    if (error.reason === "unsatisfiable")
      return new Response(null, { status: 416, headers: { "Accept-Ranges": "bytes" } });
    return Response.json(
      { error: "The video cannot be streamed right now; try again in a moment." },
      { status: 502, headers: { "Retry-After": "2" } },
    );
  }
  const headers = new Headers({
    "Content-Type": video.contentType,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
    "Cache-Control": NOT_CACHED,
  });
  if (video.contentLength !== null) headers.set("Content-Length", String(video.contentLength));
  if (video.contentRange) headers.set("Content-Range", video.contentRange);
  if (!withBody) {
    await video.stream.cancel().catch(() => undefined);
    return new Response(null, { status: video.status, headers });
  }
  return new Response(video.stream, { status: video.status, headers });
}
