import { EventEmitter } from "node:events";
import { randomBytes } from "node:crypto";
import { mkdir, readFile, readdir, rename, rm, unlink, writeFile } from "node:fs/promises";
import path from "node:path";
import { env } from "@/lib/env";
import { isTerminal, JOB_ID_PATTERN, jobSchema, type Job } from "@/lib/jobs/schema";
import { log } from "@/lib/log";
import type { JobPage, JobStore, UpdateResult } from "@/lib/store/types";

export const DAY_MS = 86_400_000;

/** Opaque page cursor shared by all backends: the last returned job's createdAt and id. */
export function encodeCursor(createdAt: number | string, id: string): string {
  return Buffer.from(`${createdAt}\n${id}`).toString("base64url");
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } | null {
  const [score, id, extra] = Buffer.from(cursor, "base64url").toString().split("\n");
  const createdAt = Number(score);
  if (extra !== undefined || !id || !JOB_ID_PATTERN.test(id) || !score || !Number.isFinite(createdAt)) return null;
  return { createdAt, id };
}

/** The record to write for `next`: the store owns id, seq and updatedAt (strictly increasing). */
export function stampUpdate(current: Job, next: Job): Job {
  return jobSchema.parse({
    ...next,
    id: current.id,
    seq: current.seq + 1,
    updatedAt: Math.max(Date.now(), current.updatedAt + 1),
  });
}

type Entry = { id: string; createdAt: number; ownerId: string | null };
type Index = { byId: Map<string, Entry>; recent: Entry[]; byOwner: Map<string, Entry[]>; unfinished: Entry[] };
type Kv = {
  once: Record<string, number>;
  counters: Record<string, { count: number; resetAt: number }>;
  secrets: Record<string, string>;
};

/** Newest first; equal createdAt ordered by id descending (as Redis sorted sets do). */
function compare(a: { createdAt: number; id: string }, b: { createdAt: number; id: string }): number {
  return b.createdAt - a.createdAt || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0);
}

/** First position whose entry sorts after `probe`. */
function firstAfter(list: Entry[], probe: { createdAt: number; id: string }): number {
  let lo = 0;
  let hi = list.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (compare(list[mid]!, probe) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function remove(list: Entry[] | undefined, id: string): void {
  const i = list?.findIndex((e) => e.id === id) ?? -1;
  if (i >= 0) list!.splice(i, 1);
}

export type EmbeddedStoreOptions = { dir?: string; retentionDays?: number };

/** Files under one directory; meant for a single Node process (locks are in-process). */
export class EmbeddedStore implements JobStore {
  readonly kind = "embedded" as const;
  readonly stats = { commands: 0 };
  private readonly dir: string;
  private readonly jobsDir: string;
  private readonly retentionDays: number;
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly locks = new Map<string, Promise<unknown>>();
  private indexPromise: Promise<Index> | null = null;
  private kv: Kv | null = null;

  constructor(opts: EmbeddedStoreOptions = {}) {
    this.dir = path.resolve(/*turbopackIgnore: true*/ opts.dir ?? env().DATA_DIR);
    this.jobsDir = path.join(this.dir, "jobs");
    this.retentionDays = opts.retentionDays ?? env().JOB_RETENTION_DAYS;
  }

  async create(job: Job): Promise<void> {
    const record = jobSchema.parse(job);
    await this.locked(record.id, async () => {
      const index = await this.index();
      if (index.byId.has(record.id)) throw new Error(`Job ${record.id} already exists`);
      await this.writeAtomic(this.jobPath(record.id), JSON.stringify(record));
      this.addToIndex(index, record);
    });
  }

  get(id: string): Promise<Job | null> {
    return this.readJob(id);
  }

  update(id: string, fn: (job: Job) => Job | null): Promise<UpdateResult | null> {
    return this.locked(id, async () => {
      const current = await this.readJob(id);
      if (!current) return null;
      const next = fn(current);
      if (next === null) return { job: current, changed: false };
      const written = stampUpdate(current, next);
      await this.writeAtomic(this.jobPath(id), JSON.stringify(written));
      if (written.createdAt !== current.createdAt || written.ownerId !== current.ownerId || isTerminal(written.status) !== isTerminal(current.status)) {
        const index = await this.index();
        this.removeFromIndex(index, id);
        this.addToIndex(index, written);
      }
      this.events.emit(id, written);
      return { job: written, changed: true };
    });
  }

  delete(id: string): Promise<boolean> {
    if (!JOB_ID_PATTERN.test(id)) return Promise.resolve(false);
    return this.locked(id, async () => {
      const index = await this.index();
      this.removeFromIndex(index, id);
      this.stats.commands++;
      try {
        await unlink(this.jobPath(id));
        return true;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw err;
      }
    });
  }

  async listByOwner(ownerId: string, opts: { limit: number; cursor?: string | null }): Promise<JobPage> {
    const list = (await this.index()).byOwner.get(ownerId) ?? [];
    let start = 0;
    if (opts.cursor) {
      const after = decodeCursor(opts.cursor);
      if (!after) return { jobs: [], nextCursor: null };
      start = firstAfter(list, after);
    }
    const { jobs, end } = await this.readFrom(list, start, opts.limit);
    const last = jobs[jobs.length - 1];
    return { jobs, nextCursor: last && end < list.length ? encodeCursor(last.createdAt, last.id) : null };
  }

  async listRecent(limit: number): Promise<Job[]> {
    return (await this.readFrom((await this.index()).recent, 0, limit)).jobs;
  }

  async listUnfinished(limit: number): Promise<Job[]> {
    return (await this.readFrom((await this.index()).unfinished, 0, limit)).jobs;
  }

  setOnce(key: string, ttlSeconds: number): Promise<boolean> {
    return this.withKv((kv, now) => {
      if ((kv.once[key] ?? 0) > now) return { result: false, dirty: false };
      kv.once[key] = now + ttlSeconds * 1000;
      return { result: true, dirty: true };
    });
  }

  forget(key: string): Promise<void> {
    return this.withKv((kv) => {
      const dirty = key in kv.once;
      delete kv.once[key];
      return { result: undefined, dirty };
    });
  }

  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    return this.withKv((kv, now) => {
      const live = kv.counters[key];
      const counter = live && live.resetAt > now ? live : { count: 0, resetAt: now + windowSeconds * 1000 };
      counter.count++;
      kv.counters[key] = counter;
      const resetInSeconds = Math.ceil((counter.resetAt - now) / 1000);
      return { result: { count: counter.count, resetInSeconds }, dirty: true };
    });
  }

  decrement(key: string): Promise<void> {
    return this.withKv((kv, now) => {
      const counter = kv.counters[key];
      if (!counter || counter.resetAt <= now || counter.count <= 0) return { result: undefined, dirty: false };
      counter.count--;
      // A counter back at 0 counts nothing: gone, so that a refused request leaves nothing behind.
      if (counter.count === 0) delete kv.counters[key];
      return { result: undefined, dirty: true };
    });
  }

  getOrCreateSecret(name: string, fresh: string): Promise<string> {
    return this.withKv((kv) => {
      const stored = kv.secrets[name];
      if (stored !== undefined) return { result: stored, dirty: false };
      kv.secrets[name] = fresh;
      return { result: fresh, dirty: true };
    });
  }

  subscribe(id: string, onChange: (job: Job) => void): () => void {
    this.events.on(id, onChange);
    return () => void this.events.off(id, onChange);
  }

  async ping(): Promise<void> {
    await mkdir(this.jobsDir, { recursive: true });
  }

  async sweep(now: number): Promise<number> {
    const cutoff = now - this.retentionDays * DAY_MS;
    const old = (await this.index()).recent.filter((e) => e.createdAt < cutoff);
    let removed = 0;
    for (const entry of old) if (await this.delete(entry.id)) removed++;
    await this.withKv(() => ({ result: undefined, dirty: true })); // rewriting prunes expired keys
    return removed;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.locks.values()]);
    this.events.removeAllListeners();
  }

  private jobPath(id: string): string {
    return path.join(this.jobsDir, `${id}.json`);
  }

  /** Serialises work per key: each call runs after the previous one settled. */
  private locked<T>(key: string, work: () => Promise<T>): Promise<T> {
    const previous = this.locks.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.catch(() => undefined);
    this.locks.set(key, tail);
    void tail.then(() => this.locks.get(key) === tail && this.locks.delete(key));
    return run;
  }

  private async writeAtomic(file: string, text: string): Promise<void> {
    const temp = `${file}.${randomBytes(6).toString("hex")}.tmp`;
    this.stats.commands++;
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(temp, text);
    await rename(temp, file);
  }

  private async readJob(id: string): Promise<Job | null> {
    if (!JOB_ID_PATTERN.test(id)) return null;
    const file = this.jobPath(id);
    this.stats.commands++;
    let text: string;
    try {
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw err;
    }
    try {
      return jobSchema.parse(JSON.parse(text));
    } catch (err) {
      log.warn({ file, err: (err as Error).message }, "store: skipping an unreadable job file");
      return null;
    }
  }

  private async readFrom(list: Entry[], start: number, limit: number): Promise<{ jobs: Job[]; end: number }> {
    const jobs: Job[] = [];
    let i = start;
    for (; i < list.length && jobs.length < limit; i++) {
      const job = await this.readJob(list[i]!.id);
      if (job) jobs.push(job);
    }
    return { jobs, end: i };
  }

  private index(): Promise<Index> {
    this.indexPromise ??= this.loadIndex().catch((err: unknown) => {
      this.indexPromise = null;
      throw err;
    });
    return this.indexPromise;
  }

  private async loadIndex(): Promise<Index> {
    await mkdir(this.jobsDir, { recursive: true });
    this.stats.commands++;
    const names = await readdir(this.jobsDir);
    const index: Index = { byId: new Map(), recent: [], byOwner: new Map(), unfinished: [] };
    for (const name of names) {
      if (name.endsWith(".tmp")) {
        await rm(path.join(this.jobsDir, name), { force: true }); // left by a crash mid-write
        continue;
      }
      const id = name.endsWith(".json") ? name.slice(0, -5) : "";
      const job = id ? await this.readJob(id) : null;
      if (job) this.addToIndex(index, job);
    }
    return index;
  }

  private addToIndex(index: Index, job: Job): void {
    const entry: Entry = { id: job.id, createdAt: job.createdAt, ownerId: job.ownerId };
    index.byId.set(job.id, entry);
    index.recent.splice(firstAfter(index.recent, entry), 0, entry);
    if (!isTerminal(job.status)) index.unfinished.splice(firstAfter(index.unfinished, entry), 0, entry);
    if (entry.ownerId === null) return;
    const list = index.byOwner.get(entry.ownerId) ?? [];
    list.splice(firstAfter(list, entry), 0, entry);
    index.byOwner.set(entry.ownerId, list);
  }

  private removeFromIndex(index: Index, id: string): void {
    const entry = index.byId.get(id);
    if (!entry) return;
    index.byId.delete(id);
    remove(index.recent, id);
    remove(index.unfinished, id);
    if (entry.ownerId === null) return;
    const list = index.byOwner.get(entry.ownerId);
    remove(list, id);
    if (list?.length === 0) index.byOwner.delete(entry.ownerId);
  }

  /** Small keys live in one kv.json, loaded once, rewritten atomically when changed. */
  private withKv<T>(work: (kv: Kv, now: number) => { result: T; dirty: boolean }): Promise<T> {
    return this.locked("\0kv", async () => {
      const file = path.join(this.dir, "kv.json");
      this.kv ??= await this.loadKv(file);
      const now = Date.now();
      const { result, dirty } = work(this.kv, now);
      if (dirty) {
        const kv = this.kv;
        for (const [k, expiresAt] of Object.entries(kv.once)) if (expiresAt <= now) delete kv.once[k];
        for (const [k, c] of Object.entries(kv.counters)) if (c.resetAt <= now) delete kv.counters[k];
        await this.writeAtomic(file, JSON.stringify(kv));
      }
      return result;
    });
  }

  private async loadKv(file: string): Promise<Kv> {
    const empty: Kv = { once: {}, counters: {}, secrets: {} };
    this.stats.commands++;
    try {
      const parsed = JSON.parse(await readFile(file, "utf8")) as Partial<Kv>;
      return { ...empty, ...parsed };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") log.warn({ file, err: (err as Error).message }, "store: ignoring an unreadable file");
      return empty;
    }
  }
}
