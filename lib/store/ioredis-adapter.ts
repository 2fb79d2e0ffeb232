import { Redis, type RedisOptions } from "ioredis";
import { log } from "@/lib/log";
import type { RedisArg, RedisCommands } from "@/lib/store/redis-commands";
import { RedisJobStore } from "@/lib/store/redis-store";
import { StoreUnavailableError } from "@/lib/store/types";

const READY_TIMEOUT_MS = 1500;

// Fail fast instead of queueing: no offline queue, one retry, short connect and command timeouts.
// The client keeps reconnecting in the background, so the store recovers when Redis returns.
const OPTIONS: RedisOptions = {
  lazyConnect: true,
  connectTimeout: READY_TIMEOUT_MS,
  commandTimeout: 5000,
  maxRetriesPerRequest: 1,
  enableOfflineQueue: false,
  retryStrategy: (times) => Math.min(times * 200, 1000),
};

function isReplyError(err: unknown): boolean {
  return err instanceof Error && err.name === "ReplyError";
}

/** Logs a connection problem once per outage rather than on every reconnect attempt. */
function quietErrors(client: Redis, label: string): void {
  let reported = false;
  client.on("error", (err: Error) => {
    if (!reported) log.warn({ connection: label, err: err.message }, "store: Redis connection error");
    reported = true;
  });
  client.on("ready", () => (reported = false));
}

type Subscription = { onMessage: (message: string) => void; onResubscribed?: () => void };

/** Redis over TCP. Pub/sub uses one extra connection shared by all channels. */
export class IoredisCommands implements RedisCommands {
  private readonly client: Redis;
  private subscriber: Redis | null = null;
  private readonly channels = new Map<string, Set<Subscription>>();
  private closed = false;
  private waiting: Promise<void> | null = null;

  constructor(private readonly url: string) {
    this.client = new Redis(url, OPTIONS);
    quietErrors(this.client, "Redis connection");
  }

  async call(command: string, ...args: RedisArg[]): Promise<unknown> {
    await this.ready();
    try {
      return await this.client.call(command, args);
    } catch (err) {
      if (isReplyError(err)) throw err;
      throw new StoreUnavailableError(err);
    }
  }

  subscribe(channel: string, onMessage: (message: string) => void, onResubscribed?: () => void): () => void {
    const sub = this.subscriberConnection();
    let listeners = this.channels.get(channel);
    if (!listeners) {
      listeners = new Set();
      this.channels.set(channel, listeners);
      sub.subscribe(channel).catch((err: Error) => log.warn({ channel, err: err.message }, "store: subscribe failed"));
    }
    const set = listeners;
    const entry: Subscription = { onMessage, onResubscribed };
    set.add(entry);
    return () => {
      if (!set.delete(entry) || set.size > 0 || this.channels.get(channel) !== set) return;
      this.channels.delete(channel);
      if (!this.closed) sub.unsubscribe(channel).catch(() => undefined);
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    this.channels.clear();
    await Promise.all([this.client, this.subscriber].map((c) => (c ? shutdown(c) : undefined)));
  }

  /** Waits briefly for a usable connection; rejects at once on a connection error. */
  private ready(): Promise<void> {
    const client = this.client;
    if (client.status === "ready") return Promise.resolve();
    if (this.closed || client.status === "end")
      return Promise.reject(new StoreUnavailableError(new Error("store closed")));
    if (client.status === "wait") client.connect().catch(() => undefined);
    // One shared wait, so a burst of calls does not pile listeners onto the client.
    this.waiting ??= new Promise<void>((resolve, reject) => {
      const done = (err?: Error) => {
        clearTimeout(timer);
        client.off("ready", onReady);
        client.off("error", onError);
        this.waiting = null;
        if (err) reject(new StoreUnavailableError(err));
        else resolve();
      };
      const onReady = () => done();
      const onError = (err: Error) => done(err);
      const timer = setTimeout(
        () => done(new Error(`no connection to Redis within ${READY_TIMEOUT_MS} ms`)),
        READY_TIMEOUT_MS,
      );
      client.on("ready", onReady);
      client.on("error", onError);
    });
    return this.waiting;
  }

  private subscriberConnection(): Redis {
    if (this.subscriber) return this.subscriber;
    // Subscriptions may queue while connecting; ioredis re-subscribes after a reconnect.
    const sub = new Redis(this.url, {
      ...OPTIONS,
      lazyConnect: false,
      enableOfflineQueue: true,
      maxRetriesPerRequest: null,
    });
    quietErrors(sub, "Redis subscriber");
    sub.on("message", (channel: string, message: string) => {
      for (const listener of [...(this.channels.get(channel) ?? [])]) listener.onMessage(message);
    });
    // Messages published while the connection was down are lost. After a reconnect, subscribe
    // again (ioredis also does; SUBSCRIBE twice is harmless) and, once Redis confirms, tell the
    // listeners, who re-read what they may have missed.
    let connectedBefore = false;
    sub.on("ready", () => {
      if (!connectedBefore) return void (connectedBefore = true);
      const channels = [...this.channels.keys()];
      if (this.closed || channels.length === 0) return;
      sub.subscribe(...channels).then(
        () => {
          for (const channel of channels) {
            for (const listener of [...(this.channels.get(channel) ?? [])]) listener.onResubscribed?.();
          }
        },
        (err: Error) => log.warn({ err: err.message }, "store: resubscribing after a reconnect failed"),
      );
    });
    this.subscriber = sub;
    return sub;
  }
}

async function shutdown(client: Redis): Promise<void> {
  if (client.status === "ready") {
    await client.quit().catch(() => client.disconnect());
  } else {
    client.disconnect();
  }
}

export function createRedisStore(url: string, opts: { prefix?: string; retentionDays?: number } = {}): RedisJobStore {
  return new RedisJobStore(new IoredisCommands(url), { kind: "redis", ...opts });
}
