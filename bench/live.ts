import http from "node:http";
import { openSse, type SseConnection } from "../test/live/sse-client";
import { get } from "./http-load";
import { EngineFeed } from "./jobs";
import { rssBytes } from "./server";
import { ownerHeaders } from "./owner";
import { percentile, sleep } from "./stats";
import type { Job } from "@/lib/core/job";
import { nextPollDelay, POLL_MIN_MS } from "@/lib/swr/job-fetch";

/**
 * How fast an engine event reaches someone watching the job: a signed webhook is POSTed to the
 * server, and the time until the watcher has that seq (or a newer one) is the update latency.
 * Watchers either hold the event stream, or poll the status route the way the page's fallback
 * does (If-None-Match, 1 s → 2 s → 4 s → 8 s while nothing changes, back to 1 s on a change).
 */

type Seen = Map<number, number>;

function markSeen(seen: Seen, seq: number, at: number): void {
  for (let s = seq; s >= 0 && !seen.has(s); s--) seen.set(s, at);
}

/** A stream watcher: records when each seq arrived. */
function streamWatcher(origin: string, id: string, seen: Seen): SseConnection {
  return openSse(`${origin}/api/events/${id}`, {
    cookie: ownerHeaders().cookie,
    onMessage: (m) => {
      if (m.kind === "event" && m.id !== null) markSeen(seen, Number(m.id), performance.now());
    },
  });
}

/** A polling watcher like the page's fallback; returns a stop function and its request count. */
function pollWatcher(origin: string, id: string, seen: Seen, agent: http.Agent) {
  let stopped = false;
  let requests = 0;
  let wake: (() => void) | null = null;
  const done = (async () => {
    let etag: string | null = null;
    let delay = POLL_MIN_MS;
    while (!stopped) {
      const res = await get(`${origin}/api/status/${id}`, agent, {
        ...ownerHeaders(),
        ...(etag ? { "if-none-match": etag } : {}),
      });
      requests++;
      const changed = res.status === 200 && res.headers.etag !== etag;
      if (res.status === 200) {
        etag = String(res.headers.etag);
        const seq = Number(/\.(\d+)"$/.exec(etag)?.[1] ?? -1);
        markSeen(seen, seq, performance.now());
      }
      delay = nextPollDelay(delay, changed);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, delay);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
    }
  })();
  return {
    requests: () => requests,
    stop: async () => {
      stopped = true;
      wake?.();
      await done;
    },
  };
}

/** First requests of a fresh server load code and fill caches: not what a running site sees. */
export async function warmUp(origin: string, job: Job, secret: string): Promise<void> {
  const seen: Seen = new Map();
  const conn = streamWatcher(origin, job.id, seen);
  const feed = new EngineFeed(origin, job, secret);
  for (let i = 0; i < 5; i++) await feed.next();
  await waitUntil(() => seen.has(feed.seq), 5000);
  conn.close();
}

export type LatencyStats = { samples: number; missed: number; p50: number; p99: number; max: number };

function latencies(sent: Seen, seen: Seen): { values: number[]; missed: number } {
  const values: number[] = [];
  let missed = 0;
  for (const [seq, at] of sent) {
    const got = seen.get(seq);
    if (got === undefined) missed++;
    else values.push(Math.max(0, got - at));
  }
  return { values, missed };
}

function summarize(values: number[], missed: number): LatencyStats {
  return {
    samples: values.length,
    missed,
    p50: percentile(values, 50),
    p99: percentile(values, 99),
    max: values.length ? Math.max(...values) : NaN,
  };
}

async function waitUntil(check: () => boolean, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) return false;
    await sleep(50);
  }
  return true;
}

export type UpdateLatencyResult = {
  stream: LatencyStats;
  polling: LatencyStats;
  /** HTTP requests per watched job-minute. */
  requestsPerJobMinute: { stream: number; pollingActive: number; pollingIdle: number };
  watchedMinutes: number;
};

/**
 * Stream watchers and polling watchers side by side, each on its own jobs, with engine events
 * arriving at random 0.5–4 s intervals for `durationMs`. Idle jobs (no events) are polled too, to
 * show what polling costs while nothing happens.
 */
export async function updateLatency(
  origin: string,
  jobs: { stream: Job[]; polling: Job[]; idle: Job[] },
  secret: string,
  durationMs: number,
): Promise<UpdateLatencyResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  const track = (list: Job[]) =>
    list.map((job) => ({
      job,
      sent: new Map() as Seen,
      seen: new Map() as Seen,
      feed: new EngineFeed(origin, job, secret),
    }));
  const streamed = track(jobs.stream);
  const polled = track(jobs.polling);
  const idle = track(jobs.idle);

  const started = performance.now();
  const connections = streamed.map((t) => streamWatcher(origin, t.job.id, t.seen));
  const pollers = [...polled, ...idle].map((t) => pollWatcher(origin, t.job.id, t.seen, agent));
  await waitUntil(() => [...streamed, ...polled, ...idle].every((t) => t.seen.has(0)), 10_000);

  const end = performance.now() + durationMs;
  await Promise.all(
    [...streamed, ...polled].map(async (t) => {
      for (;;) {
        await sleep(500 + Math.random() * 3500);
        if (performance.now() >= end) return;
        const at = performance.now();
        const { seq, applied } = await t.feed.next();
        if (applied) t.sent.set(seq, at);
      }
    }),
  );
  // Give the pollers time to see the last events (at most one 8 s poll interval).
  await waitUntil(() => [...streamed, ...polled].every((t) => t.seen.has(t.feed.seq)), 10_000);
  const watchedMinutes = (performance.now() - started) / 60_000;
  for (const c of connections) c.close();
  const pollRequests = pollers.map((p) => p.requests());
  await Promise.all(pollers.map((p) => p.stop()));
  agent.destroy();

  const collect = (list: typeof streamed) => {
    const all = list.map((t) => latencies(t.sent, t.seen));
    return summarize(
      all.flatMap((a) => a.values),
      all.reduce((n, a) => n + a.missed, 0),
    );
  };
  const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
  return {
    stream: collect(streamed),
    polling: collect(polled),
    requestsPerJobMinute: {
      stream: connections.length / (streamed.length * watchedMinutes),
      pollingActive: sum(pollRequests.slice(0, polled.length)) / (polled.length * watchedMinutes),
      pollingIdle: sum(pollRequests.slice(polled.length)) / (idle.length * watchedMinutes),
    },
    watchedMinutes,
  };
}

const ROUND_MS = 2000;

export type WatchersResult = {
  watchers: number;
  connected: number;
  connectSeconds: number;
  updates: number;
  deliveries: number;
  expected: number;
  latency: LatencyStats;
  /** Server RSS growth while the streams were open (peak minus before), per open stream, in bytes. */
  memoryPerStream: number;
  rssBeforeMb: number;
  rssPeakMb: number;
  /** What `afterDisconnect` measured (ms), right after every watcher closed its stream; NaN if it failed. */
  afterDisconnectMs: number;
  afterDisconnectError: string | null;
};

export type CrowdOptions = {
  /** The server's process, whose resident memory is sampled while the streams are open. */
  serverPid: number;
  /** Runs the moment the crowd has disconnected (e.g. a job created through the form); resolves with its ms. */
  afterDisconnect?: () => Promise<number>;
};

/**
 * `perJob` stream watchers on each job, all open at once; `rounds` engine events per job. Every
 * watcher must receive every event; the latency is from the webhook POST to each watcher.
 */
export async function sustainedWatchers(
  origin: string,
  jobs: Job[],
  perJob: number,
  rounds: number,
  secret: string,
  crowd: CrowdOptions,
): Promise<WatchersResult> {
  const feeds = jobs.map((job) => ({ job, feed: new EngineFeed(origin, job, secret), sent: new Map() as Seen }));
  const watchers: { feed: (typeof feeds)[number]; seen: Seen; conn: SseConnection | null }[] = [];
  for (const f of feeds) for (let i = 0; i < perJob; i++) watchers.push({ feed: f, seen: new Map(), conn: null });

  const rssBefore = rssBytes(crowd.serverPid);
  let rssPeak = rssBefore;
  const sampler = setInterval(() => (rssPeak = Math.max(rssPeak, rssBytes(crowd.serverPid))), 250);
  const connectStart = performance.now();
  // Open in batches, as a crowd arriving over a few seconds would.
  for (let i = 0; i < watchers.length; i += 300) {
    const batch = watchers.slice(i, i + 300);
    for (const w of batch) w.conn = streamWatcher(origin, w.feed.job.id, w.seen);
    await waitUntil(() => batch.every((w) => w.seen.has(0)), 30_000);
  }
  const connected = watchers.filter((w) => w.seen.has(0)).length;
  const connectSeconds = (performance.now() - connectStart) / 1000;

  // Sustained load: in each round every job gets one event at a random moment of a 2 s window
  // (100 jobs: about 50 events/s, each fanned out to its watchers).
  for (let r = 0; r < rounds; r++) {
    await Promise.all(
      feeds.map(async (f) => {
        await sleep(Math.random() * ROUND_MS);
        const at = performance.now();
        const { seq, applied } = await f.feed.next();
        if (applied) f.sent.set(seq, at);
      }),
    );
  }
  await waitUntil(() => watchers.every((w) => w.seen.has(w.feed.feed.seq)), 10_000);
  clearInterval(sampler);
  rssPeak = Math.max(rssPeak, rssBytes(crowd.serverPid));
  for (const w of watchers) w.conn?.close();
  let afterDisconnectMs = NaN;
  let afterDisconnectError: string | null = null;
  if (crowd.afterDisconnect) {
    try {
      afterDisconnectMs = await crowd.afterDisconnect();
    } catch (error) {
      afterDisconnectError = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    }
  }

  const values: number[] = [];
  let missed = 0;
  for (const w of watchers) {
    const l = latencies(w.feed.sent, w.seen);
    values.push(...l.values);
    missed += l.missed;
  }
  const updates = feeds.reduce((n, f) => n + f.sent.size, 0);
  return {
    watchers: watchers.length,
    connected,
    connectSeconds,
    updates,
    deliveries: values.length,
    expected: values.length + missed,
    latency: summarize(values, missed),
    memoryPerStream: (rssPeak - rssBefore) / Math.max(1, connected),
    rssBeforeMb: rssBefore / 2 ** 20,
    rssPeakMb: rssPeak / 2 ** 20,
    afterDisconnectMs,
    afterDisconnectError,
  };
}
