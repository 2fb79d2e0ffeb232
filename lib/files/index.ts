import "server-only";
import path from "node:path";
import { env } from "@/lib/env";
import { BlobVideoStore } from "@/lib/files/blob-video-store";
import { LocalVideoStore } from "@/lib/files/local-video-store";
import type { VideoStore } from "@/lib/files/types";

let store: { key: string; value: VideoStore } | null = null;
let local: LocalVideoStore | null = null;

/** Vercel Blob when BLOB_READ_WRITE_TOKEN is set, else files under DATA_DIR served by the app. */
export function getVideoStore(): VideoStore {
  const { BLOB_READ_WRITE_TOKEN: token, DATA_DIR: dir } = env();
  const key = token ? `blob:${token}` : `local:${dir}`;
  if (store?.key !== key) store = { key, value: token ? new BlobVideoStore(token) : localVideoStore() };
  return store.value;
}

/** The local files, for the route that serves them (also after a switch to Blob). */
export function localVideoStore(): LocalVideoStore {
  const dir = env().DATA_DIR;
  if (local?.root !== path.resolve(dir, "videos")) local = new LocalVideoStore(dir);
  return local;
}

/** MAX_VIDEO_MB in bytes. */
export function maxVideoBytes(): number {
  return env().MAX_VIDEO_MB * 1024 * 1024;
}
