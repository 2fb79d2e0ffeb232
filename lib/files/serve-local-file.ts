import "server-only";
import { localVideoStore } from "@/lib/files";
import { attachmentDisposition } from "@/lib/files/download-name";
import { rangeResponse } from "@/lib/files/range-response";

/** The answer for a file that is not there, or not for this browser: the same either way. */
export function fileNotFound(): Response {
  return Response.json({ error: "File not found." }, { status: 404, headers: { "Cache-Control": "no-store" } });
}

export type ServeOptions = {
  withBody: boolean;
  /** Who may keep the answer, and for how long: the caller decides (private or shared file). */
  cacheControl: string;
  /** For `?download=1`: the prompt the saved file is named after. */
  downloadName?: string;
};

/** A file of the local video store (`key` validated by the caller), with HTTP Range (206/416). */
export async function serveLocalFile(request: Request, key: string, options: ServeOptions): Promise<Response> {
  const store = localVideoStore();
  const info = await store.stat(key);
  if (!info) return fileNotFound();
  const headers: Record<string, string> = { "Cache-Control": options.cacheControl };
  if (
    key.endsWith(".mp4") &&
    options.downloadName !== undefined &&
    new URL(request.url).searchParams.get("download") === "1"
  ) {
    headers["Content-Disposition"] = attachmentDisposition(options.downloadName);
  }
  return rangeResponse({
    request,
    size: info.size,
    contentType: info.contentType,
    withBody: options.withBody,
    headers,
    open: async (range) => (await store.open(key, range))?.stream ?? null,
  });
}
