import "server-only";
import type { Job } from "@/lib/core/job";
import { log } from "@/lib/log";
import type { JobStore } from "@/lib/store/types";

/**
 * What the open event streams of this instance share, so that a crowd watching few jobs costs
 * little per stream:
 * - one store subscription per watched job (`watchJob`), whose records are handed to every
 *   watcher of that job: on Redis one decoded message (one record object, serialised once by the
 *   stream) instead of one per stream, on Upstash one poller, on the embedded store one listener;
 * - one timer per tick interval for all streams (`onEveryTick`) instead of two per stream.
 * Both go away with the last stream that uses them.
 */

type Channel = { watchers: Set<(job: Job) => void>; latest: Job | null; unsubscribe: () => void };

const channelsByStore = new WeakMap<JobStore, Map<string, Channel>>();

function publish(channel: Channel, job: Job): void {
  if (channel.latest && job.seq <= channel.latest.seq) return;
  channel.latest = job;
  for (const watcher of channel.watchers) watcher(job);
}

export type JobWatch = {
  /** A record read by this watcher: when it is newer than what the channel had, every watcher gets it. */
  offer(job: Job): void;
  stop(): void;
};

/**
 * Calls `onChange` with every newer record of job `id` from now on (never an older or equal seq
 * than the channel already passed on). Subscribe before reading the job, as with `store.subscribe`,
 * and `offer` what was read.
 */
export function watchJob(store: JobStore, id: string, onChange: (job: Job) => void): JobWatch {
  let channels = channelsByStore.get(store);
  if (!channels) channelsByStore.set(store, (channels = new Map()));
  let channel = channels.get(id);
  if (!channel) {
    const c: Channel = { watchers: new Set(), latest: null, unsubscribe: () => undefined };
    // The store may send again a record newer than this (a missed poll, a pub/sub reconnect).
    c.unsubscribe = store.subscribe(
      id,
      (job) => publish(c, job),
      () => c.latest?.seq ?? -1,
    );
    channels.set(id, (channel = c));
  }
  const c = channel;
  // One function object per watcher, so that a stream watching twice is two watchers.
  const watcher = (job: Job) => onChange(job);
  c.watchers.add(watcher);
  let stopped = false;
  return {
    offer: (job) => publish(c, job),
    stop() {
      if (stopped) return;
      stopped = true;
      c.watchers.delete(watcher);
      if (c.watchers.size > 0 || channels.get(id) !== c) return;
      channels.delete(id);
      c.unsubscribe();
    },
  };
}

type Ticker = { listeners: Set<(now: number) => void>; timer: ReturnType<typeof setInterval> };
const tickers = new Map<number, Ticker>();

/**
 * Runs `onTick(now)` every `ms` on one timer shared by everything that ticks at that interval
 * (every open stream ticks at the same default interval). Each listener gets the same `now` in a
 * round. Returns a function that removes the listener; the timer stops with the last one.
 */
export function onEveryTick(ms: number, onTick: (now: number) => void): () => void {
  let ticker = tickers.get(ms);
  if (!ticker) {
    const listeners = new Set<(now: number) => void>();
    const timer = setInterval(() => {
      const now = Date.now();
      for (const listener of listeners) {
        try {
          listener(now);
        } catch (error) {
          // One listener's bug must not stop the others' ticks.
          log.error({ err: error instanceof Error ? error.message : String(error) }, "a shared tick listener failed");
        }
      }
    }, ms);
    tickers.set(ms, (ticker = { listeners, timer }));
  }
  const t = ticker;
  const listener = (now: number) => onTick(now);
  t.listeners.add(listener);
  return () => {
    t.listeners.delete(listener);
    if (t.listeners.size > 0 || tickers.get(ms) !== t) return;
    clearInterval(t.timer);
    tickers.delete(ms);
  };
}

/** Jobs watched and tick timers running in this process, for tests and the benchmark. */
export function sharedWatchState(store: JobStore): { channels: number; tickers: number } {
  return { channels: channelsByStore.get(store)?.size ?? 0, tickers: tickers.size };
}
