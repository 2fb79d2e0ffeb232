import { Redis, errors } from "@upstash/redis";
import type { RedisArg, RedisCommands } from "@/lib/store/redis-commands";
import { RedisJobStore } from "@/lib/store/redis-store";
import { StoreUnavailableError } from "@/lib/store/types";
import { UpstashChannels } from "@/lib/store/upstash-channels";

const REQUEST_TIMEOUT_MS = 5000;

/**
 * Upstash Redis / Vercel KV over its REST API. Changes are heard through the REST API's subscribe
 * stream: one per watched job per instance, shared by all its watchers (upstash-channels.ts).
 */
export class UpstashCommands implements RedisCommands {
  private readonly redis: Redis;
  private readonly channels: UpstashChannels;

  constructor(opts: { url: string; token: string }) {
    this.redis = new Redis({
      url: opts.url,
      token: opts.token,
      // Raw replies: the store parses JSON itself, and `exec` must not go through auto-pipelining.
      automaticDeserialization: false,
      enableAutoPipelining: false,
      enableTelemetry: false,
      retry: { retries: 2, backoff: (n) => 100 * (n + 1) },
      signal: () => AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
    this.channels = new UpstashChannels(opts);
  }

  async call(command: string, ...args: RedisArg[]): Promise<unknown> {
    try {
      return await this.redis.exec([command, ...args]);
    } catch (err) {
      // A JSON error body is the server's answer to the command; anything else is transport.
      if (err instanceof errors.UpstashError && !(err instanceof errors.UpstashJSONParseError)) throw err;
      throw new StoreUnavailableError(err);
    }
  }

  subscribe(channel: string, onMessage: (message: string) => void, onResubscribed?: () => void): () => void {
    return this.channels.subscribe(channel, { onMessage, onSubscribed: onResubscribed });
  }

  async close(): Promise<void> {
    this.channels.close();
  }
}

export function createUpstashStore(
  config: { url: string; token: string },
  opts: { prefix?: string; retentionDays?: number } = {},
): RedisJobStore {
  return new RedisJobStore(new UpstashCommands(config), { kind: "upstash", ...opts });
}
