import "server-only";
import { randomUUID } from "node:crypto";
import { createWriteStream } from "node:fs";
import { mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import { Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { ReadableStream as NodeWebReadableStream } from "node:stream/web";
import {
  contentTypeOf,
  parseVideoKey,
  videoKey,
  videoTooLarge,
  type ByteRange,
  type LocalFiles,
  type OpenedFile,
  type PutOptions,
  type ShareFiles,
  type StoredFile,
  type VideoBody,
} from "@/lib/files/types";
import { syncDir } from "@/lib/store/durable-file";

/** Files under `<dataDir>/videos/<jobId>/<file>`, served by the app at `/api/files/<jobId>/<file>`. */
export class LocalVideoStore implements LocalFiles {
  readonly kind = "local" as const;
  readonly root: string;

  constructor(dataDir: string) {
    this.root = path.resolve(dataDir, "videos");
  }

  /** Keys are validated, so the result always lies inside the root. */
  pathOf(key: string): string {
    const { jobId, file } = parseVideoKey(key);
    return path.join(this.root, jobId, file);
  }

  async put(key: string, body: VideoBody, { maxBytes, signal }: PutOptions): Promise<StoredFile> {
    const { jobId, file } = parseVideoKey(key);
    const dir = path.join(this.root, jobId);
    await mkdir(dir, { recursive: true });
    // Written beside the target and renamed, so a reader never sees half a file.
    const tmp = path.join(dir, `.${file}.${randomUUID()}.part`);
    let bytes = 0;
    const limit = new Transform({
      transform(chunk: Buffer, _encoding, done) {
        bytes += chunk.length;
        if (bytes > maxBytes) done(videoTooLarge(maxBytes));
        else done(null, chunk);
      },
    });
    const source = isWebStream(body) ? Readable.fromWeb(body as NodeWebReadableStream<Uint8Array>) : body;
    try {
      const sink = createWriteStream(tmp, { flags: "wx" });
      await (signal ? pipeline(source, limit, sink, { signal }) : pipeline(source, limit, sink));
      // On the disk before the job is marked succeeded: a power cut must not leave a torn video.
      const written = await open(tmp, "r+");
      try {
        await written.sync();
      } finally {
        await written.close();
      }
      await rename(tmp, path.join(dir, file));
      await syncDir(dir);
    } catch (err) {
      await rm(tmp, { force: true });
      throw err;
    }
    return { url: `/api/files/${jobId}/${file}`, bytes };
  }

  async stat(key: string): Promise<{ size: number; contentType: string } | null> {
    const info = await stat(this.pathOf(key)).catch(() => null);
    return info?.isFile() ? { size: info.size, contentType: contentTypeOf(key) } : null;
  }

  async open(key: string, range?: ByteRange): Promise<OpenedFile | null> {
    const handle = await open(this.pathOf(key), "r").catch((err: NodeJS.ErrnoException) => {
      if (err.code === "ENOENT" || err.code === "EISDIR") return null;
      throw err;
    });
    if (!handle) return null;
    const info = await handle.stat();
    if (!info.isFile()) {
      await handle.close();
      return null;
    }
    const nodeStream = handle.createReadStream(range ? { start: range.start, end: range.end } : {});
    return {
      stream: Readable.toWeb(nodeStream) as unknown as ReadableStream<Uint8Array>,
      contentType: contentTypeOf(key),
      size: info.size,
    };
  }

  async delete(jobId: string): Promise<void> {
    // videoKey validates the id; a throwaway file name keeps the check in one place.
    videoKey(jobId, "x.mp4");
    await rm(path.join(this.root, jobId), { recursive: true, force: true });
  }

  /** Nothing is copied: /api/shared/<token>/… serves the job's own files while the token is its share. */
  async share(job: { posterUrl: string | null }, token: string): Promise<ShareFiles> {
    return {
      videoUrl: sharedFileUrl(token, "video.mp4"),
      posterUrl: job.posterUrl ? sharedFileUrl(token, "poster.jpg") : null,
    };
  }

  async unshare(): Promise<void> {}
}

/** The public names of a share's files, served by /api/shared/[token]/[file]. */
export const SHARED_FILE_NAMES = ["video.mp4", "poster.jpg"] as const;
export type SharedFileName = (typeof SHARED_FILE_NAMES)[number];

export function sharedFileUrl(token: string, file: SharedFileName): string {
  return `/api/shared/${token}/${file}`;
}

/** The local store key behind one of a job's file URLs (`/api/files/<jobId>/<file>`), or null. */
export function localKeyOf(url: string | null): string | null {
  const match = url ? /^\/api\/files\/([^/?#]+)\/([^/?#]+)$/.exec(url) : null;
  if (!match) return null;
  try {
    return videoKey(match[1]!, match[2]!);
  } catch {
    return null;
  }
}

function isWebStream(body: VideoBody): body is ReadableStream<Uint8Array> {
  return typeof (body as ReadableStream<Uint8Array>).getReader === "function";
}
