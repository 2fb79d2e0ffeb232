import "server-only";
import { subscribe } from "node:diagnostics_channel";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { env } from "@/lib/env";
import { errorResponse } from "@/lib/errors";
import { EVENT_STREAM_HEADERS, openEventStream, type EventStreamOptions } from "@/lib/jobs/adapters/event-stream";
import { takeStreamSlot, type StreamCapsEnv } from "@/lib/limits/stream-caps";
import { log } from "@/lib/log";
import { nonPageHeaders } from "@/lib/security/csp";

/**
 * GET /api/events/[id] served by the Node server itself when the app is self-hosted (`next start`,
 * the standalone server): the same stream as the route handler (event-stream.ts: owner check,
 * caps, resume, ticks, lifetime), written straight to the socket.
 *
 * Why: a route handler's response holds Next's per-request state for as long as it streams
 * (about 80 kB per open stream), and every close runs Next's abort path (an AbortSignal, an
 * error, web-stream cancellation); a crowd of thousands of watchers cost a gigabyte, and the
 * server answered its next request seconds after they left. Here an open stream is Node's own
 * request and response, and a close is a socket event.
 *
 * How: Node publishes every request on the `http.server.request.start` diagnostics channel, with
 * its server, before the server's request listeners (Next's) see it. On the first request the
 * server's listeners are put behind one that takes the event-stream requests and hands every
 * other request to them unchanged. On Vercel (no long-lived Node server of ours) and under
 * `next dev`, the route handler (app/api/events/[id]/route.ts) serves the stream, unchanged.
 */

type Listener = (req: IncomingMessage, res: ServerResponse) => void;

/** The job id and `?since=` of an event-stream request target, or null for any other path. */
export function eventStreamTarget(url: string | undefined): { id: string; since: string | null } | null {
  const match = /^\/api\/events\/([^/?#]+)(?:\?([^#]*))?$/.exec(url ?? "");
  if (!match) return null;
  let id: string;
  try {
    id = decodeURIComponent(match[1]!);
  } catch {
    return null; // Not a path Next would route here either: it answers.
  }
  return { id, since: new URLSearchParams(match[2] ?? "").get("since") };
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
  res
    .writeHead(answer.status, {
      ...nonPageHeaders(),
      ...Object.fromEntries(answer.headers),
      "Content-Length": String(body.length),
    })
    .end(body);
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
  const limit = options.maxBufferedBytes ?? 1 << 20;
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
 * Puts `server`'s request listeners behind one that serves the event-stream requests itself
 * (GET /api/events/<id>) and hands every other request to them, unchanged.
 */
export function serveEventStreamsOn(server: Server, options: NodeStreamOptions = {}): void {
  const listeners = server.listeners("request") as Listener[];
  server.removeAllListeners("request");
  server.on("request", (req: IncomingMessage, res: ServerResponse) => {
    const target = req.method === "GET" ? eventStreamTarget(req.url) : null;
    if (!target) {
      for (const listener of listeners) listener.call(server, req, res);
      return;
    }
    serveEventStream(req, res, target, options).catch((error: unknown) => {
      log.error({ err: error instanceof Error ? error.message : String(error), url: req.url }, "event stream failed");
      if (res.headersSent) return void res.destroy();
      void sendAnswer(res, errorResponse(error));
    });
  });
}

const INSTALLED = Symbol.for("prompt2video.node-event-streams");

/**
 * From instrumentation.ts: on a self-hosted production server, serve the event streams on the
 * Node server (see above). Once per process.
 */
export function serveEventStreamsOnNodeServer(): void {
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
    serveEventStreamsOn(server);
  });
}
