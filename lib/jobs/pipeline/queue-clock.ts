/**
 * The clock of the line: when a held engine may be tried again and when to wake up for it.
 * Tests replace it (setQueueClock) to move time on without sleeping through a Retry-After.
 */
export type QueueClock = {
  now(): number;
  /** Runs `fn` once, `ms` from now; the returned function cancels it. Must not keep the process alive. */
  after(ms: number, fn: () => void): () => void;
};

const realClock: QueueClock = {
  now: () => Date.now(),
  after(ms, fn) {
    const timer = setTimeout(fn, Math.max(0, ms));
    timer.unref?.();
    return () => clearTimeout(timer);
  },
};

const holder = globalThis as typeof globalThis & { __prompt2videoQueueClock?: QueueClock };

export function queueClock(): QueueClock {
  return holder.__prompt2videoQueueClock ?? realClock;
}

/** Null: back to the real clock. */
export function setQueueClock(clock: QueueClock | null): void {
  holder.__prompt2videoQueueClock = clock ?? undefined;
}
