import type { Job } from "@/lib/core/job";
import type { JobQueue } from "@/lib/store/queue";

/**
 * The job store: one interface, three backends (embedded files, Redis over TCP,
 * Upstash/Vercel KV over REST). Callers never know which backend is live.
 */
export type UpdateResult = { job: Job; changed: boolean };

export type JobPage = { jobs: Job[]; nextCursor: string | null };

export interface JobStore {
  readonly kind: "embedded" | "redis" | "upstash";
  /** Backend commands issued so far (Redis commands, or file reads/writes), for the benchmark. */
  readonly stats: { commands: number };
  /** Stores a new job and adds it to the recent and per-owner indexes. Fails if the id exists. */
  create(job: Job): Promise<void>;
  get(id: string): Promise<Job | null>;
  /**
   * Atomic read-modify-write. `fn` gets the current record and returns the next one, or null
   * for "no change". Concurrent updates of one job are serialised (optimistic compare-and-set
   * on `seq` with retry, or a lock): two events applied at the same moment lose nothing.
   * The store itself increments `seq` and sets `updatedAt` when a change is written, and then
   * notifies subscribers. Returns null when the job does not exist.
   */
  update(id: string, fn: (job: Job) => Job | null): Promise<UpdateResult | null>;
  /**
   * The job whose current share has this token (an index kept with the record: set when a share
   * is made, removed when it is turned off, or the job deleted or expired); null otherwise.
   */
  findShared(token: string): Promise<Job | null>;
  /** Removes the record and its index entries. Returns false when it did not exist. */
  delete(id: string): Promise<boolean>;
  /** Jobs of one owner, newest first. `cursor` is opaque. */
  listByOwner(ownerId: string, opts: { limit: number; cursor?: string | null }): Promise<JobPage>;
  /** The most recent jobs of everyone, newest first (for operations and resume sweeps). */
  listRecent(limit: number): Promise<Job[]>;
  /**
   * Jobs that have not ended (queued, starting, processing), newest first, at most `limit`: what
   * the sweeper reconciles. One query on an index kept by create, update and delete, not a scan.
   */
  listUnfinished(limit: number): Promise<Job[]>;
  /**
   * Remembers a key for `ttlSeconds` if it is not already there. Returns true when this call
   * set it (first time), false when it already existed. Used for webhook dedupe and locks.
   */
  setOnce(key: string, ttlSeconds: number): Promise<boolean>;
  /** Forgets a key set by setOnce (to release a lock or undo a dedupe mark after a failure). */
  forget(key: string): Promise<void>;
  /**
   * Adds 1 to a counter that lives `windowSeconds` from its first increment; returns the new
   * value and the seconds left in the window. Used for rate limits and budgets.
   */
  increment(key: string, windowSeconds: number): Promise<{ count: number; resetInSeconds: number }>;
  /** Subtracts 1 from a counter made by increment (never below 0); a counter back at 0 is removed. */
  decrement(key: string): Promise<void>;
  /** A named secret shared by all instances: returns the stored one, or stores `fresh`. */
  getOrCreateSecret(name: string, fresh: string): Promise<string>;
  /**
   * Calls `onChange` with the new record after every change to job `id`, from any instance the
   * backend can hear (an in-process emitter, Redis pub/sub, Upstash's REST subscribe stream).
   * Returns an unsubscribe function.
   *
   * `knownSeq` tells the store which seq the listener already has (-1 while it does not know
   * yet), so that a record the listener may have missed can be sent again once a pub/sub
   * subscription is (back) in place. Records are sent at most once per seq to a listener without
   * `knownSeq`; with it, the listener ignores any record whose seq it already has.
   */
  subscribe(id: string, onChange: (job: Job) => void, knownSeq?: () => number): () => void;
  /** The line of jobs waiting for a slot (lib/store/queue.ts), kept atomically by this backend. */
  readonly queue: JobQueue;
  /** Throws when the backend is unreachable. */
  ping(): Promise<void>;
  /** Deletes jobs older than the retention period (and expired marks and counters); returns how many jobs went. */
  sweep(now: number): Promise<number>;
  /**
   * How many records this store found unreadable and set aside (or, for what must never be
   * replaced, such as a secret, left in place), for /api/health. Only backends that can hold a
   * torn or corrupt record of their own have it (the embedded store).
   */
  unreadableRecords?(): Promise<number>;
  close(): Promise<void>;
}

/**
 * The digest of a StoreUnavailableError. When a server component throws, Next.js hands the error
 * boundary (app/error.tsx) no message in production, only a digest, and it keeps an error's own
 * digest instead of hashing one: that is how the page tells "store unreachable" from a bug.
 */
export const STORE_UNAVAILABLE_DIGEST = "P2V_STORE_UNAVAILABLE";

/** Seconds to wait before trying again while the store is unreachable: the APIs' Retry-After and the pages' retry. */
export const STORE_RETRY_SECONDS = 5;

export class StoreUnavailableError extends Error {
  readonly digest = STORE_UNAVAILABLE_DIGEST;

  constructor(cause: unknown) {
    super("The job store is unreachable", { cause });
    this.name = "StoreUnavailableError";
  }
}

/** The digest of an UnreadableRecordError, for the error boundary (see STORE_UNAVAILABLE_DIGEST). */
export const UNREADABLE_RECORD_DIGEST = "P2V_UNREADABLE_RECORD";

/**
 * A record exists but cannot be read (a corrupt or truncated file, a record this version cannot
 * parse). It is not an absent record: nothing may be deleted, replaced or answered "unknown"
 * because of it. The store has set the file aside (or left it in place) and logged where.
 */
export class UnreadableRecordError extends Error {
  readonly digest = UNREADABLE_RECORD_DIGEST;

  constructor(
    /** What could not be read, e.g. `job <id>` or `secret session`. */
    readonly record: string,
    cause?: unknown,
  ) {
    super(`The stored ${record} cannot be read; it was set aside and nothing was deleted`, { cause });
    this.name = "UnreadableRecordError";
  }
}

/**
 * Whether `error` is a StoreUnavailableError or an UnreadableRecordError. Told by the digest, not
 * `instanceof`: the server's bundles (instrumentation, each route, the pages) are separate module
 * graphs in one process sharing one store, so the store's errors may come from another copy of
 * these classes; and the error boundary sees only the digest.
 */
export function isStoreUnavailable(error: unknown): boolean {
  return hasDigest(error, STORE_UNAVAILABLE_DIGEST);
}

/** See isStoreUnavailable. */
export function isUnreadableRecord(error: unknown): error is Error & { record?: string } {
  return hasDigest(error, UNREADABLE_RECORD_DIGEST);
}

function hasDigest(error: unknown, digest: string): boolean {
  return typeof error === "object" && error !== null && "digest" in error && error.digest === digest;
}
