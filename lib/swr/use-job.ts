"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import useSWR from "swr";
import { isTerminal, publicJobSchema, type PublicJob } from "@/lib/jobs/schema";

/** The fallback poll: every second after a change, doubling while nothing changes, up to 8 s. */
export const POLL_MIN_MS = 1000;
export const POLL_MAX_MS = 8000;

/** The next poll delay: back to the minimum after a change, doubled (capped) while nothing changes. */
export function nextPollDelay(previousMs: number, changed: boolean): number {
  return changed ? POLL_MIN_MS : Math.min(POLL_MAX_MS, Math.max(POLL_MIN_MS, previousMs * 2));
}

/** How the page hears about changes: pushed over server-sent events, or polled when the stream fails. */
export type JobTransport = "stream" | "polling";

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

type Validator = { etag: string; job: PublicJob };

/**
 * GET /api/status/[id] with If-None-Match: a 304 answers "nothing changed" without a body.
 * A time-based progress estimate changes without a new seq (and ETag), so such a job is asked
 * for in full.
 */
async function fetchJob(url: string, known: Validator | null): Promise<{ job: PublicJob; etag: string | null; notModified: boolean }> {
  const headers: Record<string, string> = { accept: "application/json" };
  if (known && !known.job.progressEstimated) headers["if-none-match"] = known.etag;
  let res: Response;
  try {
    res = await fetch(url, { headers, cache: "no-store" });
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
  const parsed = publicJobSchema.safeParse(body);
  if (!parsed.success) throw new JobFetchError("The server sent a status this page does not understand.", res.status, "bad_response");
  return { job: parsed.data, etag: res.headers.get("etag"), notModified: false };
}

function parseEvent(data: string): PublicJob | null {
  try {
    const parsed = publicJobSchema.safeParse(JSON.parse(data));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

/**
 * One job's public record, kept current until it succeeds, fails or is canceled. Changes are
 * pushed by GET /api/events/[id] (server-sent events); when that stream cannot be opened, or
 * breaks and cannot reconnect, the hook polls GET /api/status/[id] instead, with ETags and a
 * delay that grows while nothing changes. `fallbackData` is the server-rendered record.
 */
export function useJob(id: string, fallbackData?: PublicJob) {
  // Browsers without EventSource (none current) poll from the start; the server renders either way.
  const [transport, setTransport] = useState<JobTransport>(() =>
    typeof window !== "undefined" && typeof EventSource === "undefined" ? "polling" : "stream",
  );
  const polling = transport === "polling";
  const fallbackEnded = fallbackData ? isTerminal(fallbackData.status) : false;
  const validator = useRef<Validator | null>(null);
  const pollDelay = useRef(POLL_MIN_MS);

  const fetcher = useCallback(async (url: string) => {
    const known = validator.current;
    const result = await fetchJob(url, known);
    const changed = !result.notModified && (!known || JSON.stringify(known.job) !== JSON.stringify(result.job));
    pollDelay.current = nextPollDelay(pollDelay.current, changed);
    if (result.etag) validator.current = { etag: result.etag, job: result.job };
    return result.job;
  }, []);

  // SWR restarts its polling timer whenever this function changes identity, so it must be stable
  // across renders (the page re-renders each second). SWR calls it again after every poll.
  const refreshInterval = useCallback(
    // `latest` is undefined until the first fetch lands; the server-rendered record decides then.
    (latest: PublicJob | undefined) => (!polling || (latest ? isTerminal(latest.status) : fallbackEnded) ? 0 : pollDelay.current),
    [polling, fallbackEnded],
  );

  const { data, error, isValidating, mutate } = useSWR<PublicJob, JobFetchError>(`/api/status/${encodeURIComponent(id)}`, fetcher, {
    fallbackData,
    refreshInterval,
    // The stream sends the current state when it opens; a poll is only needed without it.
    revalidateOnMount: false,
    revalidateOnFocus: polling,
    revalidateOnReconnect: polling,
    // SWR's default 2 s dedupe window would silently stretch the 1 s poll.
    dedupingInterval: POLL_MIN_MS / 2,
    // The job page is often left open in a background tab; keep it current for the title.
    refreshWhenHidden: true,
    onErrorRetry: (err, _key, _config, revalidate, { retryCount }) => {
      // A job that does not exist (or a malformed id) will not appear by asking again.
      if (err.status === 404 || err.status === 400) return;
      setTimeout(() => void revalidate({ retryCount }), Math.min(10_000, 1000 * 2 ** Math.min(retryCount, 4)));
    },
  });

  const ended = data ? isTerminal(data.status) : fallbackEnded;
  // The latest seq, for the stream to start from, without reopening the stream on every change.
  const seq = useRef(-1);
  useEffect(() => {
    seq.current = data?.seq ?? -1;
  }, [data?.seq]);

  useEffect(() => {
    if (transport !== "stream" || ended) return;
    // `since`: the state the page already has is not sent again. On a reconnect the browser sends Last-Event-ID.
    const source = new EventSource(`/api/events/${encodeURIComponent(id)}?since=${seq.current}`);
    let opened = false;
    source.onopen = () => {
      opened = true;
    };
    source.onmessage = (event: MessageEvent<string>) => {
      const next = parseEvent(event.data);
      if (!next || next.id !== id) return;
      void mutate((current) => (current && current.seq > next.seq ? current : next), { revalidate: false });
      if (isTerminal(next.status)) source.close();
    };
    source.onerror = () => {
      // The server closed a working stream (its time limit): the browser reconnects by itself.
      if (opened && source.readyState === EventSource.CONNECTING) {
        opened = false;
        return;
      }
      // It could not connect, or was refused: poll instead for as long as this page is open.
      source.close();
      setTransport("polling");
    };
    return () => source.close();
  }, [id, transport, ended, mutate]);

  // The poll starts with a request at once, not after the first interval.
  useEffect(() => {
    if (polling && !ended) void mutate();
  }, [polling, ended, mutate]);

  return { job: data, error, isValidating, mutate, transport };
}
