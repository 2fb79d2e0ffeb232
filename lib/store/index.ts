import { storeConfig } from "@/lib/env";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { createRedisStore } from "@/lib/store/ioredis-adapter";
import type { JobStore } from "@/lib/store/types";
import { createUpstashStore } from "@/lib/store/upstash-adapter";

export type StoreConfig = ReturnType<typeof storeConfig>;

export type CreateStoreOptions = {
  /** Key namespace for the Redis backends (default "p2v:"). */
  prefix?: string;
  /** Defaults to JOB_RETENTION_DAYS. */
  retentionDays?: number;
};

export function createStore(config: StoreConfig, opts: CreateStoreOptions = {}): JobStore {
  switch (config.kind) {
    case "upstash":
      return createUpstashStore(config, opts);
    case "redis":
      return createRedisStore(config.url, opts);
    case "embedded":
      return new EmbeddedStore({ dir: config.dir, retentionDays: opts.retentionDays });
  }
}

// On globalThis so that Next's dev-mode module reloads reuse the store and its connections.
const holder = globalThis as typeof globalThis & { __prompt2videoStore?: JobStore | null };

export function getStore(): JobStore {
  holder.__prompt2videoStore ??= createStore(storeConfig());
  return holder.__prompt2videoStore;
}

/** Replaces the process-wide store (null: the next getStore() builds one from the environment). */
export function setStoreForTests(store: JobStore | null): void {
  holder.__prompt2videoStore = store;
}

export { StoreUnavailableError } from "@/lib/store/types";
export type { JobPage, JobStore, UpdateResult } from "@/lib/store/types";
