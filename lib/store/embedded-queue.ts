import { readFile } from "node:fs/promises";
import { log } from "@/lib/log";
import { writeFileDurable } from "@/lib/store/durable-file";
import type { KeyedQueue } from "@/lib/store/keyed-queue";
import { emptyQueue, QueueState, type JobQueue, type QueueData } from "@/lib/store/queue";

/**
 * The embedded store's line of waiting jobs: one small file (`queue.json`), changed under one
 * in-process lock and written durably (a temporary file, then a rename): a crash leaves the old
 * line or the new one. The rules are QueueState's (lib/store/queue.ts).
 */
export class EmbeddedQueue implements JobQueue {
  private data: QueueData | null = null;

  constructor(
    private readonly file: string,
    private readonly serial: KeyedQueue,
    /** Counts one file read or write, for the benchmark. */
    private readonly command: () => void,
  ) {}

  enqueue: JobQueue["enqueue"] = (entry) => this.change((q) => QueueState.enqueue(q, entry));
  claim: JobQueue["claim"] = (limits, now) =>
    this.change(
      (q) => QueueState.claim(q, limits, now),
      (ids) => ids.length > 0,
    );
  release: JobQueue["release"] = (jobId, now, finished) =>
    this.change((q) => QueueState.release(q, jobId, now, finished));
  requeue: JobQueue["requeue"] = (jobId, engine, holdUntil) =>
    this.change((q) => QueueState.requeue(q, jobId, engine, holdUntil));
  snapshot: JobQueue["snapshot"] = (now) =>
    this.change(
      (q) => QueueState.snapshot(q, now),
      () => false,
    );

  /** Runs `work` on a copy of the line; writes it when `changed` says so (default: a true result). */
  private change<T>(work: (q: QueueData) => T, changed: (result: T) => boolean = (r) => r === true): Promise<T> {
    return this.serial.run("queue", async () => {
      this.data ??= await this.load();
      // A failed write leaves the line as it was on disk and in memory.
      const draft = structuredClone(this.data);
      const result = work(draft);
      if (changed(result)) {
        this.command();
        await writeFileDurable(this.file, JSON.stringify(draft));
        this.data = draft;
      }
      return result;
    });
  }

  private async load(): Promise<QueueData> {
    this.command();
    try {
      return { ...emptyQueue(), ...(JSON.parse(await readFile(this.file, "utf8")) as Partial<QueueData>) };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT")
        log.warn(
          { file: this.file, err: (err as Error).message },
          "store: the line of waiting jobs could not be read; starting an empty one",
        );
      return emptyQueue();
    }
  }
}
