import { Redis, errors } from "@upstash/redis";
import { RedisJobStore, type RedisArg, type RedisCommands } from "@/lib/store/redis-store";
import { StoreUnavailableError } from "@/lib/store/types";

const REQUEST_TIMEOUT_MS = 5000;

/**
 * Upstash Redis / Vercel KV over its REST API.
 *
 * No `subscribe`: REST pub/sub is a long-lived streaming response per channel, which serverless
 * functions cut off at their time limit and which costs one open request per watcher. The store
 * therefore polls the job's seq (one small GET every 500 ms, only while someone watches that job)
 * and hears its own instance's changes immediately.
 */
export class UpstashCommands implements RedisCommands {
  private readonly redis: Redis;

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

  async close(): Promise<void> {}
}

export function createUpstashStore(
  config: { url: string; token: string },
  opts: { prefix?: string; retentionDays?: number; pollIntervalMs?: number } = {},
): RedisJobStore {
  return new RedisJobStore(new UpstashCommands(config), { kind: "upstash", ...opts });
}
