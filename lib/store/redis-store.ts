import { createHash } from "node:crypto";
import { env } from "@/lib/env";
import { isTerminal, jobSchema, SHARE_TOKEN_PATTERN, type Job } from "@/lib/core/job";
import { log } from "@/lib/log";
import { decodeCursor, encodeCursor } from "@/lib/store/cursor";
import { DAY_MS, stampUpdate } from "@/lib/store/stamp";
import { UnreadableRecordError, type JobPage, type JobStore, type UpdateResult } from "@/lib/store/types";
import type { JobQueue } from "@/lib/store/queue";
import { redisQueue } from "@/lib/store/redis-queue";
import type { RedisArg, RedisCommands } from "@/lib/store/redis-commands";

export type RedisJobStoreOptions = {
  kind: "redis" | "upstash";
  /** Namespace for every key, so several apps or test runs can share one database. */
  prefix?: string;
  retentionDays?: number;
};

// Stored layout: hash <prefix>job:<id> { data: JSON, seq, owner, createdAt, share }; sorted sets
// (score createdAt) <prefix>jobs:recent, <prefix>owner:<owner> and <prefix>jobs:unfinished (jobs not
// ended); and while a job is shared, string <prefix>share:<token> = <id> with the same lifetime.
const CREATE = `
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[1], 'seq', ARGV[2], 'owner', ARGV[3], 'createdAt', ARGV[4], 'share', ARGV[7])
redis.call('EXPIRE', KEYS[1], ARGV[6])
if ARGV[7] ~= '' then redis.call('SET', ARGV[8] .. 'share:' .. ARGV[7], ARGV[5], 'EX', ARGV[6]) end
for i = 2, #KEYS do
  redis.call('ZADD', KEYS[i], ARGV[4], ARGV[5])
  redis.call('EXPIRE', KEYS[i], ARGV[6])
end
return 1`;

// Compare-and-set on seq; re-indexes only when owner or createdAt changed. The share index follows
// the share token: the old one's key goes, the new one's is set (and kept alive with the record).
const UPDATE = `
local cur = redis.call('HMGET', KEYS[1], 'seq', 'owner', 'createdAt', 'share')
if not cur[1] then return -1 end
if cur[1] ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], 'data', ARGV[2], 'seq', ARGV[3], 'owner', ARGV[4], 'createdAt', ARGV[5], 'share', ARGV[10])
redis.call('EXPIRE', KEYS[1], ARGV[6])
local oldShare = cur[4] or ''
if oldShare ~= '' and oldShare ~= ARGV[10] then redis.call('DEL', ARGV[8] .. 'share:' .. oldShare) end
if ARGV[10] ~= '' then redis.call('SET', ARGV[8] .. 'share:' .. ARGV[10], ARGV[7], 'EX', ARGV[6]) end
if cur[2] ~= ARGV[4] or cur[3] ~= ARGV[5] then
  if cur[2] and cur[2] ~= '' then redis.call('ZREM', ARGV[8] .. 'owner:' .. cur[2], ARGV[7]) end
  if ARGV[4] ~= '' then
    redis.call('ZADD', ARGV[8] .. 'owner:' .. ARGV[4], ARGV[5], ARGV[7])
    redis.call('EXPIRE', ARGV[8] .. 'owner:' .. ARGV[4], ARGV[6])
  end
  redis.call('ZADD', KEYS[2], ARGV[5], ARGV[7])
end
if ARGV[9] == '1' then
  redis.call('ZADD', KEYS[3], ARGV[5], ARGV[7])
  redis.call('EXPIRE', KEYS[3], ARGV[6])
else
  redis.call('ZREM', KEYS[3], ARGV[7])
end
redis.call('PUBLISH', KEYS[1] .. ':events', ARGV[2])
return 1`;

const DELETE = `
local cur = redis.call('HMGET', KEYS[1], 'owner', 'share')
local owner = cur[1]
if owner and owner ~= '' then redis.call('ZREM', ARGV[1] .. 'owner:' .. owner, ARGV[2]) end
if cur[2] and cur[2] ~= '' then redis.call('DEL', ARGV[1] .. 'share:' .. cur[2]) end
redis.call('ZREM', KEYS[2], ARGV[2])
redis.call('ZREM', KEYS[3], ARGV[2])
return redis.call('DEL', KEYS[1])`;

// Newest first from (score ARGV[2], after id ARGV[3]); returns id, score, data triples and
// drops index entries whose record expired.
const LIST = `
local want, max, after = tonumber(ARGV[4]), ARGV[2], ARGV[3]
local maxNum = tonumber(max)
local out, offset = {}, 0
while #out < want * 3 do
  local rows = redis.call('ZREVRANGEBYSCORE', KEYS[1], max, '-inf', 'WITHSCORES', 'LIMIT', offset, want + 16)
  if #rows == 0 then break end
  offset = offset + #rows / 2
  for i = 1, #rows, 2 do
    local id, score = rows[i], rows[i + 1]
    if not (after ~= '' and tonumber(score) == maxNum and id >= after) then
      local data = redis.call('HGET', ARGV[1] .. 'job:' .. id, 'data')
      if data then
        out[#out + 1] = id; out[#out + 1] = score; out[#out + 1] = data
        if #out >= want * 3 then break end
      else
        redis.call('ZREM', KEYS[1], id)
        offset = offset - 1
      end
    end
  end
end
return out`;

const SWEEP = `
local ids = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', '(' .. ARGV[2], 'LIMIT', 0, tonumber(ARGV[3]))
local removed = 0
for _, id in ipairs(ids) do
  local key = ARGV[1] .. 'job:' .. id
  local cur = redis.call('HMGET', key, 'owner', 'share')
  local owner = cur[1]
  if owner and owner ~= '' then redis.call('ZREM', ARGV[1] .. 'owner:' .. owner, id) end
  if cur[2] and cur[2] ~= '' then redis.call('DEL', ARGV[1] .. 'share:' .. cur[2]) end
  removed = removed + redis.call('DEL', key)
  redis.call('ZREM', KEYS[1], id)
  redis.call('ZREM', KEYS[2], id)
end
return {#ids, removed}`;

const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
local ttl = redis.call('TTL', KEYS[1])
if ttl < 0 then redis.call('EXPIRE', KEYS[1], ARGV[1]); ttl = tonumber(ARGV[1]) end
return {n, ttl}`;

// A counter back at 0 counts nothing: deleted, so that a refused request leaves no key behind.
const DECREMENT = `
local n = tonumber(redis.call('GET', KEYS[1]) or '0')
if n > 1 then return redis.call('DECR', KEYS[1]) end
if n == 1 then redis.call('DEL', KEYS[1]) end
return 0`;

const MAX_UPDATE_TRIES = 20;
const SWEEP_BATCH = 200;

function parseJob(data: unknown, where: string): Job | null {
  try {
    return jobSchema.parse(JSON.parse(String(data)));
  } catch (err) {
    log.error({ key: where, err: (err as Error).message }, "store: an unreadable job record (left as it is)");
    return null;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** The Redis-backed store for both Redis over TCP and Upstash over REST. */
export class RedisJobStore implements JobStore {
  readonly kind: "redis" | "upstash";
  readonly stats = { commands: 0 };
  private readonly prefix: string;
  private readonly ttlSeconds: number;
  readonly queue: JobQueue;
  private readonly shas = new Map<string, string>();
  private readonly queues = new Map<string, Promise<unknown>>();
  /** Re-reads after a pub/sub (re)subscription, one per job however many listen to it. */
  private readonly resyncs = new Map<string, Promise<Job | null>>();

  constructor(
    private readonly redis: RedisCommands,
    opts: RedisJobStoreOptions,
  ) {
    this.kind = opts.kind;
    this.prefix = opts.prefix ?? "p2v:";
    this.ttlSeconds = Math.round(((opts.retentionDays ?? env().JOB_RETENTION_DAYS) * DAY_MS) / 1000);
    this.queue = redisQueue((source, keys, args) => this.script(source, keys, args), this.prefix, this.ttlSeconds);
  }

  async create(job: Job): Promise<void> {
    const r = jobSchema.parse(job);
    const keys = [this.jobKey(r.id), this.recentKey()];
    if (r.ownerId !== null) keys.push(this.ownerKey(r.ownerId));
    if (!isTerminal(r.status)) keys.push(this.unfinishedKey());
    const args = [JSON.stringify(r), r.seq, r.ownerId ?? "", r.createdAt, r.id, this.ttlSeconds, r.share?.token ?? "", this.prefix];
    if ((await this.script(CREATE, keys, args)) !== 1) throw new Error(`Job ${r.id} already exists`);
  }

  async get(id: string): Promise<Job | null> {
    const data = await this.cmd("HGET", this.jobKey(id), "data");
    if (data === null) return null;
    // There, but not readable: an error, never "no such job" (nothing may be deleted or answered "unknown" for it).
    const job = parseJob(data, this.jobKey(id));
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
    const run = previous.then(() => this.compareAndSet(id, fn));
    const tail = run.catch(() => undefined);
    this.queues.set(id, tail);
    void tail.then(() => this.queues.get(id) === tail && this.queues.delete(id));
    return run;
  }

  async delete(id: string): Promise<boolean> {
    return (await this.script(DELETE, [this.jobKey(id), this.recentKey(), this.unfinishedKey()], [this.prefix, id])) === 1;
  }

  async listByOwner(ownerId: string, opts: { limit: number; cursor?: string | null }): Promise<JobPage> {
    const after = opts.cursor ? decodeCursor(opts.cursor) : null;
    if (opts.cursor && !after) return { jobs: [], nextCursor: null };
    return this.page(this.ownerKey(ownerId), opts.limit, after);
  }

  async listRecent(limit: number): Promise<Job[]> {
    return (await this.page(this.recentKey(), limit, null)).jobs;
  }

  async listUnfinished(limit: number): Promise<Job[]> {
    return (await this.page(this.unfinishedKey(), limit, null)).jobs;
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
    return this.subscribePubSub(id, onChange, knownSeq);
  }

  async ping(): Promise<void> {
    await this.cmd("PING");
  }

  async sweep(now: number): Promise<number> {
    const cutoff = now - this.ttlSeconds * 1000;
    let removed = 0;
    for (;;) {
      const reply = (await this.script(SWEEP, [this.recentKey(), this.unfinishedKey()], [this.prefix, cutoff, SWEEP_BATCH])) as number[];
      removed += Number(reply[1]);
      if (Number(reply[0]) < SWEEP_BATCH) return removed;
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.queues.values()]);
    await this.redis.close();
  }

  private async compareAndSet(id: string, fn: (job: Job) => Job | null): Promise<UpdateResult | null> {
    for (let attempt = 0; attempt < MAX_UPDATE_TRIES; attempt++) {
      const current = await this.get(id);
      if (!current) return null;
      const next = fn(current);
      if (next === null) return { job: current, changed: false };
      const w = stampUpdate(current, next);
      const unfinished = isTerminal(w.status) ? "0" : "1";
      const args = [current.seq, JSON.stringify(w), w.seq, w.ownerId ?? "", w.createdAt, this.ttlSeconds, id, this.prefix, unfinished, w.share?.token ?? ""];
      const result = await this.script(UPDATE, [this.jobKey(id), this.recentKey(), this.unfinishedKey()], args);
      if (result === -1) return null;
      if (result === 1) return { job: w, changed: true };
      await sleep(Math.random() * 2 ** Math.min(attempt, 6));
    }
    throw new Error(`Job ${id} is changing too fast: gave up after ${MAX_UPDATE_TRIES} tries`);
  }

  private async page(key: string, limit: number, after: { createdAt: number; id: string } | null): Promise<JobPage> {
    if (limit <= 0) return { jobs: [], nextCursor: null };
    const max = after ? String(after.createdAt) : "+inf";
    const rows = (await this.script(LIST, [key], [this.prefix, max, after?.id ?? "", limit + 1])) as string[];
    const found = Math.floor(rows.length / 3);
    const jobs: Job[] = [];
    for (let i = 0; i < Math.min(found, limit); i++) {
      const job = parseJob(rows[3 * i + 2], this.jobKey(rows[3 * i]!));
      if (job) jobs.push(job);
    }
    const lastRow = 3 * (limit - 1);
    const nextCursor = found > limit ? encodeCursor(rows[lastRow + 1]!, rows[lastRow]!) : null;
    return { jobs, nextCursor };
  }

  /**
   * Pub/sub delivers changes as they are published. Until a subscription is in place (a Redis
   * subscriber connection coming back; an Upstash stream confirming, also the first time) nothing
   * is delivered, so then the job is read once and sent to the listeners that are behind it.
   */
  private subscribePubSub(id: string, onChange: (job: Job) => void, knownSeq?: () => number): () => void {
    const where = this.jobKey(id);
    let seen = -1;
    const deliver = (job: Job) => {
      seen = Math.max(seen, job.seq);
      onChange(job);
    };
    const onMessage = (message: string) => {
      const job = parseJob(message, where);
      if (job) deliver(job);
    };
    const onResubscribed = () => {
      void this.resync(id).then((job) => {
        // Without knownSeq, a listener that has heard nothing yet has no baseline to compare with.
        const has = knownSeq ? knownSeq() : seen;
        if (job && has >= 0 && job.seq > has) deliver(job);
      });
    };
    return this.redis.subscribe(`${where}:events`, onMessage, onResubscribed);
  }

  private resync(id: string): Promise<Job | null> {
    let pending = this.resyncs.get(id);
    if (!pending) {
      pending = this.get(id)
        .catch((err: unknown) => {
          log.warn({ jobId: id, err: (err as Error).message }, "store: re-reading a watched job after a reconnect failed");
          return null;
        })
        .finally(() => this.resyncs.delete(id));
      this.resyncs.set(id, pending);
    }
    return pending;
  }

  private cmd(command: string, ...args: RedisArg[]): Promise<unknown> {
    this.stats.commands++;
    return this.redis.call(command, ...args);
  }

  /** EVALSHA, loading the script with EVAL when the server does not know it yet. */
  private async script(source: string, keys: string[], args: RedisArg[]): Promise<unknown> {
    let sha = this.shas.get(source);
    if (!sha) this.shas.set(source, (sha = createHash("sha1").update(source).digest("hex")));
    try {
      return await this.cmd("EVALSHA", sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!/NOSCRIPT/i.test((err as Error).message)) throw err;
      return this.cmd("EVAL", source, keys.length, ...keys, ...args);
    }
  }

  private readonly jobKey = (id: string) => `${this.prefix}job:${id}`;
  private readonly recentKey = () => `${this.prefix}jobs:recent`;
  private readonly unfinishedKey = () => `${this.prefix}jobs:unfinished`;
  private readonly ownerKey = (ownerId: string) => `${this.prefix}owner:${ownerId}`;
}
