import { env } from "@/lib/env";
import { isTerminal, jobSchema, SHARE_TOKEN_PATTERN, type Job } from "@/lib/core/job";
import { decodeCursor } from "@/lib/store/cursor";
import { DAY_MS } from "@/lib/store/stamp";
import { UnreadableRecordError, type JobPage, type JobStore, type UpdateResult } from "@/lib/store/types";
import type { JobQueue } from "@/lib/store/queue";
import { redisQueue } from "@/lib/store/redis-queue";
import type { RedisArg, RedisCommands } from "@/lib/store/redis-commands";
import { parseJob, redisKeys, type RedisKeys } from "@/lib/store/redis-layout";
import { listPage } from "@/lib/store/redis-list";
import { CREATE, DECREMENT, DELETE, INCREMENT, SWEEP, scriptRunner, type RunScript } from "@/lib/store/redis-scripts";
import { compareAndSet } from "@/lib/store/redis-update";
import { RedisWatcher } from "@/lib/store/redis-watch";

export type RedisJobStoreOptions = {
  kind: "redis" | "upstash";
  /** Namespace for every key, so several apps or test runs can share one database. */
  prefix?: string;
  retentionDays?: number;
};

const SWEEP_BATCH = 200;

/**
 * The Redis-backed store for both Redis over TCP and Upstash over REST. The layout it keeps is in
 * redis-layout.ts, its scripts in redis-scripts.ts, updates in redis-update.ts, lists in
 * redis-list.ts and watching in redis-watch.ts.
 */
export class RedisJobStore implements JobStore {
  readonly kind: "redis" | "upstash";
  readonly stats = { commands: 0 };
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  readonly queue: JobQueue;
  private readonly keys: RedisKeys;
  private readonly script: RunScript;
  private readonly watcher: RedisWatcher;
  private readonly queues = new Map<string, Promise<unknown>>();

  constructor(
    private readonly redis: RedisCommands,
    opts: RedisJobStoreOptions,
  ) {
    this.kind = opts.kind;
    this.prefix = opts.prefix ?? "p2v:";
    this.ttlSeconds = Math.round(((opts.retentionDays ?? env().JOB_RETENTION_DAYS) * DAY_MS) / 1000);
    this.keys = redisKeys(this.prefix);
    this.script = scriptRunner((command, ...args) => this.cmd(command, ...args));
    this.watcher = new RedisWatcher(redis, this.keys, (id) => this.get(id));
    this.queue = redisQueue(this.script, this.prefix, this.ttlSeconds);
  }

  async create(job: Job): Promise<void> {
    const r = jobSchema.parse(job);
    const keys = [this.keys.job(r.id), this.keys.recent()];
    if (r.ownerId !== null) keys.push(this.keys.owner(r.ownerId));
    if (!isTerminal(r.status)) keys.push(this.keys.unfinished());
    const args = [
      JSON.stringify(r),
      r.seq,
      r.ownerId ?? "",
      r.createdAt,
      r.id,
      this.ttlSeconds,
      r.share?.token ?? "",
      this.prefix,
    ];
    if ((await this.script(CREATE, keys, args)) !== 1) throw new Error(`Job ${r.id} already exists`);
  }

  async get(id: string): Promise<Job | null> {
    const data = await this.cmd("HGET", this.keys.job(id), "data");
    if (data === null) return null;
    // There, but not readable: an error, never "no such job" (nothing may be deleted or answered "unknown" for it).
    const job = parseJob(data, this.keys.job(id));
    if (!job) throw new UnreadableRecordError(`job ${id}`);
    return job;
  }

  async findShared(token: string): Promise<Job | null> {
    if (!SHARE_TOKEN_PATTERN.test(token)) return null;
    const id = await this.cmd("GET", `${this.prefix}share:${token}`);
    const job = id === null ? null : await this.get(String(id));
    return job?.share?.token === token ? job : null;
  }

  /** In-process updates of one id queue up; other instances are handled by compare-and-set. */
  update(id: string, fn: (job: Job) => Job | null): Promise<UpdateResult | null> {
    const previous = this.queues.get(id) ?? Promise.resolve();
    const context = {
      get: (jobId: string) => this.get(jobId),
      script: this.script,
      keys: this.keys,
      prefix: this.prefix,
      ttlSeconds: this.ttlSeconds,
    };
    const run = previous.then(() => compareAndSet(context, id, fn));
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => this.queues.get(id) === tail && this.queues.delete(id));
    return run;
  }

  async delete(id: string): Promise<boolean> {
    return (
      (await this.script(
        DELETE,
        [this.keys.job(id), this.keys.recent(), this.keys.unfinished()],
        [this.prefix, id],
      )) === 1
    );
  }

  async listByOwner(ownerId: string, opts: { limit: number; cursor?: string | null }): Promise<JobPage> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) return { jobs: [], nextCursor: null };
    return this.page(this.keys.owner(ownerId), opts.limit, after);
  }

  async listRecent(limit: number): Promise<Job[]> {
    return (await this.page(this.keys.recent(), limit, null)).jobs;
  }

  async listUnfinished(limit: number): Promise<Job[]> {
    return (await this.page(this.keys.unfinished(), limit, null)).jobs;
  }

  async setOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return (await this.cmd("SET", `${this.prefix}once:${key}`, "1", "NX", "EX", ttlSeconds)) !== null;
  }

  async forget(key: string): Promise<void> {
    await this.cmd("DEL", `${this.prefix}once:${key}`);
  }

  async increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    const reply = (await this.script(INCREMENT, [`${this.prefix}count:${key}`], [windowSeconds])) as number[];
    return { count: Number(reply[0]), resetInSeconds: Number(reply[1]) };
  }

  async decrement(key: string): Promise<void> {
    await this.script(DECREMENT, [`${this.prefix}count:${key}`], []);
  }

  async getOrCreateSecret(name: string, fresh: string): Promise<string> {
    const key = `${this.prefix}secret:${name}`;
    if ((await this.cmd("SET", key, fresh, "NX")) !== null) return fresh;
    return String(await this.cmd("GET", key));
  }

  subscribe(id: string, onChange: (job: Job) => void, knownSeq?: () => number): () => void {
    return this.watcher.subscribe(id, onChange, knownSeq);
  }

  async ping(): Promise<void> {
    await this.cmd("PING");
  }

  async sweep(now: number): Promise<number> {
    const cutoff = now - this.ttlSeconds * 1000;
    let removed = 0;
    for (;;) {
      const reply = (await this.script(
        SWEEP,
        [this.keys.recent(), this.keys.unfinished()],
        [this.prefix, cutoff, SWEEP_BATCH],
      )) as number[];
      removed += Number(reply[1]);
      if (Number(reply[0]) < SWEEP_BATCH) return removed;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
    await this.redis.close();
  }

  private page(key: string, limit: number, after: { createdAt: number; id: string } | null): Promise<JobPage> {
    return listPage(this.script, this.prefix, this.keys, key, limit, after);
  }

  private cmd(command: string, ...args: RedisArg[]): Promise<unknown> {
    this.stats.commands++;
    return this.redis.call(command, ...args);
  }
}
