"use client";

import { useCallback, useEffect, useRef } from "react";
import useSWR, { useSWRConfig } from "swr";
import useSWRSubscription from "swr/subscription";
import { isTerminal } from "@/lib/core/job-status";
import type { PublicJob } from "@/lib/core/job";
import { fetchJob, nextPollDelay, parseJobEvent, POLL_MIN_MS, type JobFetchError, type Validator } from "@/lib/swr/job-fetch";

/** How the page hears about changes: pushed over server-sent events, or polled when the stream fails. */
export type JobTransport = "stream" | "polling";

/**
 * One job's public record, kept current until it succeeds, fails or is canceled. Changes are
 * pushed by GET /api/events/[id] (server-sent events, followed with an SWR subscription that
 * writes each state into the status key's cache); when that stream cannot be opened, or breaks
 * and cannot reconnect, the hook polls GET /api/status/[id] under the same key instead, with
 * ETags and a delay that grows while nothing changes. `fallbackData` is the server-rendered record.
 */
export function useJob(id: string, fallbackData?: PublicJob) {
  const statusKey = `/api/status/${encodeURIComponent(id)}`;
  const fallbackEnded = fallbackData ? isTerminal(fallbackData.status) : false;
  const { mutate: mutateKey } = useSWRConfig();
  // The latest seq, for the stream to start from, without reopening the stream on every change.
  const seq = useRef(-1);

  // A job that had ended when the page was rendered is final: no stream. A job that ends while
  // watched ends its stream itself (the last event closes it). The subscription's error is the
  // stream failing: from then on the page polls, for as long as it stays open.
  const stream = useSWRSubscription<never, Error, readonly [string, string] | null>(
    fallbackEnded ? null : (["job-events", id] as const),
    ([, jobId], { next }) => {
      // The failure is kept in SWR's cache: forget it when the page lets go, so that coming back
      // to this job starts with the stream again.
      const forget = () => next(null);
      // Browsers without EventSource (none current) poll; the server renders either way.
      if (typeof EventSource === "undefined") {
        next(new Error("EventSource is not available"));
        return forget;
      }
      // `since`: the state the page already has is not sent again. On a reconnect the browser sends Last-Event-ID.
      const source = new EventSource(`/api/events/${encodeURIComponent(jobId)}?since=${seq.current}`);
      let opened = false;
      source.onopen = () => {
        opened = true;
      };
      source.onmessage = (event: MessageEvent<string>) => {
        const job = parseJobEvent(event.data);
        if (!job || job.id !== jobId) return;
        void mutateKey<PublicJob>(statusKey, (current) => (current && current.seq > job.seq ? current : job), { revalidate: false });
        if (isTerminal(job.status)) source.close();
      };
      source.onerror = () => {
        // The server closed a working stream (its time limit): the browser reconnects by itself.
        if (opened && source.readyState === EventSource.CONNECTING) {
          opened = false;
          return;
        }
        // It could not connect, or was refused: poll instead.
        source.close();
        next(new Error("The live stream is not available"));
      };
      return () => {
        source.close();
        forget();
      };
    },
  );
  const polling = stream.error !== undefined;

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

  const { data, error, isValidating, mutate } = useSWR<PublicJob, JobFetchError>(statusKey, fetcher, {
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
  useEffect(() => {
    seq.current = data?.seq ?? -1;
  }, [data?.seq]);

  // The poll starts with a request at once, not after the first interval.
  useEffect(() => {
    if (polling && !ended) void mutate();
  }, [polling, ended, mutate]);

  const transport: JobTransport = polling ? "polling" : "stream";
  return { job: data, error, isValidating, mutate, transport };
}
