import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { resetEngineCaches } from "./reset";
import { resetEnvCache } from "@/lib/env";
import { installPeerStamp } from "@/lib/http/peer-address";
import { EmbeddedStore } from "@/lib/store/embedded-store";
import { setStoreForTests } from "@/lib/store";
import type { JobStore } from "@/lib/store/types";
import { cancelWake } from "@/lib/jobs/pipeline/dispatch";
import { handleDelivery } from "@/lib/webhooks/handle-delivery";
import { statusResponse } from "@/lib/jobs/adapters/status-response";
import { createJobResponse } from "@/lib/jobs/adapters/create-response";
import { GET as getFrame } from "@/app/api/jobs/[id]/frames/[frame]/route";
import { GET as getFile } from "@/app/api/files/[jobId]/[file]/route";
import { isTerminal, type Job } from "@/lib/core/job";
import { waitFor } from "./wait-for";
import { asOwner } from "./owner";

/**
 * The app's server-side paths (job creation, webhook, status; file serving is not needed here)
 * behind a real HTTP server on loopback, without Next: engines deliver real signed webhooks to it. Work that
 * the app would run after a response (`after`) is collected so tests can wait for it.
 */
export type AppHarness = {
  origin: string;
  port: number;
  dataDir: string;
  store: JobStore;
  /** Resolves when every task scheduled so far (and those they scheduled) has settled. */
  settle(): Promise<void>;
  close(): Promise<void>;
};

/** Collects work scheduled "after the response" (Next's `after`), so tests can wait for it. */
export function createScheduler() {
  const pending = new Set<Promise<unknown>>();
  const schedule = (task: () => Promise<unknown>) => {
    const p = task()
      .catch(() => undefined)
      .finally(() => pending.delete(p));
    pending.add(p);
  };
  const settle = async () => {
    while (pending.size > 0) await Promise.allSettled([...pending]);
  };
  return { schedule, pending, settle };
}

export async function toRequest(req: IncomingMessage, origin: string): Promise<Request> {
  const headers = new Headers();
  for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string") headers.set(k, v);
  const hasBody = req.method !== "GET" && req.method !== "HEAD";
  return new Request(new URL(req.url ?? "/", origin), {
    method: req.method,
    headers,
    body: hasBody ? (Readable.toWeb(req) as ReadableStream) : undefined,
    duplex: "half",
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers.entries()));
  res.end(response.body ? Buffer.from(await response.arrayBuffer()) : undefined);
}

export async function startAppHarness(
  opts: { env?: Record<string, string>; store?: (dataDir: string) => JobStore } = {},
): Promise<AppHarness> {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), "p2v-harness-"));
  // As instrumentation.ts does in Next: each request carries its connection's address.
  installPeerStamp();
  const { schedule, settle } = createScheduler();
  let origin = "";
  const server: Server = createServer((req, res) => {
    void (async () => {
      const request = await toRequest(req, origin);
      const url = new URL(request.url);
      const status = url.pathname.match(/^\/api\/status\/([^/]+)$/);
      let frame: RegExpMatchArray | null;
      let file: RegExpMatchArray | null;
      let response: Response;
      if (req.method === "POST" && url.pathname === "/api/webhook") response = await handleDelivery(request, schedule);
      else if (req.method === "POST" && url.pathname === "/api/jobs")
        response = await createJobResponse(request, schedule);
      else if (req.method === "GET" && status)
        response = await statusResponse(request, decodeURIComponent(status[1]!), schedule);
      else if (req.method === "GET" && (frame = url.pathname.match(/^\/api\/jobs\/([^/]+)\/frames\/([^/]+)$/)))
        response = await getFrame(request, { params: Promise.resolve({ id: frame[1]!, frame: frame[2]! }) });
      else if (req.method === "GET" && (file = url.pathname.match(/^\/api\/files\/([^/]+)\/([^/]+)$/)))
        response = await getFile(request, { params: Promise.resolve({ jobId: file[1]!, file: file[2]! }) });
      else response = Response.json({ error: "not found" }, { status: 404 });
      await send(res, response);
      // An early answer (413) leaves an unread body on a keep-alive socket: drain it.
      req.resume();
    })().catch((error: unknown) => {
      res.writeHead(500).end(String(error));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;

  const saved = { ...process.env };
  Object.assign(
    process.env,
    {
      DATA_DIR: dataDir,
      PORT: String(port),
      LOCAL_WEBHOOK_SECRET: `whsec_${Buffer.from("harness-secret-0123456789abcdef").toString("base64")}`,
    },
    opts.env ?? {},
  );
  resetEnvCache();
  resetEngineCaches();
  const store = opts.store ? opts.store(dataDir) : new EmbeddedStore({ dir: dataDir });
  setStoreForTests(store);

  return {
    origin,
    port,
    dataDir,
    store,
    settle,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
      // A wake for a held engine would dispatch on whatever store comes next.
      cancelWake();
      // Until no scheduled work is left (a task may schedule another).
      await settle();
      setStoreForTests(null);
      await store.close();
      for (const key of Object.keys(process.env)) if (!(key in saved)) delete process.env[key];
      Object.assign(process.env, saved);
      resetEnvCache();
      resetEngineCaches();
      // Work the test did not schedule through us (a render it started itself, an engine's
      // delivery) may still write a file while the folder goes: rm retries on ENOTEMPTY.
      await rm(dataDir, { recursive: true, force: true, maxRetries: 10 });
    },
  };
}

/**
 * Waits for a job to end, polling the status route like a browser does (which drives
 * reconciliation), then for the work scheduled after the answers; the job as stored.
 */
export async function finishedJob(app: AppHarness, id: string, timeoutMs = 60_000): Promise<Job> {
  await waitFor(
    async () => {
      // As the job's owner: anyone else is answered 404, with no reconciliation.
      const ownerId = (await app.store.get(id))?.ownerId;
      await fetch(`${app.origin}/api/status/${id}`, ownerId ? await asOwner({}, ownerId) : {});
      return app.store.get(id);
    },
    (j) => j !== null && isTerminal(j.status),
    timeoutMs,
  );
  await app.settle();
  return (await app.store.get(id))!;
}
