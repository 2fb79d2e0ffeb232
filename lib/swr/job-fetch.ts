import { asPublicJob } from "@/lib/jobs/domain/public-job-shape";
import type { PublicJob } from "@/lib/core/job";

/**
 * How the job page reads a job without the stream: GET /api/status/[id] with If-None-Match, and
 * a delay between polls that grows while nothing changes. Plain functions, for useJob and tests.
 */

/** The fallback poll: every second after a change, doubling while nothing changes, up to 8 s. */
export const POLL_MIN_MS = 1000;
export const POLL_MAX_MS = 8000;

/** The next poll delay: back to the minimum after a change, doubled (capped) while nothing changes. */
export function nextPollDelay(previousMs: number, changed: boolean): number {
  return changed ? POLL_MIN_MS : Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, previousMs * 2));
}

/** A failed status request: the HTTP status (0: no answer) and the API's `{ error: { code, message } }`. */
export class JobFetchError extends Error {
  constructor(
    message: string,
    readonly status: number,
    readonly code: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = "JobFetchError";
  }
}

/** The last full answer and its ETag. */
export type Validator = { etag: string; job: PublicJob };

export type JobFetchResult = { job: PublicJob; etag: string | null; notModified: boolean };

/**
 * GET /api/status/[id] with If-None-Match: a 304 answers "nothing changed" without a body, and
 * the known record is returned. A time-based progress estimate changes without a new seq (and
 * ETag), so such a job is asked for in full.
 */
export async function fetchJob(
  url: string,
  known: Validator | null,
  fetchImpl: typeof fetch = fetch,
): Promise<JobFetchResult> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (known && !known.job.progressEstimated) headers["if-none-match"] = known.etag;
  let res: Response;
  try {
    res = await fetchImpl(url, { headers, cache: "no-store" });
  } catch (cause) {
    throw new JobFetchError("Could not reach the server. Check your connection.", 0, "network", { cause });
  }
  if (res.status === 304 && known) return { job: known.job, etag: known.etag, notModified: true };
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new JobFetchError(
      typeof error?.message === "string" ? error.message : `The server answered ${res.status}.`,
      res.status,
      typeof error?.code === "string" ? error.code : "unknown",
    );
  }
  const job = asPublicJob(body);
  if (!job)
    throw new JobFetchError("The server sent a status this page does not understand.", res.status, "bad_response");
  return { job, etag: res.headers.get("etag"), notModified: false };
}

/** One server-sent event's data as a job, or null when it is not one. */
export function parseJobEvent(data: string): PublicJob | null {
  try {
    return asPublicJob(JSON.parse(data));
  } catch {
    return null;
  }
}
