"use client";

import { useCallback } from "react";
import useSWR from "swr";
import { isTerminal, publicJobSchema, type PublicJob } from "@/lib/jobs/schema";

/** How often a job that is still running is polled. */
export const JOB_POLL_MS = 1000;

/** A failed status request: the HTTP status and the API's `{ error: { code, message } }`. */
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

async function fetchJob(url: string): Promise<PublicJob> {
  let res: Response;
  try {
    res = await fetch(url, { headers: { accept: "application/json" }, cache: "no-store" });
  } catch (cause) {
    throw new JobFetchError("Could not reach the server. Check your connection.", 0, "network", { cause });
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const error = (body as { error?: { code?: unknown; message?: unknown } } | null)?.error;
    throw new JobFetchError(
      typeof error?.message === "string" ? error.message : `The server answered ${res.status}.`,
      res.status,
      typeof error?.code === "string" ? error.code : "unknown",
    );
  }
  const parsed = publicJobSchema.safeParse(body);
  if (!parsed.success) throw new JobFetchError("The server sent a status this page does not understand.", res.status, "bad_response");
  return parsed.data;
}

/**
 * One job's public record from GET /api/status/[id]: polled every second while it runs and not
 * at all once it succeeded, failed or was canceled. `fallbackData` is the server-rendered record.
 */
export function useJob(id: string, fallbackData?: PublicJob) {
  const fallbackEnded = fallbackData ? isTerminal(fallbackData.status) : false;
  // SWR restarts its polling timer whenever this function changes identity, so it must be stable:
  // a new function on every render (the page re-renders each second) would keep the timer from firing.
  const refreshInterval = useCallback(
    // `latest` is undefined until the first fetch lands; the server-rendered record decides then.
    (latest: PublicJob | undefined) => ((latest ? isTerminal(latest.status) : fallbackEnded) ? 0 : JOB_POLL_MS),
    [fallbackEnded],
  );
  const { data, error, isValidating, mutate } = useSWR<PublicJob, JobFetchError>(
    `/api/status/${encodeURIComponent(id)}`,
    fetchJob,
    {
      fallbackData,
      refreshInterval,
      // SWR's default 2 s dedupe window would silently turn a 1 s poll into a 2 s one.
      dedupingInterval: JOB_POLL_MS / 2,
      // The job page is often left open in a background tab; keep it current for the title.
      refreshWhenHidden: true,
      onErrorRetry: (err, _key, _config, revalidate, { retryCount }) => {
        // A job that does not exist (or a malformed id) will not appear by asking again.
        if (err.status === 404 || err.status === 400) return;
        setTimeout(() => void revalidate({ retryCount }), Math.min(10_000, 1000 * 2 ** Math.min(retryCount, 4)));
      },
    },
  );
  return { job: data, error, isValidating, mutate };
}
