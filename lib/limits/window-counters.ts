import { Ratelimit } from "@upstash/ratelimit";
import { RedisJobStore } from "@/lib/store/redis-store";
import type { JobStore } from "@/lib/store/types";

/**
 * Fixed-window counters for the spend limits, one implementation per kind of store:
 *
 * - Redis over TCP and Upstash/Vercel KV over REST: @upstash/ratelimit's fixed window, on the
 *   store's own connection (see `RedisJobStore.ratelimitClient`). Its windows are aligned to the
 *   clock (an hourly window starts on the hour, a daily one at midnight UTC), so `retryAfter` is
 *   the time to the next boundary.
 * - The embedded store: `store.increment`, a window that starts with its first count.
 *
 * Either way a count is one atomic server-side step, so racing requests cannot pass a limit.
 */
export type Window = {
  /** What is counted, e.g. `limit:browser:<owner>`; the store's prefix is added. */
  key: string;
  /** Most takes allowed in one window (> 0). */
  limit: number;
  windowSeconds: number;
};

export type Take = { ok: boolean; retryAfterSeconds: number };

export interface WindowCounters {
  /** Counts one; `ok` when the count is still within the limit. */
  take(window: Window): Promise<Take>;
  /** Undoes one `take` (refused, or its job could not be created). */
  giveBack(window: Window): Promise<void>;
}

class RatelimitCounters implements WindowCounters {
  private readonly limiters = new Map<string, Ratelimit>();

  constructor(private readonly client: ReturnType<RedisJobStore["ratelimitClient"]>) {}

  async take(w: Window): Promise<Take> {
    const result = await this.limiter(w).limit(w.key);
    return { ok: result.success, retryAfterSeconds: Math.max(1, Math.ceil((result.reset - Date.now()) / 1000)) };
  }

  async giveBack(w: Window): Promise<void> {
    // A negative rate takes the count back down (INCRBY -1 in the library's script).
    await this.limiter(w).limit(w.key, { rate: -1 });
  }

  private limiter(w: Window): Ratelimit {
    const id = `${w.limit}/${w.windowSeconds}`;
    let limiter = this.limiters.get(id);
    if (!limiter) {
      limiter = new Ratelimit({
        redis: this.client.redis,
        prefix: this.client.prefix,
        limiter: Ratelimit.fixedWindow(w.limit, `${w.windowSeconds} s`),
        // The in-memory block list would keep refusing after a give-back on another instance.
        ephemeralCache: false,
        // Its default answers "allowed" after 5 s without Redis; an unreachable store must refuse (503).
        timeout: 0,
        analytics: false,
        enableProtection: false,
      });
      this.limiters.set(id, limiter);
    }
    return limiter;
  }
}

class StoreCounters implements WindowCounters {
  constructor(private readonly store: JobStore) {}

  async take(w: Window): Promise<Take> {
    const { count, resetInSeconds } = await this.store.increment(w.key, w.windowSeconds);
    return { ok: count <= w.limit, retryAfterSeconds: Math.max(1, resetInSeconds) };
  }

  giveBack(w: Window): Promise<void> {
    return this.store.decrement(w.key);
  }
}

const byStore = new WeakMap<JobStore, WindowCounters>();

export function windowCounters(store: JobStore): WindowCounters {
  let counters = byStore.get(store);
  if (!counters) {
    counters = store instanceof RedisJobStore ? new RatelimitCounters(store.ratelimitClient()) : new StoreCounters(store);
    byStore.set(store, counters);
  }
  return counters;
}
