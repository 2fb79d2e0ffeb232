import "server-only";
import { env } from "@/lib/env";
import { InvalidVideoKeyError, VideoFileError, videoTooLarge, type StoredFile, type VideoStore } from "@/lib/files/types";

/**
 * Downloads a provider's output video, streamed and capped, from Replicate's file hosts only:
 * the URL comes from a webhook body, so it must not make this server fetch anything else.
 */

export type FetchVideoOptions = {
  /** Host names ("replicate.delivery"), wildcards ("*.replicate.delivery") or host:port. */
  allowedHosts?: readonly string[];
  maxBytes: number;
  signal?: AbortSignal;
  maxRedirects?: number;
};

export type ProviderVideo = {
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  contentLength: number | null;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Replicate's file hosts, plus the host of REPLICATE_BASE_URL (a local fake in tests). */
export function defaultVideoHosts(): string[] {
  const base = env().REPLICATE_BASE_URL;
  return ["replicate.delivery", "*.replicate.delivery", ...(base ? [new URL(base).host] : [])];
}

function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  return allowedHosts.some((entry) => {
    const h = entry.toLowerCase();
    if (h.startsWith("*.")) return hostname.endsWith(h.slice(1)) && hostname.length > h.length - 1;
    return h.includes(":") && !h.startsWith("[") ? url.host.toLowerCase() === h : hostname === h;
  });
}

/** The URL when it may be fetched: https on an allowed host, or http on an allowed loopback host. */
export function checkVideoUrl(raw: string | URL, allowedHosts: readonly string[] = defaultVideoHosts()): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new VideoFileError("The provider returned an invalid video URL.", "forbidden_url", true);
  }
  const schemeOk = url.protocol === "https:" || (url.protocol === "http:" && LOOPBACK.has(url.hostname));
  if (!schemeOk || url.username || url.password || !hostAllowed(url, allowedHosts)) {
    throw new VideoFileError(`Refusing to download a video from ${url.origin}.`, "forbidden_url", true);
  }
  return url;
}

function statusError(status: number): VideoFileError {
  if (status === 404 || status === 410) {
    return new VideoFileError(
      "The provider has already deleted this video (it keeps outputs for one hour).",
      "not_found",
      true,
    );
  }
  const transient = status === 408 || status === 429 || status >= 500;
  return new VideoFileError(`The provider answered HTTP ${status} for the video.`, "http", !transient);
}

function videoContentType(header: string | null, url: URL): string | null {
  const type = (header ?? "").split(";")[0]?.trim().toLowerCase() ?? "";
  if (/^video\/[a-z0-9.+-]+$/.test(type)) return type;
  const octet = type === "application/octet-stream" || type === "binary/octet-stream";
  return octet && url.pathname.toLowerCase().endsWith(".mp4") ? "video/mp4" : null;
}

function byteLimit(maxBytes: number): TransformStream<Uint8Array, Uint8Array> {
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      bytes += chunk.byteLength;
      // Throwing errors the stream and cancels the download.
      if (bytes > maxBytes) throw videoTooLarge(maxBytes);
      controller.enqueue(chunk);
    },
  });
}

export async function fetchProviderVideo(rawUrl: string, opts: FetchVideoOptions): Promise<ProviderVideo> {
  const hosts = opts.allowedHosts ?? defaultVideoHosts();
  let url = checkVideoUrl(rawUrl, hosts);
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      res = await fetch(url, { redirect: "manual", signal: opts.signal, cache: "no-store" });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new VideoFileError("The video could not be downloaded from the provider.", "network", false, { cause: err });
    }
    const location = res.status >= 300 && res.status < 400 ? res.headers.get("location") : null;
    if (location) {
      await res.body?.cancel();
      if (hop >= (opts.maxRedirects ?? 3)) throw new VideoFileError("Too many redirects for the video.", "http", true);
      // Every hop is checked again: a redirect must not lead off the allowed hosts.
      url = checkVideoUrl(new URL(location, url), hosts);
      continue;
    }
    if (!res.ok || !res.body) {
      await res.body?.cancel();
      throw statusError(res.status);
    }
    const contentType = videoContentType(res.headers.get("content-type"), url);
    if (!contentType) {
      await res.body.cancel();
      throw new VideoFileError(
        `The provider's output is not a video (${res.headers.get("content-type") ?? "no content type"}).`,
        "wrong_type",
        true,
      );
    }
    const header = res.headers.get("content-length");
    const contentLength = header && /^\d+$/.test(header) ? Number(header) : null;
    if (contentLength !== null && contentLength > opts.maxBytes) {
      await res.body.cancel();
      throw videoTooLarge(opts.maxBytes);
    }
    return { stream: res.body.pipeThrough(byteLimit(opts.maxBytes)), contentType, contentLength };
  }
}

export type CopyVideoOptions = FetchVideoOptions & {
  tries?: number;
  backoffMs?: number;
  sleep?: (ms: number) => Promise<void>;
};

/** Copies a provider video into the store, retrying transient failures (3 tries by default). */
export async function copyProviderVideo(
  url: string,
  store: VideoStore,
  key: string,
  opts: CopyVideoOptions,
): Promise<StoredFile> {
  const tries = opts.tries ?? 3;
  const sleep = opts.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  for (let attempt = 1; ; attempt++) {
    try {
      const video = await fetchProviderVideo(url, opts);
      return await store.put(key, video.stream, {
        contentType: video.contentType,
        maxBytes: opts.maxBytes,
        signal: opts.signal,
      });
    } catch (err) {
      if (err instanceof InvalidVideoKeyError || opts.signal?.aborted) throw err;
      const error = toVideoFileError(err);
      if (error.permanent || attempt >= tries) throw error;
      await sleep((opts.backoffMs ?? 1_000) * 2 ** (attempt - 1));
    }
  }
}

/** Anything that is not already classified (a cut connection, a full disk) is worth another try. */
export function toVideoFileError(err: unknown): VideoFileError {
  if (err instanceof VideoFileError) return err;
  return new VideoFileError("Copying the video failed.", "network", false, { cause: err });
}
