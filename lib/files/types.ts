/**
 * Where finished videos and posters live: one interface, one module per backend. Callers never
 * know which backend is live; only the file route reads the local backend directly.
 */

export type VideoStoreKind = "local" | "blob";

export type VideoBody = ReadableStream<Uint8Array> | NodeJS.ReadableStream;

export type PutOptions = {
  contentType: string;
  /** The write fails (and leaves nothing behind) once more than this many bytes flowed. */
  maxBytes: number;
  signal?: AbortSignal;
};

export type StoredFile = {
  /** The lasting link users get: an app path for the local store, an absolute URL for Blob. */
  url: string;
  bytes: number;
};

/**
 * How long a shared video or poster may be kept by any cache (browsers, CDNs, Blob's CDN), in
 * seconds: what an unshare may take to reach everyone who already had the file's URL.
 */
export const SHARED_FILE_MAX_AGE = 60;

/** The public files of one share. */
export type ShareFiles = { videoUrl: string; posterUrl: string | null };

/** What a share needs to know of its job's files. */
export type ShareSource = { id: string; prompt: string; videoUrl: string; posterUrl: string | null };

export interface VideoStore {
  readonly kind: VideoStoreKind;
  /** Stores a file under `<jobId>/<file>` (see videoKey), streamed, never buffered whole. */
  put(key: string, body: VideoBody, options: PutOptions): Promise<StoredFile>;
  /** Removes every file of one job: the prefix is the job id. */
  delete(jobId: string): Promise<void>;
  /**
   * The public files of a new share, at addresses that carry its token and not the job's: the
   * local store serves the job's own files through the token (/api/shared/<token>/…); Blob
   * copies them to a path of their own, with a short cache lifetime.
   */
  share(job: ShareSource, token: string): Promise<ShareFiles>;
  /** Removes one share's public files (the local store has none of its own). */
  unshare(token: string): Promise<void>;
}

export type ByteRange = { start: number; end: number };

export type OpenedFile = {
  stream: ReadableStream<Uint8Array>;
  contentType: string;
  /** Size of the whole file, whatever range was opened. */
  size: number;
};

/** The local backend can also serve what it stores. */
export interface LocalFiles extends VideoStore {
  readonly kind: "local";
  stat(key: string): Promise<{ size: number; contentType: string } | null>;
  /** null when the file does not exist; `range` is inclusive and already validated against the size. */
  open(key: string, range?: ByteRange): Promise<OpenedFile | null>;
}

export const JOB_ID_KEY_PATTERN = /^[A-Za-z0-9_-]{22}$/;
export const FILE_NAME_PATTERN = /^[a-z0-9-]+\.(mp4|jpg|png|webp)$/;

const CONTENT_TYPES = { mp4: "video/mp4", jpg: "image/jpeg", png: "image/png", webp: "image/webp" } as const;

/** Frame images a user uploaded start with this: served to the owner only, never by the public file route. */
export const FRAME_FILE_PREFIX = "frame-";

export class InvalidVideoKeyError extends Error {
  constructor(key: string) {
    super(`Invalid video key: ${JSON.stringify(key.slice(0, 80))}`);
    this.name = "InvalidVideoKeyError";
  }
}

export type VideoFileErrorReason =
  "not_found" | "forbidden_url" | "wrong_type" | "too_large" | "http" | "network" | "unsatisfiable";

/** A failed copy or write; `permanent` ones fail the same way when tried again. */
export class VideoFileError extends Error {
  constructor(
    message: string,
    readonly reason: VideoFileErrorReason,
    readonly permanent: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "VideoFileError";
  }
}

export function videoTooLarge(maxBytes: number): VideoFileError {
  const mb = Math.round((maxBytes / 1024 / 1024) * 10) / 10;
  return new VideoFileError(`The video is larger than the ${mb} MB this site accepts.`, "too_large", true);
}

export function isValidJobId(jobId: string): boolean {
  return JOB_ID_KEY_PATTERN.test(jobId);
}

export function isValidFileName(file: string): boolean {
  return FILE_NAME_PATTERN.test(file);
}

/** `<jobId>/<file>`; the patterns leave no room for `..`, slashes or other path tricks. */
export function videoKey(jobId: string, file: string): string {
  const key = `${jobId}/${file}`;
  if (!isValidJobId(jobId) || !isValidFileName(file)) throw new InvalidVideoKeyError(key);
  return key;
}

export function parseVideoKey(key: string): { jobId: string; file: string } {
  const [jobId = "", file = "", ...rest] = key.split("/");
  if (rest.length > 0 || !isValidJobId(jobId) || !isValidFileName(file)) throw new InvalidVideoKeyError(key);
  return { jobId, file };
}

export function contentTypeOf(file: string): string {
  const ext = file.slice(file.lastIndexOf(".") + 1);
  return ext in CONTENT_TYPES ? CONTENT_TYPES[ext as keyof typeof CONTENT_TYPES] : CONTENT_TYPES.mp4;
}
