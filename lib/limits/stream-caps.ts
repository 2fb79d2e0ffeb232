import { env, type Env } from "@/lib/env";
import { AppError } from "@/lib/errors";
import { clientAddress } from "@/lib/http/client-address";
import { ipBucket } from "@/lib/limits/ip-bucket";

/**
 * Caps on the live event streams (GET /api/events/[id]) open at once on this instance: per client
 * address (`EVENT_STREAMS_PER_CLIENT`) and in total (`EVENT_STREAMS_MAX`); 0 means no cap. Each
 * open stream holds a connection and the request's state on the server. Over a cap the answer is a
 * JSON error (429 for one client, 503 for the instance) with `Retry-After`: EventSource treats a
 * non-200 answer as final, and the job page then polls GET /api/status/[id] instead.
 *
 * Counted in this process's memory: a stream lives on one instance, and its slot must be free
 * again the moment it closes (end of the job, lifetime, client gone), or when the process dies.
 */
export type StreamCapsEnv = Pick<Env, "EVENT_STREAMS_PER_CLIENT" | "EVENT_STREAMS_MAX" | "TRUST_PROXY" | "VERCEL">;

/** What the refusal suggests: the page polls meanwhile, so this is only a hint for other clients. */
export const STREAM_RETRY_SECONDS = 30;

const open = { total: 0, byClient: new Map<string, number>() };

/** Streams open right now on this instance, in all or from one address (its /64 for IPv6). */
export function openStreams(address?: string): number {
  return address === undefined ? open.total : (open.byClient.get(ipBucket(address)) ?? 0);
}

function refusal(code: "rate_limited" | "unavailable", message: string): Response {
  return new AppError(code, message, { "Retry-After": String(STREAM_RETRY_SECONDS) }, { poll: true }).toResponse();
}

/** Takes a slot for the client behind `headers`, or answers why not; `release` frees it (idempotent). */
export function takeStreamSlot(
  headers: Pick<Headers, "get">,
  e: StreamCapsEnv = env(),
): { release: () => void } | Response {
  const address = clientAddress(headers, e);
  const key = address === "unknown" ? null : ipBucket(address);
  const mine = key === null ? 0 : (open.byClient.get(key) ?? 0);
  if (e.EVENT_STREAMS_PER_CLIENT > 0 && key !== null && mine >= e.EVENT_STREAMS_PER_CLIENT) {
    return refusal(
      "rate_limited",
      `Your network already has ${mine} live streams open; follow this job by polling its status instead.`,
    );
  }
  if (e.EVENT_STREAMS_MAX > 0 && open.total >= e.EVENT_STREAMS_MAX) {
    return refusal(
      "unavailable",
      "This server has as many live streams open as it can hold; follow this job by polling its status instead.",
    );
  }
  open.total++;
  if (key !== null) open.byClient.set(key, mine + 1);
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      open.total--;
      if (key === null) return;
      const left = (open.byClient.get(key) ?? 1) - 1;
      if (left > 0) open.byClient.set(key, left);
      else open.byClient.delete(key);
    },
  };
}

/**
 * Opens an event stream within the caps: `openStream` runs only with a slot and is given the
 * function that frees it, to call when the stream ends however it ends (the job ended, its
 * lifetime, the client went away). The slot is freed here when the answer is not a stream at all
 * (400, 404, 204) or opening it failed.
 */
export async function withStreamSlot(
  req: Request,
  openStream: (release: () => void) => Promise<Response>,
  e: StreamCapsEnv = env(),
): Promise<Response> {
  const slot = takeStreamSlot(req.headers, e);
  if (slot instanceof Response) return slot;
  let response: Response;
  try {
    response = await openStream(slot.release);
  } catch (error) {
    slot.release();
    throw error;
  }
  if (!response.body || !response.headers.get("content-type")?.startsWith("text/event-stream")) slot.release();
  return response;
}
