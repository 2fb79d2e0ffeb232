import "server-only";
import { AppError, errorResponse } from "@/lib/errors";
import { NO_SUCH_JOB, ownsJob, viewerOf } from "@/lib/jobs/adapters/access";
import { toPublicJob } from "@/lib/jobs/domain/public";
import { needsReconcile, reconcile } from "@/lib/jobs/pipeline/reconcile";
import { queuePlace } from "@/lib/jobs/pipeline/queue-place";
import { isTerminal, JOB_ID_PATTERN, NOT_WAITING, type Job, type QueuePlace } from "@/lib/core/job";
import { isAdmitted, runningStep } from "@/lib/jobs/domain/steps";
import { onEveryTick, watchJob } from "@/lib/jobs/adapters/job-channels";
import { getStore } from "@/lib/store";
import type { JobStore } from "@/lib/store/types";
import type { Schedule } from "@/lib/core/schedule";

/**
 * A job's changes as server-sent events (text/event-stream), pushed the moment the store applies
 * them: `store.subscribe` is an in-process emitter on the embedded store, pub/sub on Redis over
 * TCP, and the REST subscribe stream on Upstash. After the first read, a quiet job costs no store reads.
 *
 * Only the job's owner gets a stream; anyone else gets the 404 of a job that does not exist.
 *
 * What the client gets (the EventSource contract):
 * - `retry: <ms>` first: how long the browser waits before reconnecting.
 * - `id: <seq>` + `data: <PublicJob JSON>` per state. On connect the current state is sent at
 *   once when its seq is above `Last-Event-ID` (sent by the browser on reconnect) or `?since=`
 *   (what the page already has from the server render).
 * - `: keepalive` comments while nothing happens, so proxies do not cut an idle connection.
 * - The stream ends after a terminal state, and before the platform's duration limit; the
 *   browser then reconnects by itself with `Last-Event-ID`. A job that ended before the
 *   client's last event answers 204, which tells EventSource to stop reconnecting.
 */

export type EventStreamOptions = {
  /** Default: the process-wide store. */
  store?: JobStore;
  /** A keepalive comment after this much silence (default 15 s). */
  heartbeatMs?: number;
  /** Close after this long; keep it under the route's maxDuration (default 280 s of 300). */
  maxLifetimeMs?: number;
  /** The `retry:` hint for the browser's reconnect delay (default 2 s). */
  retryMs?: number;
  /** How often a quiet job is looked at (time-based progress estimate, reconcile need); default 1 s. */
  tickMs?: number;
  /** At most one reconcile nudge per job and process this often (default 3 s). */
  nudgeIntervalMs?: number;
  /** Runs reconciliation in the background (default: fire and forget; it logs its own failures). */
  schedule?: Schedule;
  /** A client with more than this many bytes not yet taken from the stream is dropped (default 1 MiB). */
  maxBufferedBytes?: number;
  /** Called once when an opened stream ends, however it ends (not for a 204 or an error answer). */
  onClose?: () => void;
};

const DEFAULTS = {
  heartbeatMs: 15_000,
  maxLifetimeMs: 280_000,
  retryMs: 2_000,
  tickMs: 1_000,
  nudgeIntervalMs: 3_000,
  // A client that reads this slowly is dropped (it reconnects and gets the latest state).
  maxBufferedBytes: 1 << 20,
} as const;

export const EVENT_STREAM_HEADERS = {
  "Content-Type": "text/event-stream; charset=utf-8",
  // no-transform: compression would buffer the events (Next's `compress` skips such responses).
  "Cache-Control": "no-cache, no-store, no-transform",
  // nginx and similar proxies buffer responses unless told not to.
  "X-Accel-Buffering": "no",
} as const;

/** When each job was last nudged in this process: many watchers of one job share one nudge. */
const lastNudge = new Map<string, number>();

function claimNudge(id: string, now: number, intervalMs: number): boolean {
  if (now - (lastNudge.get(id) ?? -Infinity) < intervalMs) return false;
  if (lastNudge.size > 10_000) lastNudge.clear();
  lastNudge.set(id, now);
  return true;
}

/**
 * The public JSON of a job state. Watchers of one job on one instance get the same record object
 * from the store's notification: it is serialised once for all of them, unless a time-based
 * estimate makes it depend on the moment.
 */
const serialized = new WeakMap<Job, { at: number | null; data: string }>();

function serialize(job: Job, now: number, place: QueuePlace): string {
  // A waiting job's place in line is this stream's own read of the line.
  if (waiting(job)) return JSON.stringify(toPublicJob(job, now, place));
  // A time-based estimate depends on the moment: the streams ticking together share one `now`,
  // so they share this too.
  const at = runningStep(job)?.progressEstimated ? now : null;
  const cached = serialized.get(job);
  if (cached && cached.at === at) return cached.data;
  const data = JSON.stringify(toPublicJob(job, now));
  serialized.set(job, { at, data });
  return data;
}

const encoder = new TextEncoder();

const waiting = (job: Job) => !isTerminal(job.status) && !isAdmitted(job);

/** The seq the client already has: Last-Event-ID (a reconnect) wins over ?since= (the first connect). */
function lastSeenSeq(req: Request): number {
  const candidates = [req.headers.get("last-event-id"), new URL(req.url).searchParams.get("since")];
  for (const value of candidates) {
    if (value !== null && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  }
  return -1;
}

const defaultSchedule: Schedule = (task) => void task().catch(() => undefined);

export async function eventStreamResponse(
  req: Request,
  id: string,
  options: EventStreamOptions = {},
): Promise<Response> {
  const opts = { ...DEFAULTS, ...options };
  const schedule = options.schedule ?? defaultSchedule;
  if (!JOB_ID_PATTERN.test(id)) return errorResponse(new AppError("bad_request", "That is not a valid job id."));
  if (req.signal.aborted) return new Response(null, { status: 499 });
  let owner: string | null;
  try {
    owner = await viewerOf(req);
  } catch (error) {
    return errorResponse(error);
  }
  if (!owner) return errorResponse(new AppError("not_found", NO_SUCH_JOB));
  const store = options.store ?? getStore();
  const lastSeen = lastSeenSeq(req);

  // Watch before the read, so that a change applied in between is not lost. The job's channel
  // is shared by every stream of it on this instance (lib/jobs/adapters/job-channels.ts).
  const early: Job[] = [];
  let deliver: (job: Job) => void = (job) => early.push(job);
  const watch = watchJob(store, id, (job) => deliver(job));

  let job: Job | null;
  try {
    job = await store.get(id);
  } catch (error) {
    watch.stop();
    return errorResponse(error);
  }
  if (!job || !ownsJob(job, owner)) {
    watch.stop();
    return errorResponse(new AppError("not_found", NO_SUCH_JOB));
  }
  for (const j of early) if (j.seq > job.seq) job = j;
  early.length = 0;
  watch.offer(job);
  // While the job waits in line its place moves with other jobs' changes: read again on each tick.
  let place: QueuePlace = NOT_WAITING;
  let placing = false;
  try {
    place = await queuePlace(job);
  } catch {
    // The place is a nicety: the stream goes on without it until the next tick.
  }
  if (isTerminal(job.status) && job.seq <= lastSeen) {
    watch.stop();
    return new Response(null, { status: 204, headers: { "Cache-Control": "no-store" } });
  }

  // What an open stream holds is kept small (a crowd of watchers is thousands of these): its
  // controller, the last state sent, and two small functions in shared sets (the job's channel
  // and the tick timer). No timer, subscription or buffer of its own.
  let latest: Job = job;
  let sentSeq = lastSeen;
  let sentData = "";
  const openedAt = Date.now();
  let lastWrite = openedAt;
  let closed = false;
  let stopTicks: () => void = () => undefined;
  let controller!: ReadableStreamDefaultController<Uint8Array>;

  const finish = () => {
    if (closed) return;
    closed = true;
    stopTicks();
    watch.stop();
    req.signal.removeEventListener("abort", finish);
    try {
      controller.close();
    } catch {
      // Already closed or canceled by the client.
    }
    options.onClose?.();
  };

  const write = (text: string) => {
    if (closed) return;
    // With the byte-length strategy below, desiredSize is highWaterMark minus the bytes queued and
    // not yet taken by the server's writer, which stops taking them while the socket is full. The
    // stream then closes: nothing more is queued and the store subscription goes; what is queued
    // drains or dies with the connection.
    if ((controller.desiredSize ?? 0) <= 0) return finish();
    try {
      controller.enqueue(encoder.encode(text));
    } catch {
      // The reader went away without telling us (canceled between ticks): nothing more to send.
      return finish();
    }
    lastWrite = Date.now();
  };

  const send = (j: Job, now = Date.now()) => {
    const data = serialize(j, now, place);
    if (j.seq === sentSeq && data === sentData) return;
    sentSeq = j.seq;
    sentData = data;
    write(`id: ${j.seq}\ndata: ${data}\n\n`);
    if (isTerminal(j.status)) finish();
  };

  const onTick = (now: number) => {
    if (now - openedAt >= opts.maxLifetimeMs) return finish();
    // A time-based estimate moves without events: refresh it from memory, without a store read.
    if (runningStep(latest)?.progressEstimated) send(latest, now);
    if (closed) return;
    if (waiting(latest) && !placing) {
      // One read of the line per instance per 500 ms, however many streams wait (queue-place.ts).
      placing = true;
      void queuePlace(latest)
        .then((p) => {
          place = p;
          send(latest);
        })
        .catch(() => undefined)
        .finally(() => (placing = false));
    }
    if (needsReconcile(latest, now) && claimNudge(id, now, opts.nudgeIntervalMs)) schedule(() => reconcile(id));
    if (now - lastWrite >= opts.heartbeatMs) write(": keepalive\n\n");
  };

  // Counts queued bytes (the default strategy counts chunks), for the slow-client check in write().
  const queued = new ByteLengthQueuingStrategy({ highWaterMark: opts.maxBufferedBytes });
  const body = new ReadableStream<Uint8Array>(
    {
      start(c) {
        controller = c;
        write(`retry: ${opts.retryMs}\n\n`);
        deliver = (j) => {
          if (closed || j.seq <= latest.seq) return;
          latest = j;
          send(j);
        };
        if (latest.seq > lastSeen) send(latest);
        if (closed) return;
        // The lifetime is checked on the ticks: keep the tick interval well under it.
        stopTicks = onEveryTick(Math.max(10, Math.min(opts.tickMs, opts.heartbeatMs, opts.maxLifetimeMs)), onTick);
        req.signal.addEventListener("abort", finish);
        // A request aborted between the read and here fired no event.
        if (req.signal.aborted) finish();
      },
      cancel: finish,
    },
    queued,
  );

  return new Response(body, { headers: EVENT_STREAM_HEADERS });
}
