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
import { inBackground, type Schedule } from "@/lib/core/schedule";
import { isStopping } from "@/lib/ops/shutdown";

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

/** A client with more than this many bytes not yet taken from its stream is dropped. */
export const MAX_BUFFERED_BYTES = 1 << 20;

const DEFAULTS = {
  heartbeatMs: 15_000,
  maxLifetimeMs: 280_000,
  retryMs: 2_000,
  tickMs: 1_000,
  nudgeIntervalMs: 3_000,
  // A client that reads this slowly is dropped (it reconnects and gets the latest state).
  maxBufferedBytes: MAX_BUFFERED_BYTES,
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
function lastSeenSeq(request: StreamRequest): number {
  for (const value of [request.headers.get("last-event-id"), request.since]) {
    if (value !== null && /^\d{1,15}$/.test(value.trim())) return Number(value.trim());
  }
  return -1;
}

/**
 * What a stream needs of its request, whatever carries it (a route handler's `Request`, or the
 * Node server's own request: lib/jobs/adapters/node-routes.ts).
 */
export type StreamRequest = {
  headers: Pick<Headers, "get">;
  /** The `?since=` query parameter, or null. */
  since: string | null;
  /** Whether the client has already gone away. */
  aborted(): boolean;
};

/** Where an open stream's text goes: a web stream's controller, or a Node response. */
export type EventSink = {
  /** Sends text; false when it cannot (the client is gone, or too far behind): the stream then ends. */
  write(text: string): boolean;
  /** Ends the response; called once. */
  end(): void;
};

/** A stream ready to send: `start` once with its sink; `stop` when the client goes away (idempotent). */
export type OpenedStream = { start(sink: EventSink): void; stop(): void };

/**
 * Everything an event stream does, apart from the transport: checks the id and the owner, reads the
 * job once, then (on `start`) sends its states as they come and ends the stream. A non-stream
 * answer (400, 404, 204, a store error) comes back as a `Response`.
 */
export async function openEventStream(
  request: StreamRequest,
  id: string,
  options: EventStreamOptions = {},
): Promise<OpenedStream | Response> {
  const opts = { ...DEFAULTS, ...options };
  const schedule = options.schedule ?? inBackground;
  if (!JOB_ID_PATTERN.test(id)) return errorResponse(new AppError("bad_request", "That is not a valid job id."));
  if (request.aborted()) return new Response(null, { status: 499 });
  let owner: string | null;
  try {
    owner = await viewerOf(request);
  } catch (error) {
    return errorResponse(error);
  }
  if (!owner) return errorResponse(new AppError("not_found", NO_SUCH_JOB));
  const store = options.store ?? getStore();
  const lastSeen = lastSeenSeq(request);

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
  // sink, the last state sent, and two small functions in shared sets (the job's channel and the
  // tick timer). No timer, subscription or buffer of its own.
  let latest: Job = job;
  let sentSeq = lastSeen;
  let sentData = "";
  const openedAt = Date.now();
  let lastWrite = openedAt;
  let closed = false;
  let stopTicks: () => void = () => undefined;
  let sink: EventSink | null = null;

  const finish = () => {
    if (closed) return;
    closed = true;
    stopTicks();
    watch.stop();
    sink?.end();
    options.onClose?.();
  };

  const write = (text: string) => {
    if (closed || !sink) return;
    // A client that does not take what it is sent (the socket is full) is dropped: nothing more is
    // queued and the store subscription goes; what is queued drains or dies with the connection.
    if (!sink.write(text)) return finish();
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
    // A stopping server (a deploy) ends its streams: the browser reconnects to the next one.
    if (now - openedAt >= opts.maxLifetimeMs || isStopping()) return finish();
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

  return {
    start(s) {
      if (sink || closed) return;
      sink = s;
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
      // A client that left between the read and here.
      if (request.aborted()) finish();
    },
    stop: finish,
  };
}

/** The stream as a route handler's answer (Next; on Vercel, and under `next dev`). */
export async function eventStreamResponse(
  req: Request,
  id: string,
  options: EventStreamOptions = {},
): Promise<Response> {
  const opened = await openEventStream(
    { headers: req.headers, since: new URL(req.url).searchParams.get("since"), aborted: () => req.signal.aborted },
    id,
    options,
  );
  if (opened instanceof Response) return opened;
  // Counts queued bytes (the default strategy counts chunks): desiredSize is then highWaterMark
  // minus the bytes not yet taken by the server's writer, which stops taking them while the socket is full.
  const queued = new ByteLengthQueuingStrategy({
    highWaterMark: options.maxBufferedBytes ?? MAX_BUFFERED_BYTES,
  });
  const body = new ReadableStream<Uint8Array>(
    {
      start(controller) {
        opened.start({
          write(text) {
            if ((controller.desiredSize ?? 0) <= 0) return false;
            try {
              controller.enqueue(encoder.encode(text));
              return true;
            } catch {
              // The reader went away without telling us (canceled between ticks).
              return false;
            }
          },
          end() {
            req.signal.removeEventListener("abort", opened.stop);
            try {
              controller.close();
            } catch {
              // Already closed or canceled by the client.
            }
          },
        });
        req.signal.addEventListener("abort", opened.stop);
        if (req.signal.aborted) opened.stop();
      },
      cancel: () => opened.stop(),
    },
    queued,
  );
  return new Response(body, { headers: EVENT_STREAM_HEADERS });
}
