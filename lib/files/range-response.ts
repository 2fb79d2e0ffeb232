import { contentRange, parseRange } from "@/lib/files/range";
import type { ByteRange } from "@/lib/files/types";

/**
 * The answer to a GET or HEAD of a file whose size is known, honouring a single byte range:
 * 200 with the whole file, 206 with the range, 416 when the range starts past the end. Used for
 * our stored files and for a local render streamed before its copy exists.
 */
export async function rangeResponse(opts: {
  request: Request;
  size: number;
  contentType: string;
  withBody: boolean;
  /** Extra headers of a 200 or 206 (caching, disposition). */
  headers?: Record<string, string>;
  /** The bytes of `range` (inclusive); null when the file is gone meanwhile. */
  open: (range: ByteRange) => Promise<ReadableStream<Uint8Array> | null>;
}): Promise<Response> {
  const { request, size } = opts;
  // We send no validators, so no If-Range can match: the whole file is the answer then.
  const rangeHeader = request.headers.has("if-range") ? null : request.headers.get("range");
  const range = parseRange(rangeHeader, size);
  const headers = new Headers({
    "Content-Type": opts.contentType,
    "Accept-Ranges": "bytes",
    "X-Content-Type-Options": "nosniff",
  });
  if (range.kind === "unsatisfiable") {
    headers.set("Content-Range", `bytes */${size}`);
    return new Response(null, { status: 416, headers });
  }
  const { start, end } = range.kind === "partial" ? range : { start: 0, end: size - 1 };
  const status = range.kind === "partial" ? 206 : 200;
  for (const [name, value] of Object.entries(opts.headers ?? {})) headers.set(name, value);
  headers.set("Content-Length", String(Math.max(0, end - start + 1)));
  if (status === 206) headers.set("Content-Range", contentRange(start, end, size));
  if (!opts.withBody || size === 0) return new Response(null, { status, headers });
  const stream = await opts.open({ start, end });
  if (!stream) return Response.json({ error: "File not found." }, { status: 404 });
  return new Response(stream, { status, headers });
}
