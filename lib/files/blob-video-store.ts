import "server-only";
import { Readable } from "node:stream";
import { del, list, put } from "@vercel/blob";
import {
  isValidJobId,
  parseVideoKey,
  VideoFileError,
  videoTooLarge,
  type PutOptions,
  type StoredFile,
  type VideoBody,
  type VideoStore,
} from "@/lib/files/types";

/**
 * Vercel Blob: public files under `videos/<jobId>/`, with a random suffix so that a URL never
 * serves two contents. Not exercised by the test suite (it needs a real Blob store).
 */
export class BlobVideoStore implements VideoStore {
  readonly kind = "blob" as const;

  constructor(private readonly token: string) {}

  async put(key: string, body: VideoBody, { contentType, maxBytes, signal }: PutOptions): Promise<StoredFile> {
    parseVideoKey(key);
    let bytes = 0;
    let overflow: VideoFileError | null = null;
    const source =
      "getReader" in body ? body : (Readable.toWeb(Readable.from(body)) as unknown as ReadableStream<Uint8Array>);
    const limited = source.pipeThrough(
      new TransformStream<Uint8Array, Uint8Array>({
        transform(chunk, controller) {
          bytes += chunk.byteLength;
          if (bytes > maxBytes) throw (overflow = videoTooLarge(maxBytes));
          controller.enqueue(chunk);
        },
      }),
    );
    try {
      const blob = await put(`videos/${key}`, limited, {
        access: "public",
        addRandomSuffix: true,
        contentType,
        token: this.token,
        // Videos run to tens of MB: parts are uploaded (and retried) separately.
        multipart: true,
        abortSignal: signal,
      });
      return { url: blob.url, bytes };
    } catch (err) {
      throw overflow ?? err;
    }
  }

  async delete(jobId: string): Promise<void> {
    if (!isValidJobId(jobId)) throw new Error(`Invalid job id: ${jobId}`);
    let cursor: string | undefined;
    do {
      const page = await list({ prefix: `videos/${jobId}/`, cursor, token: this.token });
      if (page.blobs.length > 0) await del(page.blobs.map((b) => b.url), { token: this.token });
      cursor = page.hasMore ? page.cursor : undefined;
    } while (cursor);
  }
}
