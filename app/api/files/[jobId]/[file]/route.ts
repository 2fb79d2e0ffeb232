// GET/HEAD /api/files/[jobId]/[file] - a video or poster of the local store, with Range support
// (?download=1: as an attachment named after the job's prompt)
import { localVideoStore } from "@/lib/files";
import { attachmentDisposition } from "@/lib/files/download-name";
import { contentRange, parseRange } from "@/lib/files/range";
import { FRAME_FILE_PREFIX, isValidFileName, isValidJobId, videoKey } from "@/lib/files/types";
import { getStore } from "@/lib/store";

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
  if (file.startsWith(FRAME_FILE_PREFIX)) return Response.json({ error: "File not found." }, { status: 404 });
  const store = localVideoStore();
  const key = videoKey(jobId, file);
  const info = await store.stat(key);
  if (!info) return Response.json({ error: "File not found." }, { status: 404 });

  // We send no validators, so no If-Range can match: the whole file is the answer then.
  const rangeHeader = request.headers.has("if-range") ? null : request.headers.get("range");
  const range = parseRange(rangeHeader, info.size);
  const headers = new Headers({
    "Content-Type": info.contentType,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
  });
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${info.size}`);
    return new Response(null, { status: 416, headers });
  }

  const { start, end } = range.kind === "partial" ? range : { start: 0, end: info.size - 1 };
  const status = range.kind === "partial" ? 206 : 200;
  headers.set("Cache-Control", CACHE_CONTROL);
  if (file.endsWith(".mp4") && new URL(request.url).searchParams.get("download") === "1") {
    headers.set("Content-Disposition", attachmentDisposition(await promptOf(jobId)));
  }
  headers.set("Content-Length", String(Math.max(0, end - start + 1)));
  if (status === 206) headers.set("Content-Range", contentRange(start, end, info.size));
  if (!withBody || info.size === 0) return new Response(null, { status, headers });

  const opened = await store.open(key, { start, end });
  if (!opened) return Response.json({ error: "File not found." }, { status: 404 });
  return new Response(opened.stream, { status, headers });
}

/** The job's prompt for the file name; a store that cannot answer must not stop the download. */
async function promptOf(jobId: string): Promise<string> {
  try {
    return (await getStore().get(jobId))?.prompt ?? "";
  } catch {
    return "";
  }
}
