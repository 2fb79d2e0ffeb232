import "server-only";
import { Readable } from "node:stream";
import { copy, del, list, put } from "@vercel/blob";
import { asciiSlug } from "@/lib/files/download-name";
import {
  isValidJobId,
  parseVideoKey,
  SHARED_FILE_MAX_AGE,
  VideoFileError,
  videoTooLarge,
  type PutOptions,
  type ShareFiles,
  type ShareSource,
  type StoredFile,
  type VideoBody,
  type VideoStore,
} from "@/lib/files/types";
import { SHARE_TOKEN_PATTERN } from "@/lib/core/job";

/**
 * How long Blob's CDN (and browsers) may keep a job's own files: only its owner is ever given
 * their URLs, and a deleted job's files should not outlive it by long.
 */
const PRIVATE_FILE_MAX_AGE = 60 * 60;

/**
 * Vercel Blob (a public store: anyone with a file's URL can read it, so URLs are the lock).
 * A job's own files live under `videos/<jobId>/` with a random suffix, and their URLs are given
 * to its owner only. A share gets copies under `shares/<token>/`, again with a random suffix, that
 * any cache may keep for SHARED_FILE_MAX_AGE seconds; unsharing or deleting removes them. Tested
 * against a loopback Blob API (test/support/fake-blob.ts) through the real client.
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
        cacheControlMaxAge: PRIVATE_FILE_MAX_AGE,
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
    await this.deleteUnder(`videos/${jobId}/`);
  }

  async share(job: ShareSource, token: string): Promise<ShareFiles> {
    const dir = sharePrefix(token);
    const options = {
      access: "public" as const,
      addRandomSuffix: true,
      cacheControlMaxAge: SHARED_FILE_MAX_AGE,
      token: this.token,
    };
    try {
      const video = await copy(job.videoUrl, `${dir}${asciiSlug(job.prompt, 48)}.mp4`, {
        ...options,
        contentType: "video/mp4",
      });
      const poster = job.posterUrl
        ? await copy(job.posterUrl, `${dir}poster.jpg`, { ...options, contentType: "image/jpeg" })
        : null;
      return { videoUrl: video.url, posterUrl: poster?.url ?? null };
    } catch (error) {
      // Half a share is no share: what was copied goes.
      await this.unshare(token).catch(() => undefined);
      throw error;
    }
  }

  async unshare(token: string): Promise<void> {
    await this.deleteUnder(sharePrefix(token));
  }

  private async deleteUnder(prefix: string): Promise<void> {
    let cursor: string | undefined;
    do {
      const page = await list({ prefix, cursor, token: this.token });
      if (page.blobs.length > 0)
        await del(
          page.blobs.map((b) => b.url),
          { token: this.token },
        );
      cursor = page.hasMore ? page.cursor : undefined;
    } while (cursor);
  }
}

function sharePrefix(token: string): string {
  if (!SHARE_TOKEN_PATTERN.test(token)) throw new Error("Invalid share token");
  return `shares/${token}/`;
}
