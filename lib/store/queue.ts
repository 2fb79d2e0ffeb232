/**
 * The line of jobs waiting for a slot, kept by the job store (see docs/queue.md). Every backend
 * implements the same operations atomically: the embedded store on one durable file under an
 * in-process lock, the Redis backends each in one Lua script. The rules live here in words and
 * in `QueueState` (the embedded backend); lib/store/redis-queue.ts repeats them in Lua.
 *
 * Order: round-robin between owners, first come first served within one owner. Each entry gets
 * a round when it joins, `max(dispatchRound, owner's last round + 1)`, where dispatchRound is the
 * highest round admitted so far: an owner with five jobs takes rounds r…r+4, and a newcomer joins
 * at the round being served, so it goes before the first owner's second-next job. Within a round,
 * whoever joined first goes first. A job put back (a 429 from Replicate) goes to the head.
 */

export type QueueEntry = { jobId: string; ownerId: string; engine: string };

export type QueueLimits = {
  /** Jobs admitted at once over every engine; 0: no cap. */
  maxRunning: number;
  /** Of those, one owner's share; 0: no cap. */
  perOwner: number;
};

export type QueueSnapshot = {
  /** Waiting job ids, next first. */
  waiting: string[];
  /** Admitted job ids with when they were admitted. */
  running: { jobId: string; since: number }[];
  /** Engines nothing is dispatched to until the time given (a 429's Retry-After). */
  holds: Record<string, number>;
  /** Moving average of how long a finished job held its slot; null before the first. */
  averageRunMs: number | null;
};

export interface JobQueue {
  /** Puts a job in line. False when it is already waiting or running (nothing changes). */
  enqueue(entry: QueueEntry, now: number): Promise<boolean>;
  /** Admits waiting jobs in fair order while there are free slots; returns the admitted ids. */
  claim(limits: QueueLimits, now: number): Promise<string[]>;
  /**
   * Takes a job out of the line or frees its slot. `finished`: it ran to its end, so its time
   * counts towards the average. False when it was neither waiting nor running.
   */
  release(jobId: string, now: number, finished: boolean): Promise<boolean>;
  /**
   * Puts a running job back at the head of the line, and holds `engine` until `holdUntil`:
   * nothing that runs on it is dispatched before. False when the job was not running.
   */
  requeue(jobId: string, engine: string, holdUntil: number): Promise<boolean>;
  snapshot(now: number): Promise<QueueSnapshot>;
}

/** How many waiting entries one claim or snapshot looks at (the per-browser caps keep the line far shorter). */
export const QUEUE_SCAN = 2000;
/** Weight of the newest finished job in the average run time. */
export const AVERAGE_WEIGHT = 0.2;
/** A requeued entry's round: before every other. */
export const HEAD_ROUND = -1;

type Waiting = { ownerId: string; engine: string; round: number; seq: number };

/** The whole line as one JSON document (the embedded backend's file). */
export type QueueData = {
  seq: number;
  dispatchRound: number;
  ownerRounds: Record<string, number>;
  waiting: Record<string, Waiting>;
  running: Record<string, { ownerId: string; engine: string; since: number; round: number; seq: number }>;
  holds: Record<string, number>;
  averageRunMs: number | null;
};

export function emptyQueue(): QueueData {
  return { seq: 0, dispatchRound: 0, ownerRounds: {}, waiting: {}, running: {}, holds: {}, averageRunMs: null };
}

function ordered(q: QueueData): string[] {
  return Object.entries(q.waiting)
    .sort(([, a], [, b]) => a.round - b.round || a.seq - b.seq)
    .map(([id]) => id);
}

/** The queue rules on a plain object; each function changes `q` in place and says what it did. */
export const QueueState = {
  enqueue(q: QueueData, e: QueueEntry): boolean {
    if (q.waiting[e.jobId] || q.running[e.jobId]) return false;
    const round = Math.max(q.dispatchRound, (q.ownerRounds[e.ownerId] ?? 0) + 1);
    q.seq += 1;
    q.waiting[e.jobId] = { ownerId: e.ownerId, engine: e.engine, round, seq: q.seq };
    q.ownerRounds[e.ownerId] = round;
    return true;
  },

  claim(q: QueueData, limits: QueueLimits, now: number): string[] {
    const perOwner = new Map<string, number>();
    for (const r of Object.values(q.running)) perOwner.set(r.ownerId, (perOwner.get(r.ownerId) ?? 0) + 1);
    let count = Object.keys(q.running).length;
    const full = () => limits.maxRunning > 0 && count >= limits.maxRunning;
    const admitted: string[] = [];
    for (const [engine, until] of Object.entries(q.holds)) if (until <= now) delete q.holds[engine];
    for (const id of ordered(q).slice(0, QUEUE_SCAN)) {
      if (full()) break;
      const w = q.waiting[id]!;
      if ((q.holds[w.engine] ?? 0) > now) continue;
      if (limits.perOwner > 0 && (perOwner.get(w.ownerId) ?? 0) >= limits.perOwner) continue;
      delete q.waiting[id];
      q.running[id] = { ownerId: w.ownerId, engine: w.engine, since: now, round: w.round, seq: w.seq };
      perOwner.set(w.ownerId, (perOwner.get(w.ownerId) ?? 0) + 1);
      count += 1;
      q.dispatchRound = Math.max(q.dispatchRound, w.round);
      admitted.push(id);
    }
    // An owner whose last round is behind the one served joins at that round anyway: forget it.
    for (const [owner, round] of Object.entries(q.ownerRounds))
      if (round < q.dispatchRound) delete q.ownerRounds[owner];
    return admitted;
  },

  release(q: QueueData, jobId: string, now: number, finished: boolean): boolean {
    if (q.waiting[jobId]) {
      delete q.waiting[jobId];
      return true;
    }
    const r = q.running[jobId];
    if (!r) return false;
    delete q.running[jobId];
    if (finished) {
      const took = Math.max(0, now - r.since);
      q.averageRunMs = q.averageRunMs === null ? took : q.averageRunMs * (1 - AVERAGE_WEIGHT) + took * AVERAGE_WEIGHT;
    }
    return true;
  },

  requeue(q: QueueData, jobId: string, engine: string, holdUntil: number): boolean {
    const r = q.running[jobId];
    if (!r) return false;
    delete q.running[jobId];
    q.waiting[jobId] = { ownerId: r.ownerId, engine: r.engine, round: HEAD_ROUND, seq: r.seq };
    q.holds[engine] = Math.max(q.holds[engine] ?? 0, holdUntil);
    return true;
  },

  snapshot(q: QueueData, now: number): QueueSnapshot {
    const holds = Object.fromEntries(Object.entries(q.holds).filter(([, until]) => until > now));
    return {
      waiting: ordered(q).slice(0, QUEUE_SCAN),
      running: Object.entries(q.running).map(([jobId, r]) => ({ jobId, since: r.since })),
      holds,
      averageRunMs: q.averageRunMs,
    };
  },
};
