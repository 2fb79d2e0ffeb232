import { EventEmitter } from "node:events";
import { mkdir, readFile, readdir, stat } from "node:fs/promises";
import path from "node:path";
import { env } from "@/lib/env";
import { isTerminal, JOB_ID_PATTERN, jobSchema, SHARE_TOKEN_PATTERN, type Job } from "@/lib/core/job";
import { log } from "@/lib/log";
import { decodeCursor, encodeCursor } from "@/lib/store/cursor";
import { DAY_MS, stampUpdate } from "@/lib/store/stamp";
import { isStaleTemp, removeFileDurable, writeFileDurable } from "@/lib/store/durable-file";
import { EmbeddedKeys } from "@/lib/store/embedded-keys";
import { EmbeddedQueue } from "@/lib/store/embedded-queue";
import { KeyedQueue } from "@/lib/store/keyed-queue";
import { Quarantine } from "@/lib/store/quarantine";
import {
  isUnreadableRecord,
  UnreadableRecordError,
  type JobPage,
  type JobStore,
  type UpdateResult,
} from "@/lib/store/types";

/** Job files whose validated record is kept in memory (the most recently read). */
const TEXT_CACHE_SIZE = 2000;

type Entry = { id: string; createdAt: number; ownerId: string | null; shareToken: string | null };
type Index = {
  byId: Map<string, Entry>;
  recent: Entry[];
  byOwner: Map<string, Entry[]>;
  unfinished: Entry[];
  byShare: Map<string, string>;
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

/**
 * Files under one directory, for a single Node process (its locks and index are in memory; the
 * server takes the directory's lock at start, see data-dir-lock.ts):
 * - `jobs/<id>.json`, one record per job; the indexes are built from them at start.
 * - `secrets/`, `marks/`, `counters/`: the small keys, one file each (embedded-keys.ts).
 * - `queue.json`: the line of jobs waiting for a slot (embedded-queue.ts).
 * - `quarantine/`: files that could not be read, set aside (quarantine.ts).
 * Every write is atomic and durable (durable-file.ts). A record that cannot be read is never
 * taken for an absent one: reading it throws UnreadableRecordError.
 */
export class EmbeddedStore implements JobStore {
  readonly kind = "embedded" as const;
  readonly stats = { commands: 0 };
  private readonly dir: string;
  private readonly jobsDir: string;
  private readonly retentionDays: number;
  private readonly events = new EventEmitter().setMaxListeners(0);
  private readonly serial = new KeyedQueue();
  /** The line of waiting jobs: `queue.json` (embedded-queue.ts). */
  readonly queue: EmbeddedQueue;
  private readonly quarantine: Quarantine;
  private readonly keys: EmbeddedKeys;
  private indexPromise: Promise<Index> | null = null;
  /** Ids whose job file was set aside: reading them is an error, not "no such job". */
  private quarantinedJobs: Promise<Set<string>> | null = null;
  /** Ids whose job file is in place but not a record this version can read. */
  private readonly invalidJobs = new Set<string>();
  /**
   * The validated record (as JSON) of recently read job files, by id, with the identity of the
   * file it came from (inode, change time, size). A read whose file is unchanged costs one `stat`
   * and a JSON.parse instead of opening and reading the file and validating it again (the status
   * route reads a job on every request). Every write replaces the file by a rename: a new inode.
   */
  private readonly texts = new Map<string, { ino: bigint; mtimeNs: bigint; size: bigint; text: string }>();

  constructor(opts: EmbeddedStoreOptions = {}) {
    this.dir = path.resolve(/*turbopackIgnore: true*/ opts.dir ?? env().DATA_DIR);
    this.jobsDir = path.join(this.dir, "jobs");
    this.retentionDays = opts.retentionDays ?? env().JOB_RETENTION_DAYS;
    this.quarantine = new Quarantine(this.dir);
    this.keys = new EmbeddedKeys(this.dir, this.serial, this.quarantine, () => void this.stats.commands++);
    this.queue = new EmbeddedQueue(path.join(this.dir, "queue.json"), this.serial, () => void this.stats.commands++);
  }

  async create(job: Job): Promise<void> {
    const record = jobSchema.parse(job);
    await this.locked(record.id, async () => {
      const index = await this.index();
      if (index.byId.has(record.id)) throw new Error(`Job ${record.id} already exists`);
      await this.write(this.jobPath(record.id), JSON.stringify(record));
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
      await this.write(this.jobPath(id), JSON.stringify(written));
      if (
        written.createdAt !== current.createdAt ||
        written.ownerId !== current.ownerId ||
        isTerminal(written.status) !== isTerminal(current.status) ||
        written.share?.token !== current.share?.token
      ) {
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
      this.texts.delete(id);
      this.stats.commands++;
      return removeFileDurable(this.jobPath(id));
    });
  }

  async findShared(token: string): Promise<Job | null> {
    if (!SHARE_TOKEN_PATTERN.test(token)) return null;
    const id = (await this.index()).byShare.get(token);
    const job = id ? await this.readJob(id) : null;
    return job?.share?.token === token ? job : null;
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
    return this.keys.setOnce(key, ttlSeconds);
  }

  forget(key: string): Promise<void> {
    return this.keys.forget(key);
  }

  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }> {
    return this.keys.increment(key, windowSeconds);
  }

  decrement(key: string): Promise<void> {
    return this.keys.decrement(key);
  }

  getOrCreateSecret(name: string, fresh: string): Promise<string> {
    return this.keys.getOrCreateSecret(name, fresh);
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
    await this.keys.prune(now);
    return removed;
  }

  async unreadableRecords(): Promise<number> {
    return (await this.quarantine.count()) + this.invalidJobs.size + this.keys.unreadableSecretCount();
  }

  async close(): Promise<void> {
    await this.serial.idle();
    this.events.removeAllListeners();
  }

  private jobPath(id: string): string {
    return path.join(this.jobsDir, `${id}.json`);
  }

  /** Serialises work per job: each call runs after the previous one settled. */
  private locked<T>(id: string, work: () => Promise<T>): Promise<T> {
    return this.serial.run(`job\n${id}`, work);
  }

  private write(file: string, text: string): Promise<void> {
    this.stats.commands++;
    return writeFileDurable(file, text);
  }

  private quarantinedJobIds(): Promise<Set<string>> {
    this.quarantinedJobs ??= this.quarantine.names("jobs").catch((error: unknown) => {
      this.quarantinedJobs = null;
      throw error;
    });
    return this.quarantinedJobs;
  }

  /** The job; null only when there is no record of it at all. */
  private async readJob(id: string): Promise<Job | null> {
    if (!JOB_ID_PATTERN.test(id)) return null;
    const job = await this.readJobFile(id);
    if (job === null && (await this.quarantinedJobIds()).has(id)) throw new UnreadableRecordError(`job ${id}`);
    return job;
  }

  /** The job file's record, or null when there is no file; a file that cannot be read throws. */
  private async readJobFile(id: string): Promise<Job | null> {
    const file = this.jobPath(id);
    this.stats.commands++;
    let text: string;
    let fileId: { ino: bigint; mtimeNs: bigint; size: bigint };
    try {
      const st = await stat(file, { bigint: true });
      fileId = { ino: st.ino, mtimeNs: st.mtimeNs, size: st.size };
      const known = this.texts.get(id);
      if (known && known.ino === st.ino && known.mtimeNs === st.mtimeNs && known.size === st.size)
        return JSON.parse(known.text) as Job;
      this.texts.delete(id);
      text = await readFile(file, "utf8");
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT") {
        this.texts.delete(id);
        return null;
      }
      throw err;
    }
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      // Torn or corrupt: moved aside, so that it is kept as it is and not read again and again.
      const movedTo = await this.quarantine.setAside("jobs", file);
      (await this.quarantinedJobIds()).add(id);
      log.error(
        { jobId: id, file, movedTo, err: (err as Error).message },
        "store: an unreadable job file was set aside in quarantine",
      );
      throw new UnreadableRecordError(`job ${id}`, err);
    }
    const parsed = jobSchema.safeParse(data);
    if (parsed.success) {
      this.invalidJobs.delete(id);
      // The record as validated (unknown fields dropped, defaults filled), so that a cached read
      // returns the same. A write between the stat and the read only makes the next stat differ.
      if (this.texts.size >= TEXT_CACHE_SIZE) this.texts.delete(this.texts.keys().next().value!);
      this.texts.set(id, { ...fileId, text: JSON.stringify(parsed.data) });
      return parsed.data;
    }
    // Whole JSON, but not a record this version can read (another version's?): left where it is.
    if (!this.invalidJobs.has(id))
      log.error(
        { jobId: id, file, err: parsed.error.message },
        "store: a job file is not a record this version can read; it is left as it is",
      );
    this.invalidJobs.add(id);
    throw new UnreadableRecordError(`job ${id}`, parsed.error);
  }

  /** Up to `limit` readable jobs from `start`; unreadable ones are skipped (and reported where they are read). */
  private async readFrom(list: Entry[], start: number, limit: number): Promise<{ jobs: Job[]; end: number }> {
    const jobs: Job[] = [];
    let i = start;
    for (; i < list.length && jobs.length < limit; i++) {
      const job = await this.readJob(list[i]!.id).catch((err: unknown) => {
        if (isUnreadableRecord(err)) return null;
        throw err;
      });
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
    const index: Index = { byId: new Map(), recent: [], byOwner: new Map(), unfinished: [], byShare: new Map() };
    for (const name of names) {
      const file = path.join(this.jobsDir, name);
      if (isStaleTemp(file)) {
        await removeFileDurable(file); // left by a crash mid-write
        continue;
      }
      const id = name.endsWith(".json") ? name.slice(0, -5) : "";
      if (!JOB_ID_PATTERN.test(id)) continue;
      const job = await this.readJobFile(id).catch((err: unknown) => {
        if (isUnreadableRecord(err)) return null;
        throw err;
      });
      if (job) this.addToIndex(index, job);
    }
    return index;
  }

  private addToIndex(index: Index, job: Job): void {
    const entry: Entry = {
      id: job.id,
      createdAt: job.createdAt,
      ownerId: job.ownerId,
      shareToken: job.share?.token ?? null,
    };
    index.byId.set(job.id, entry);
    if (entry.shareToken !== null) index.byShare.set(entry.shareToken, job.id);
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
    if (entry.shareToken !== null) index.byShare.delete(entry.shareToken);
    remove(index.recent, id);
    remove(index.unfinished, id);
    if (entry.ownerId === null) return;
    const list = index.byOwner.get(entry.ownerId);
    remove(list, id);
    if (list?.length === 0) index.byOwner.delete(entry.ownerId);
  }
}
