import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { waitFor } from "../support/wait-for";
import { makeRenderingJob } from "../support/job-factory";
import { ownerCookie } from "../support/owner";
import { startLiveHarness, type LiveHarness } from "./live-harness";
import { jobEvents, openSse, type SseConnection } from "./sse-client";
import { nodeRouteTarget, serveNodeRoutesOn } from "@/lib/jobs/adapters/node-routes";
import { beginShutdown } from "@/lib/ops/shutdown";
import type { JobStore } from "@/lib/store/types";

/**
 * Self-hosted, the Node server answers GET /api/events/<id> and GET /api/status/<id> itself,
 * before Next (lib/jobs/adapters/node-routes.ts): every other request must reach Next exactly as
 * it came, and the routes' own promises (owner only, security headers, ETag, a slow client
 * dropped) must hold on this path too. The stream's behaviour itself is tested on both paths in
 * event-stream.test.ts.
 */

const servers: http.Server[] = [];
const streams: SseConnection[] = [];
const sockets: net.Socket[] = [];
let app: LiveHarness | undefined;

afterEach(async () => {
  for (const s of streams.splice(0)) s.close();
  for (const s of sockets.splice(0)) s.destroy();
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
  await app?.close();
  app = undefined;
});

/** A server whose own listener stands for Next: it records what reaches it. */
async function nextLikeServer(): Promise<{ origin: string; reached: string[] }> {
  const reached: string[] = [];
  const server = http.createServer((req, res) => {
    reached.push(`${req.method} ${req.url}`);
    res.writeHead(200, { "content-type": "text/plain" }).end("from next");
  });
  serveNodeRoutesOn(server);
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, reached };
}

const ID = "A".repeat(22);

describe("the event stream and status routes on the Node server", () => {
  it("takes only GET /api/events/<id> and GET /api/status/<id>; every other request reaches Next as it came", async () => {
    const { origin, reached } = await nextLikeServer();
    const toNext: [string, string][] = [
      ["GET", "/"],
      ["GET", "/api/events"],
      ["GET", `/api/events/${ID}/`],
      ["GET", `/api/events/${ID}/more`],
      ["GET", `/api/eventsX/${ID}`],
      ["POST", `/api/events/${ID}`],
      ["HEAD", `/api/events/${ID}`],
      ["GET", `/api/status/${ID}/`],
      ["DELETE", `/api/status/${ID}`],
      ["GET", `/api/jobs/${ID}`],
    ];
    for (const [method, path] of toNext) {
      const res = await fetch(origin + path, { method, body: method === "POST" ? "{}" : undefined });
      expect(res.status, `${method} ${path}`).toBe(200);
      if (method !== "HEAD") expect(await res.text()).toBe("from next");
    }
    expect(reached).toEqual(toNext.map(([m, p]) => `${m} ${p}`));

    // The stream's own answers, with the headers every API answer carries.
    const missing = await fetch(`${origin}/api/events/${ID}?since=3`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ error: { code: "not_found" } });
    expect(missing.headers.get("content-security-policy")).toContain("frame-ancestors 'none'");
    expect(missing.headers.get("x-content-type-options")).toBe("nosniff");
    expect(missing.headers.get("x-frame-options")).toBe("DENY");
    const malformed = await fetch(`${origin}/api/events/not%20an%20id`);
    expect(malformed.status).toBe(400);
    const status = await fetch(`${origin}/api/status/${ID}`);
    expect(status.status).toBe(404);
    expect(await status.json()).toMatchObject({ error: { code: "not_found" } });
    expect(status.headers.get("x-frame-options")).toBe("DENY");
    expect((await fetch(`${origin}/api/status/not%20an%20id`)).status).toBe(400);
    expect(reached).toHaveLength(toNext.length);
  });

  it("reads the route, id and ?since= of a request target", () => {
    expect(nodeRouteTarget(`/api/events/${ID}`)).toEqual({ route: "events", id: ID, since: null });
    expect(nodeRouteTarget(`/api/events/${ID}?since=12&x=1`)).toEqual({ route: "events", id: ID, since: "12" });
    expect(nodeRouteTarget(`/api/status/${ID}?t=1`)).toEqual({ route: "status", id: ID, since: null });
    expect(nodeRouteTarget(`/api/events/a%2Fb`)).toEqual({ route: "events", id: "a/b", since: null });
    expect(nodeRouteTarget(`/api/events/%E0%A4%A`)).toBeNull();
    expect(nodeRouteTarget(`http://host/api/events/${ID}`)).toBeNull();
    expect(nodeRouteTarget(`/api/health`)).toBeNull();
    expect(nodeRouteTarget(undefined)).toBeNull();
  });

  it("answers a job's status to its owner only, with its ETag, 304 and the security headers", async () => {
    app = await startLiveHarness();
    const job = makeRenderingJob();
    await app.store.create(job);
    const cookie = await ownerCookie();
    const url = `${app.eventsOrigin}/api/status/${job.id}`;

    expect((await fetch(url)).status).toBe(404);
    expect((await fetch(url, { headers: { cookie: await ownerCookie("someoneElse00000000000") } })).status).toBe(404);

    const mine = await fetch(url, { headers: { cookie } });
    expect(mine.status).toBe(200);
    expect(await mine.json()).toMatchObject({ id: job.id, seq: 0, status: "processing" });
    expect(mine.headers.get("content-type")).toMatch(/^application\/json/);
    expect(mine.headers.get("cache-control")).toBe("no-store");
    expect(mine.headers.get("vary")).toBe("Cookie");
    expect(mine.headers.get("content-security-policy")).toContain("script-src 'none'");
    const etag = mine.headers.get("etag")!;
    expect(etag).toBe(`"${job.id}.0"`);
    const same = await fetch(url, { headers: { cookie, "if-none-match": etag } });
    expect(same.status).toBe(304);
    expect(await same.text()).toBe("");
    await app.store.update(job.id, (j) => ({ ...j, message: "changed" }));
    const changed = await fetch(url, { headers: { cookie, "if-none-match": etag } });
    expect(changed.status).toBe(200);
    expect(changed.headers.get("etag")).toBe(`"${job.id}.1"`);
  });

  it("streams a job to its owner only, with the security headers", async () => {
    app = await startLiveHarness();
    const job = makeRenderingJob();
    await app.store.create(job);
    const cookie = await ownerCookie();

    const stranger = await fetch(app.eventsUrl(job.id), {
      headers: { cookie: await ownerCookie("someoneElse00000000000") },
    });
    expect(stranger.status).toBe(404);
    const nobody = await fetch(app.eventsUrl(job.id));
    expect(nobody.status).toBe(404);

    const s = openSse(app.eventsUrl(job.id), { cookie });
    streams.push(s);
    const { status, headers } = await s.response;
    expect(status).toBe(200);
    expect(headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(headers["content-security-policy"]).toContain("script-src 'none'");
    expect(headers["referrer-policy"]).toBe("strict-origin-when-cross-origin");
    await waitFor(
      async () => jobEvents(s.messages).length,
      (n) => n === 1,
    );
    expect(jobEvents(s.messages)[0]!.job).toMatchObject({ id: job.id, seq: 0 });
  });

  it("cuts off a client that stops reading once its backlog passes the limit, and lets go of the store", async () => {
    const limit = 16 * 1024;
    app = await startLiveHarness({ stream: { maxBufferedBytes: limit } });
    const store: JobStore = app.store;
    const job = makeRenderingJob();
    await store.create(job);
    const cookie = await ownerCookie();

    // A client that sends its request and never reads a byte of the answer.
    const { port } = new URL(app.eventsOrigin);
    const socket = net.connect(Number(port), "127.0.0.1");
    sockets.push(socket);
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.on("error", () => undefined);
    await new Promise<void>((resolve) => socket.once("connect", () => resolve()));
    socket.write(`GET /api/events/${job.id} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${cookie}\r\n\r\n`);
    socket.pause();
    await waitFor(
      async () => app!.subscriptions(),
      (n) => n === 1,
    );

    // Big changes fill the socket's buffers on both sides, then the response's own.
    const padding = "x".repeat(64 * 1024);
    let changes = 0;
    while (app.subscriptions() > 0 && changes < 500) {
      await store.update(job.id, (j) => ({ ...j, message: `change ${++changes} ${padding}` }));
    }
    expect(app.subscriptions()).toBe(0);
    expect(changes).toBeLessThan(500);
    // The server cut the connection rather than keep the backlog for a client that does not read:
    // reading now, the client gets what the sockets held and then the end of the connection, not
    // the end of the answer (a chunked answer ends with a zero-length chunk).
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    socket.resume();
    await closed;
    const text = Buffer.concat(received).toString("latin1");
    expect(text).toMatch(/^HTTP\/1\.1 200 /);
    expect(text.endsWith("\r\n0\r\n\r\n")).toBe(false);
  });
});

// Last in this file: the process stays "stopping" afterwards (each test file has its own process).
describe("a server that stops (a deploy)", () => {
  it("ends its open streams, so that browsers reconnect to the next server", async () => {
    app = await startLiveHarness({ stream: { tickMs: 50, heartbeatMs: 3_600_000 } });
    const job = makeRenderingJob();
    await app.store.create(job);
    const s = openSse(app.eventsUrl(job.id), { cookie: await ownerCookie() });
    streams.push(s);
    await waitFor(
      async () => jobEvents(s.messages).length,
      (n) => n === 1,
    );
    beginShutdown("SIGTERM");
    await s.ended;
    expect(app.subscriptions()).toBe(0);
    // The job goes on (another server picks it up); the browser reconnects with Last-Event-ID.
    expect(jobEvents(s.messages).map((e) => e.job.status)).toEqual(["processing"]);
  });
});
