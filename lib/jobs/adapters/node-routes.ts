import "server-only";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { env } from "@/lib/env";
import { errorResponse } from "@/lib/errors";
import {
  EVENT_STREAM_HEADERS,
  MAX_BUFFERED_BYTES,
  openEventStream,
  type EventStreamOptions,
} from "@/lib/jobs/adapters/event-stream";
import { statusResponse } from "@/lib/jobs/adapters/status-response";
import { inBackground } from "@/lib/core/schedule";
import { takeStreamSlot, type StreamCapsEnv } from "@/lib/limits/stream-caps";
import { log } from "@/lib/log";
import { nonPageHeaders } from "@/lib/security/csp";

/**
 * The two routes a watching page asks again and again, GET /api/events/[id] (the live stream) and
 * GET /api/status/[id] (its polling fallback), answered by the Node server itself when the app is
 * self-hosted (`next start`, the standalone server): the same answers as their route handlers
 * (event-stream.ts, status-response.ts: owner check, caps, resume, ETag), written straight to the
 * socket.
 *
 * Why: a route handler's answer goes through Next's request pipeline. A stream holds Next's
 * per-request state for as long as it is open (about 80 kB each), and every close runs Next's
 * abort path (an AbortSignal, an error, web-stream cancellation): a crowd of thousands of
 * watchers cost a gigabyte, and the server answered its next request seconds after they left.
 * A status answer's body is piped through web streams, which cost more than the route's own
 * work (one store read, about 40 µs of JSON). Here an open stream is Node's own request and
 * response, a close is a socket event, and a status answer is one write.
 *
 * How: Node publishes every request on the `http.server.request.start` diagnostics channel, with
 * its server, before the server's request listeners (Next's) see it. On the first request the
 * server's listeners are put behind one that takes these two routes' GET requests and hands
 * every other request to them unchanged. On Vercel (no long-lived Node server of ours) and under
 * `next dev`, the route handlers (app/api/events/[id], app/api/status/[id]) answer, unchanged.
 */

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** A request target of one of the two routes: which, the job id, and `?since=`; null for any other path. */
export function nodeRouteTarget(
  url: string | undefined,
): { route: "events" | "status"; id: string; since: string | null } | null {
  const match = /^\/api\/(events|status)\/([^/?#]+)(?:\?([^#]*))?$/.exec(url ?? "");
  if (!match) return null;
  let id: string;
  try {
    id = decodeURIComponent(match[2]!);
  } catch {
    return null; // Not a path Next would route here either: it answers.
  }
  return { route: match[1] as "events" | "status", id, since: new URLSearchParams(match[3] ?? "").get("since") };
}

function headersOf(req: IncomingMessage): Pick<Headers, "get"> {
  return {
    get(name) {
      const value = req.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(", ") : value;
    },
  };
}

async function sendAnswer(res: ServerResponse, answer: Response): Promise<void> {
  const body = Buffer.from(await answer.arrayBuffer());
  if (res.headersSent || res.destroyed) return;
  const headers: Record<string, string> = { ...nonPageHeaders(), ...Object.fromEntries(answer.headers) };
  // 204 and 304 have no body, and no length of one.
  if (answer.status !== 204 && answer.status !== 304) headers["Content-Length"] = String(body.length);
  res.writeHead(answer.status, headers).end(body);
}

export type NodeStreamOptions = EventStreamOptions & {
  /** The open-stream caps (lib/limits/stream-caps.ts); default: from the environment. */
  caps?: StreamCapsEnv;
};

/** Answers one event-stream request on a Node response: the stream, or the JSON error or 204 the route would give. */
export async function serveEventStream(
  req: IncomingMessage,
  res: ServerResponse,
  target: { id: string; since: string | null },
  options: NodeStreamOptions = {},
): Promise<void> {
  let gone = false;
  res.once("close", () => (gone = true));
  const headers = headersOf(req);
  const slot = takeStreamSlot(headers, options.caps);
  if (slot instanceof Response) return sendAnswer(res, slot);
  let opened: Awaited<ReturnType<typeof openEventStream>>;
  try {
    opened = await openEventStream({ headers, since: target.since, aborted: () => gone }, target.id, {
      ...options,
      onClose() {
        slot.release();
        options.onClose?.();
      },
    });
  } catch (error) {
    opened = errorResponse(error);
  }
  if (opened instanceof Response) {
    slot.release();
    return sendAnswer(res, opened);
  }
  const limit = options.maxBufferedBytes ?? MAX_BUFFERED_BYTES;
  let dropped = false;
  res.writeHead(200, { ...nonPageHeaders(), ...EVENT_STREAM_HEADERS });
  opened.start({
    write(text) {
      if (gone) return false;
      // Bytes this response and its socket hold that the client has not taken yet.
      if (res.writableLength > limit) {
        dropped = true;
        return false;
      }
      res.write(text);
      return true;
    },
    end() {
      // A client too far behind is cut off, not left holding its backlog; it reconnects.
      if (dropped) res.destroy();
      else if (!res.writableEnded) res.end();
    },
  });
  res.once("close", opened.stop);
}

/**
 * Puts `server`'s request listeners behind one that answers GET /api/events/<id> and
 * GET /api/status/<id> itself and hands every other request to them, unchanged.
 */
export function serveNodeRoutesOn(server: Server, options: NodeStreamOptions = {}): void {
  const listeners = server.listeners("request") as Listener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const target = req.method === "GET" ? nodeRouteTarget(req.url) : null;
    if (!target) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    const answer =
      target.route === "events"
        ? serveEventStream(req, res, target, options)
        : statusResponse({ headers: headersOf(req) }, target.id, options.schedule ?? inBackground).then((response) =>
            sendAnswer(res, response),
          );
    answer.catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error), url: req.url }, "answer failed");
      if (res.headersSent) return void res.destroy();
      void sendAnswer(res, errorResponse(error));
    });
  });
}

const INSTALLED = Symbol.for("prompt2video.node-routes");

/**
 * From instrumentation.ts: on a self-hosted production server, answer the two routes on the
 * Node server (see above). Once per process.
 */
export function serveNodeRoutes(): void {
  const g = globalThis as { [INSTALLED]?: true };
  if (g[INSTALLED]) return;
  g[INSTALLED] = true;
  const e = env();
  if (e.VERCEL || e.NODE_ENV !== "production") return;
  const fronted = new WeakSet<Server>();
  subscribe("http.server.request.start", (message) => {
    const { server } = message as { server?: Server };
    if (!server || fronted.has(server)) return;
    fronted.add(server);
    serveNodeRoutesOn(server);
  });
}
