import type { Job } from "@/lib/core/job";
import { log } from "@/lib/log";
import type { RedisCommands } from "@/lib/store/redis-commands";
import { parseJob, type RedisKeys } from "@/lib/store/redis-layout";

/**
 * Watching jobs over pub/sub: the UPDATE script publishes each new record on
 * <prefix>job:<id>:events.
 */
export class RedisWatcher {
  /** Re-reads after a pub/sub (re)subscription, one per job however many listen to it. */
  private readonly resyncs = new Map<string, Promise<Job | null>>();

  constructor(
    private readonly redis: Pick<RedisCommands, "subscribe">,
    private readonly keys: RedisKeys,
    private readonly get: (id: string) => Promise<Job | null>,
  ) {}

  /**
   * Pub/sub delivers changes as they are published. Until a subscription is in place (a Redis
   * subscriber connection coming back; an Upstash stream confirming, also the first time) nothing
   * is delivered, so then the job is read once and sent to the listeners that are behind it.
   */
  subscribe(id: string, onChange: (job: Job) => void, knownSeq?: () => number): () => void {
    const where = this.keys.job(id);
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
          log.warn(
            { jobId: id, err: (err as Error).message },
            "store: re-reading a watched job after a reconnect failed",
          );
          return null;
        })
        .finally(() => this.resyncs.delete(id));
      this.resyncs.set(id, pending);
    }
    return pending;
  }
}
