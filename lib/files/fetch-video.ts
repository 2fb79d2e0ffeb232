import "server-only";
import { env } from "@/lib/env";
import {
  InvalidVideoKeyError,
  VideoFileError,
  videoTooLarge,
  type StoredFile,
  type VideoStore,
} from "@/lib/files/types";

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
  /** The download is abandoned when no byte (or no answer) arrives for this long; default 30 s. */
  idleTimeoutMs?: number;
  /** A Range header to send on (a player's request streamed through): the answer may be 206. */
  range?: string | null;
};

export const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export type ProviderVideo = {
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  /** Bytes in this answer (the range's, for a 206). */
  contentLength: number | null;
  status: 200 | 206;
  /** The provider's Content-Range of a 206. */
  contentRange: string | null;
};

const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

/** Replicate's file hosts, plus the host of REPLICATE_BASE_URL (a local fake in tests). */
export function defaultVideoHosts(): string[] {
  const base = env().REPLICATE_BASE_URL;
  return ["replicate.delivery", "*.replicate.delivery", ...(base ? [new URL(base).host] : [])];
}

/**
 * An entry is a wildcard ("*.replicate.delivery"), a host name or IP ("[::1]" for IPv6, as
 * URL.host writes it), or either with a port, which must then match too.
 */
function hostAllowed(url: URL, allowedHosts: readonly string[]): boolean {
  const hostname = url.hostname.toLowerCase();
  return allowedHosts.some((entry) => {
    const h = entry.toLowerCase();
    if (h.startsWith("*.")) return hostname.endsWith(h.slice(1)) && hostname.length > h.length - 1;
    let parsed: URL;
    try {
      // Parsed with the URL's own scheme, so that a default port written out ("host:443") compares equal.
      parsed = new URL(`${url.protocol}//${h}`);
    } catch {
      return false;
    }
    if (parsed.hostname !== hostname) return false;
    return !/:\d+$/.test(h) || parsed.port === url.port;
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
  if (status === 416) return new VideoFileError("The requested range is outside the video.", "unsatisfiable", true);
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

function byteLimit(maxBytes: number, onChunk: () => void, onEnd: () => void): TransformStream<Uint8Array, Uint8Array> {
  let bytes = 0;
  return new TransformStream({
    transform(chunk, controller) {
      onChunk();
      bytes += chunk.byteLength;
      // Throwing errors the stream and cancels the download.
      if (bytes > maxBytes) {
        onEnd();
        throw videoTooLarge(maxBytes);
      }
      controller.enqueue(chunk);
    },
    flush: onEnd,
  });
}

/**
 * Aborts the download when nothing arrives for `ms`: a stalled copy must end (and be retried)
 * instead of holding the save step. The caller's own signal aborts it too.
 */
function idleWatch(ms: number, outer: AbortSignal | undefined) {
  const controller = new AbortController();
  const forward = () => controller.abort(outer?.reason);
  if (outer?.aborted) forward();
  outer?.addEventListener("abort", forward, { once: true });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const stop = () => {
    clearTimeout(timer);
    outer?.removeEventListener("abort", forward);
  };
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stop();
      controller.abort(
        new VideoFileError(
          `The provider stopped sending the video (nothing for ${Math.round(ms / 1000)} s).`,
          "network",
          false,
        ),
      );
    }, ms);
    timer.unref?.();
  };
  touch();
  return { signal: controller.signal, touch, stop };
}

export async function fetchProviderVideo(rawUrl: string, opts: FetchVideoOptions): Promise<ProviderVideo> {
  const hosts = opts.allowedHosts ?? defaultVideoHosts();
  const url = checkVideoUrl(rawUrl, hosts);
  const watch = idleWatch(opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS, opts.signal);
  try {
    const video = await openVideo(url, hosts, opts, watch.signal);
    watch.touch();
    return { ...video, stream: video.stream.pipeThrough(byteLimit(opts.maxBytes, watch.touch, watch.stop)) };
  } catch (err) {
    watch.stop();
    if (!opts.signal?.aborted && watch.signal.reason instanceof VideoFileError) throw watch.signal.reason;
    throw err;
  }
}

async function openVideo(
  start: URL,
  hosts: readonly string[],
  opts: FetchVideoOptions,
  signal: AbortSignal,
): Promise<ProviderVideo> {
  let url = start;
  for (let hop = 0; ; hop++) {
    let res: Response;
    try {
      const headers = opts.range ? { range: opts.range } : undefined;
      res = await fetch(url, { redirect: "manual", signal, cache: "no-store", headers });
    } catch (err) {
      if (opts.signal?.aborted) throw err;
      throw new VideoFileError("The video could not be downloaded from the provider.", "network", false, {
        cause: err,
      });
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
    const partial = res.status === 206 && Boolean(opts.range);
    const contentRange = partial ? res.headers.get("content-range") : null;
    // A 206 names the whole file's size after the slash.
    const total = partial ? Number(/\/(\d+)\s*$/.exec(contentRange ?? "")?.[1] ?? NaN) : contentLength;
    if ((total !== null && total > opts.maxBytes) || (contentLength !== null && contentLength > opts.maxBytes)) {
      await res.body.cancel();
      throw videoTooLarge(opts.maxBytes);
    }
    return { stream: res.body, contentType, contentLength, status: partial ? 206 : 200, contentRange };
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
