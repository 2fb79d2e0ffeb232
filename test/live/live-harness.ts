import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { createScheduler, startAppHarness, type AppHarness } from "../support/app-harness";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import type { JobStore } from "@/lib/store/types";
import { eventStreamResponse, type EventStreamOptions } from "@/lib/jobs/adapters/event-stream";
import { serveNodeRoutesOn } from "@/lib/jobs/adapters/node-routes";
import { env } from "@/lib/env";
import { withStreamSlot } from "@/lib/limits/stream-caps";

/**
 * The app harness (webhook and status routes) plus GET /api/events/[id] on a second loopback
 * server that streams (the harness buffers whole bodies), served as the app serves it: by the Node
 * server itself (`transport: "node"`, the default; lib/jobs/adapters/node-routes.ts, as
 * under `next start`) or by the route handler's web stream piped to the socket (`"web"`, as on
 * Vercel and under `next dev`). The store's subscriptions are counted, so tests can check that
 * every stream let go of its subscription.
 */
export type StreamTransport = "node" | "web";

export type LiveHarness = AppHarness & {
  /** Origin of the events server: `${eventsOrigin}/api/events/<id>`. */
  eventsOrigin: string;
  eventsUrl(id: string, query?: string): string;
  /** Store subscriptions open right now. */
  subscriptions(): number;
  /** Resolves when reconciliations started by streams have settled. */
  settleStreams(): Promise<void>;
};

function countSubscriptions(store: JobStore): () => number {
  let open = 0;
  const subscribe = store.subscribe.bind(store);
  store.subscribe = (id, onChange, knownSeq) => {
    open++;
    const unsubscribe = subscribe(id, onChange, knownSeq);
    let done = false;
    return () => {
      if (done) return;
      done = true;
      open--;
      unsubscribe();
    };
  };
  return () => open;
}

export async function startLiveHarness(
  opts: {
    env?: Record<string, string>;
    store?: (dataDir: string) => JobStore;
    stream?: EventStreamOptions;
    /** Within the open-stream caps, as the route is (lib/limits/stream-caps.ts). */
    caps?: boolean;
    transport?: StreamTransport;
  } = {},
): Promise<LiveHarness> {
  let count: () => number = () => 0;
  const app = await startAppHarness({
    env: opts.env,
    store: (dataDir) => {
      const store = opts.store ? opts.store(dataDir) : new EmbeddedStore({ dir: dataDir });
      count = countSubscriptions(store);
      return store;
    },
  });

  const { schedule, settle: settleStreams } = createScheduler();
  let origin = "";
  const server: Server = createServer((req, res) => {
    if (opts.transport !== "web") return void res.writeHead(404).end();
    void (async () => {
      const url = new URL(req.url ?? "/", origin);
      const match = url.pathname.match(/^\/api\/events\/([^/]+)$/);
      if (req.method !== "GET" || !match) return void res.writeHead(404).end();
      // The client going away aborts the request, as in Next.
      const aborter = new AbortController();
      res.on("close", () => aborter.abort());
      const headers = new Headers();
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
      const request = new Request(url, { headers, signal: aborter.signal });
      const open = (onClose?: () => void) =>
        eventStreamResponse(request, decodeURIComponent(match[1]!), { schedule, ...opts.stream, onClose });
      const response = await (opts.caps ? withStreamSlot(request, open) : open());
      res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
      if (!response.body) return void res.end();
      res.flushHeaders();
      const reader = response.body.getReader();
      res.on("close", () => void reader.cancel().catch(() => undefined));
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        res.write(value);
      }
      res.end();
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(500);
      res.end(String(error));
    });
  });
  if (opts.transport !== "web") {
    // In front of the 404 listener above, as in front of Next's.
    const noCaps = { ...env(), EVENT_STREAMS_PER_CLIENT: 0, EVENT_STREAMS_MAX: 0 };
    serveNodeRoutesOn(server, { schedule, ...opts.stream, caps: opts.caps ? undefined : noCaps });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    ...app,
    eventsOrigin: origin,
    eventsUrl: (id, query) => `${origin}/api/events/${id}${query ? `?${query}` : ""}`,
    subscriptions: () => count(),
    settleStreams,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      await settleStreams();
      await app.close();
    },
  };
}
