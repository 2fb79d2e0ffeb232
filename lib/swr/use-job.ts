"use client";

import { useCallback, useEffect, useRef, useState } from "react";
import { isTerminal } from "@/lib/core/job-status";
import type { PublicJob } from "@/lib/core/job";
import {
  fetchJob,
  JobFetchError,
  nextPollDelay,
  parseJobEvent,
  POLL_MIN_MS,
  type Validator,
} from "@/lib/swr/job-fetch";

/** How the page hears about changes: pushed over server-sent events, or polled when the stream fails. */
export type JobTransport = "stream" | "polling";

/** Waits before asking again after a failed poll: 1 s, 2 s, 4 s, 8 s, then 10 s. */
function retryDelay(failures: number): number {
  return Math.min(10_000, 1000 * 2 ** Math.min(failures, 4));
}

/**
 * One job's public record, kept current until it succeeds, fails or is canceled. Changes are
 * pushed by GET /api/events/[id] (server-sent events); when that stream cannot be opened, or
 * breaks and cannot reconnect, the hook polls GET /api/status/[id] instead, with ETags and a
 * delay that grows while nothing changes (also when the tab is hidden: the title stays current),
 * and asks at once when the window regains focus or the network comes back. `fallbackData` is
 * the server-rendered record. Plain React, no data library: this is most of the job page's
 * JavaScript budget's headroom.
 */
export function useJob(id: string, fallbackData?: PublicJob) {
  const url = `/api/status/${encodeURIComponent(id)}`;
  const fallbackEnded = fallbackData ? isTerminal(fallbackData.status) : false;
  const [job, setJob] = useState<PublicJob | undefined>(fallbackData);
  const [error, setError] = useState<JobFetchError | undefined>(undefined);
  const [isValidating, setValidating] = useState(false);
  // The stream failed: from then on the page polls, for as long as it stays open.
  const [polling, setPolling] = useState(false);
  // The latest seq, for the stream to start from, without reopening the stream on every change.
  const seq = useRef(fallbackData?.seq ?? -1);
  const ended = job ? isTerminal(job.status) : fallbackEnded;

  /** A newer state wins; an older one (a late answer) is dropped. */
  const apply = useCallback((next: PublicJob) => {
    setJob((current) => (current && current.seq > next.seq ? current : next));
    setError(undefined);
  }, []);

  useEffect(() => {
    seq.current = job?.seq ?? -1;
  }, [job?.seq]);

  const validator = useRef<Validator | null>(null);
  const pollDelay = useRef(POLL_MIN_MS);
  const inFlight = useRef<Promise<JobFetchError | null> | null>(null);
  /** Asks the status route once (one request at a time); resolves to the failure, if any. */
  const revalidate = useCallback((): Promise<JobFetchError | null> => {
    if (inFlight.current) return inFlight.current;
    setValidating(true);
    const request = (async () => {
      const known = validator.current;
      try {
        const result = await fetchJob(url, known);
        const changed = !result.notModified && (!known || JSON.stringify(known.job) !== JSON.stringify(result.job));
        pollDelay.current = nextPollDelay(pollDelay.current, changed);
        if (result.etag) validator.current = { etag: result.etag, job: result.job };
        apply(result.job);
        return null;
      } catch (err) {
        const failure =
          err instanceof JobFetchError ? err : new JobFetchError(String(err), 0, "unknown", { cause: err });
        setError(failure);
        return failure;
      } finally {
        inFlight.current = null;
        setValidating(false);
      }
    })();
    inFlight.current = request;
    return request;
  }, [url, apply]);

  // A job that had ended when the page was rendered is final: no stream. A job that ends while
  // watched ends its stream itself (the last event closes it).
  useEffect(() => {
    if (fallbackEnded || ended || polling) return;
    // Browsers without EventSource (none current) poll; the server renders either way.
    if (typeof EventSource === "undefined") {
      queueMicrotask(() => setPolling(true));
      return;
    }
    // `since`: the state the page already has is not sent again. On a reconnect the browser sends Last-Event-ID.
    const source = new EventSource(`/api/events/${encodeURIComponent(id)}?since=${seq.current}`);
    let opened = false;
    source.onopen = () => {
      opened = true;
    };
    source.onmessage = (event: MessageEvent<string>) => {
      const next = parseJobEvent(event.data);
      if (!next || next.id !== id) return;
      apply(next);
      if (isTerminal(next.status)) source.close();
    };
    source.onerror = () => {
      // The server closed a working stream (its time limit): the browser reconnects by itself.
      if (opened && source.readyState === EventSource.CONNECTING) {
        opened = false;
        return;
      }
      // It could not connect, or was refused: poll instead.
      source.close();
      setPolling(true);
    };
    return () => source.close();
  }, [id, fallbackEnded, ended, polling, apply]);

  // The poll starts with a request at once, not after the first interval.
  useEffect(() => {
    if (!polling || ended) return;
    let stopped = false;
    let busy = false;
    let failures = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const tick = async () => {
      if (busy || stopped) return;
      busy = true;
      clearTimeout(timer);
      const failure = await revalidate();
      busy = false;
      if (stopped) return;
      // A job that does not exist (or a malformed id) will not appear by asking again.
      if (failure && (failure.status === 404 || failure.status === 400)) return;
      failures = failure ? failures + 1 : 0;
      timer = setTimeout(() => void tick(), failure ? retryDelay(failures - 1) : pollDelay.current);
    };
    const wake = () => {
      if (document.visibilityState === "visible") void tick();
    };
    void tick();
    window.addEventListener("focus", wake);
    window.addEventListener("online", wake);
    document.addEventListener("visibilitychange", wake);
    return () => {
      stopped = true;
      clearTimeout(timer);
      window.removeEventListener("focus", wake);
      window.removeEventListener("online", wake);
      document.removeEventListener("visibilitychange", wake);
    };
  }, [polling, ended, revalidate]);

  /** Asks for the current state now (after a cancel, a retry...). */
  const mutate = useCallback(async () => {
    await revalidate();
  }, [revalidate]);

  const transport: JobTransport = polling ? "polling" : "stream";
  return { job, error, isValidating, mutate, transport };
}
