import { randomBytes } from "node:crypto";
import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import http from "node:http";
import type { AddressInfo } from "node:net";
import {
  ALL_EVENTS,
  base32,
  ERRORS,
  LLM_TOKENS,
  sampleVideoPath,
  TERMINAL,
  tqdm,
  type FakePrediction,
  type Scenario,
  type WebhookEvent,
} from "./fake-replicate-data";
import { waitFor } from "./wait-for";
import { webhookSigner } from "@/lib/webhooks/sign";

export { sampleVideoPath, type FakePrediction, type Scenario, type WebhookEvent };

/**
 * A Replicate-compatible HTTP server for tests: the real `replicate` client talks to it through
 * `baseUrl`. Runs progress over time, webhooks are signed with `standardwebhooks`, output files
 * are served from `/files/<id>.mp4` until `deleteOutputs()` (Replicate deletes them after an hour).
 */

export type FakeTiming = { startingMs: number; processingMs: number; ticks: number };

export type FakeReplicateOptions = {
  token?: string;
  signingSecret?: string;
  /** Scenario of every model without its own. */
  scenario?: Scenario;
  /** Per model ("owner/name") or version id: its scenario and output shape (video models: "string"). */
  models?: Record<string, { scenario?: Scenario; output?: "string" | "array" }>;
  /** Model name reported for a bare version id. */
  versionModels?: Record<string, string>;
  timing?: Partial<FakeTiming>;
  /** "rate-limit-create": how many creates answer 429 before they succeed (Infinity: all). */
  rateLimitCount?: number;
  retryAfterSeconds?: number;
  /** Delays before each retry of a failed `completed` webhook (Replicate's are minutes). */
  webhookRetryDelaysMs?: number[];
  /** MP4 served as every output; default: a 2 s 320x180 clip generated once with ffmpeg. */
  videoPath?: string;
  /** Deletes a prediction's output this long after it succeeded. */
  deleteOutputsAfterMs?: number;
  /**
   * An account's create rate limit: past `creates` accepted creates in `windowMs`, a create is
   * answered 429 with Retry-After (whole seconds until the oldest leaves the window). `now` is
   * the clock the window is measured on (default Date.now), so a test can move time on.
   */
  createRateLimit?: { creates: number; windowMs: number; now?: () => number };
  /** The first `slowCreates` creates (default all) answer this late; the prediction exists at once. */
  createDelayMs?: number;
  slowCreates?: number;
  /** Predictions per page of `GET /v1/predictions` (default 100). */
  listPageSize?: number;
};

/** Requests held until the test releases them; one whose client went away first is dropped unanswered. */
export type Gate = {
  /** Resolves when the first held request has arrived. */
  arrived: Promise<void>;
  /** Resolves when the client of a held request has gone away (its connection closed): it will be dropped. */
  abandoned: Promise<void>;
  /** Lets every held request (and later ones) through. */
  release(): void;
};

export type FakePredictionRecord = {
  prediction: FakePrediction;
  /** The create request body as received. */
  body: Record<string, unknown>;
  webhook: string | null;
  webhookEventsFilter: WebhookEvent[];
  scenario: Scenario;
  pendingDeliveries: number;
  /** Finishes only through complete() (holdRuns). */
  held?: boolean;
};

export type Delivery = {
  predictionId: string;
  event: WebhookEvent;
  webhookId: string;
  attempt: number;
  /** HTTP status of the receiver's answer, null when the request failed. */
  status: number | null;
  error?: string;
  payload: FakePrediction;
  /** When it was sent (ms since the epoch). */
  at: number;
};

/** A file uploaded through the files API (`POST /v1/files`), as the client sends frame images. */
export type FakeFile = { id: string; name: string; contentType: string; bytes: Buffer; url: string };

export type FakeReplicate = {
  origin: string;
  /** Ends with /v1, as the client's baseUrl. */
  baseUrl: string;
  token: string;
  signingSecret: string;
  predictions: Map<string, FakePredictionRecord>;
  requests: { method: string; path: string; status: number; at: number }[];
  deliveries: Delivery[];
  /** Files uploaded through the files API, by id; served at their `urls.get`. */
  files: Map<string, FakeFile>;
  /** The uploaded file an input value names (its `urls.get`), if any. */
  fileAt(url: unknown): FakeFile | undefined;
  /** For one model ("owner/name" or version id), or for every model without its own. */
  setScenario(scenario: Scenario, model?: string): void;
  /** Back to the scenarios of the options. */
  resetScenarios(): void;
  deleteOutputs(): void;
  /** Ends a running prediction now, succeeded with its output, whatever its timing says. */
  complete(id: string): void;
  /**
   * While on, predictions created from now on run (start, progress) but do not finish by
   * themselves: `complete(id)` ends them.
   */
  holdRuns(on: boolean): void;
  /**
   * Output downloads for which `match` is true wait (after their headers are read) until the
   * returned function is called; the others are answered at once. Returns the release.
   */
  holdDownloads(match: (req: http.IncomingMessage) => boolean): () => void;
  /** Output downloads asked for so far, with the Range header each one had. */
  downloads: { id: string; range: string | null; status: number }[];
  /** Webhook deliveries of these events are dropped (never sent, retries included), as a lost delivery. */
  dropDeliveries(events: WebhookEvent[]): void;
  /** Deliveries dropped so far. */
  dropped: { predictionId: string; event: WebhookEvent }[];
  /**
   * Holds creates before they are handled: a create whose connection closes while held never
   * happened (no prediction), as when the app dies before its request reaches Replicate.
   */
  holdCreates(): Gate;
  /** Resolves once the prediction is terminal and its webhooks (with retries) are delivered. */
  settled(id: string, timeoutMs?: number): Promise<FakePrediction>;
  close(): Promise<void>;
};

/** The app's environment for using `fake` as Replicate: its token, API base URL and webhook signing secret. */
export function replicateEnvOf(fake: FakeReplicate): Record<string, string> {
  return {
    REPLICATE_API_TOKEN: fake.token,
    REPLICATE_BASE_URL: fake.baseUrl,
    REPLICATE_WEBHOOK_SIGNING_SECRET: fake.signingSecret,
  };
}

export async function startFakeReplicate(opts: FakeReplicateOptions = {}): Promise<FakeReplicate> {
  const token = opts.token ?? `r8_fake_${base32(16)}`;
  const signingSecret = opts.signingSecret ?? `whsec_${randomBytes(24).toString("base64")}`;
  const timing: FakeTiming = { startingMs: 250, processingMs: 1200, ticks: 6, ...opts.timing };
  const retryDelays = opts.webhookRetryDelaysMs ?? [150, 300, 600];
  const videoPath = opts.videoPath ?? (await sampleVideoPath());
  const sign = webhookSigner(signingSecret);
  const initialScenarios = () =>
    new Map<string, Scenario>(
      Object.entries(opts.models ?? {}).flatMap(([k, v]) => (v.scenario ? [[k, v.scenario] as const] : [])),
    );
  let scenarios = initialScenarios();
  let globalScenario: Scenario = opts.scenario ?? "success";
  let throttledCreates = 0;
  let droppedEvents = new Set<WebhookEvent>();
  const dropped: FakeReplicate["dropped"] = [];
  const gates: { creates: Gate | null } = { creates: null };
  const makeGate = (): Gate & { wait(req: http.IncomingMessage): Promise<boolean> } => {
    let release!: () => void;
    let arrive!: () => void;
    let abandon!: () => void;
    const open = new Promise<void>((resolve) => (release = resolve));
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    const abandoned = new Promise<void>((resolve) => (abandon = resolve));
    return {
      arrived,
      abandoned,
      release,
      // Whether the request is still wanted once the gate opens.
      async wait(req) {
        arrive();
        const gone = new Promise<boolean>((resolve) =>
          req.socket.once("close", () => {
            abandon();
            resolve(false);
          }),
        );
        return Promise.race([open.then(() => !req.socket.destroyed), gone]);
      },
    };
  };
  /** When each accepted create happened, on the rate limit's clock. */
  const acceptedCreates: number[] = [];
  let delayedCreates = 0;
  let holdingRuns = false;
  const downloadHolds = new Set<{
    match: (req: http.IncomingMessage) => boolean;
    released: Promise<void>;
    release: () => void;
  }>();
  const downloads: FakeReplicate["downloads"] = [];
  const timers = new Set<NodeJS.Timeout>();
  const closing = new AbortController();
  const predictions = new Map<string, FakePredictionRecord>();
  const requests: FakeReplicate["requests"] = [];
  const deliveries: Delivery[] = [];
  const files = new Map<string, FakeFile>();
  let origin = "";

  const later = (ms: number, fn: () => void) => {
    const t = setTimeout(() => {
      timers.delete(t);
      fn();
    }, ms);
    timers.add(t);
    return t;
  };
  const now = () => new Date().toISOString();
  const snapshot = (p: FakePrediction): FakePrediction => structuredClone(p);

  async function send(
    rec: FakePredictionRecord,
    event: WebhookEvent,
    payload: FakePrediction,
    msgId: string,
    attempt: number,
  ) {
    const body = JSON.stringify(payload);
    const sentAt = new Date();
    const headers = sign(body, msgId, sentAt);
    let status: number | null = null;
    let error: string | undefined;
    try {
      const res = await fetch(rec.webhook ?? "", { method: "POST", headers, body, signal: closing.signal });
      status = res.status;
      await res.arrayBuffer().catch(() => undefined);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
    }
    deliveries.push({
      predictionId: payload.id,
      event,
      webhookId: msgId,
      attempt,
      status,
      error,
      payload,
      at: sentAt.getTime(),
    });
    const delay = retryDelays[attempt - 1];
    const failed = status === null || status < 200 || status > 299;
    if (event === "completed" && failed && delay !== undefined && !closing.signal.aborted) {
      rec.pendingDeliveries++;
      later(delay, () => void send(rec, event, payload, msgId, attempt + 1).finally(() => rec.pendingDeliveries--));
    }
  }

  function deliver(rec: FakePredictionRecord, event: WebhookEvent, payload = snapshot(rec.prediction)) {
    if (!rec.webhook || !rec.webhookEventsFilter.includes(event) || rec.scenario === "lose-webhooks") return;
    if (droppedEvents.has(event)) return void dropped.push({ predictionId: rec.prediction.id, event });
    const msgId = `msg_${base32(20)}`;
    const copies = rec.scenario === "duplicate-webhooks" ? 2 : 1;
    for (let i = 0; i < copies; i++) {
      rec.pendingDeliveries++;
      void send(rec, event, payload, msgId, 1).finally(() => rec.pendingDeliveries--);
    }
  }

  // Replicate throttles output and logs events to one per 500 ms.
  const early = new Map<string, FakePrediction>();
  const throttles = new Map<string, { timer: NodeJS.Timeout | null; last: number; events: Set<WebhookEvent> }>();
  function changed(rec: FakePredictionRecord, event: "output" | "logs") {
    const th = throttles.get(rec.prediction.id) ?? { timer: null, last: 0, events: new Set() };
    throttles.set(rec.prediction.id, th);
    th.events.add(event);
    if (th.timer) return;
    th.timer = later(Math.max(0, th.last + 500 - Date.now()), () => {
      th.timer = null;
      th.last = Date.now();
      const events = [...th.events];
      th.events.clear();
      if (TERMINAL.has(rec.prediction.status)) return;
      const wanted = events.find((e) => rec.webhookEventsFilter.includes(e));
      if (wanted) deliver(rec, wanted);
    });
  }

  function finish(rec: FakePredictionRecord, status: FakePrediction["status"], patch: Partial<FakePrediction> = {}) {
    const p = rec.prediction;
    if (TERMINAL.has(p.status)) return;
    const stale = early.get(p.id) ?? snapshot(p);
    const th = throttles.get(p.id);
    if (th?.timer) clearTimeout(th.timer);
    Object.assign(p, { status, completed_at: now(), ...patch });
    if (p.started_at) p.metrics.predict_time = (Date.parse(p.completed_at ?? "") - Date.parse(p.started_at)) / 1000;
    deliver(rec, "completed");
    if (rec.scenario === "out-of-order") {
      // A stale delivery after the completed one; counted as pending until it has gone out.
      rec.pendingDeliveries++;
      later(50, () => {
        deliver(rec, "logs", stale);
        rec.pendingDeliveries--;
      });
    }
    if (status === "succeeded" && opts.deleteOutputsAfterMs !== undefined) {
      later(opts.deleteOutputsAfterMs, () => removeOutput(rec));
    }
  }

  function removeOutput(rec: FakePredictionRecord) {
    if (!TERMINAL.has(rec.prediction.status)) return;
    Object.assign(rec.prediction, { output: null, data_removed: true });
  }

  function run(rec: FakePredictionRecord, outputShape: "string" | "array") {
    const p = rec.prediction;
    const llm = /^(meta|openai)\//.test(p.model);
    const { startingMs, processingMs, ticks } = timing;
    later(startingMs, () => {
      if (TERMINAL.has(p.status)) return;
      if (rec.scenario === "abort") return finish(rec, "aborted");
      Object.assign(p, { status: "processing", started_at: now(), logs: "Loading pipeline components...\n" });
      if (llm) p.output = [];
      early.set(p.id, snapshot(p));
      changed(rec, "logs");
    });
    for (let i = 1; i <= ticks; i++) {
      later(startingMs + (processingMs * i) / ticks, () => {
        if (TERMINAL.has(p.status)) return;
        const half = i === Math.ceil(ticks / 2);
        if (half && rec.scenario === "fail") {
          p.logs += "Traceback (most recent call last):\ntorch.OutOfMemoryError: CUDA out of memory.\n";
          return finish(rec, "failed", { error: "CUDA out of memory. Tried to allocate 2.00 GiB" });
        }
        if (half && rec.scenario === "cancel-upstream") return finish(rec, "canceled");
        if (llm) {
          (p.output as string[]).push(
            ...LLM_TOKENS.slice(Math.floor(((i - 1) * 9) / ticks), Math.floor((i * 9) / ticks)),
          );
          changed(rec, "output");
        } else {
          const elapsed = (processingMs * i) / ticks / 1000;
          p.logs +=
            rec.scenario === "no-progress"
              ? `Rendering segment ${i} of ${ticks}\n`
              : `\r${tqdm(Math.round((i * 100) / ticks), 100, elapsed)}${i === ticks ? "\n" : ""}`;
          changed(rec, "logs");
        }
        if (i === ticks && !rec.held) {
          const url = `${origin}/files/${p.id}.mp4`;
          finish(rec, "succeeded", { output: llm ? p.output : outputShape === "array" ? [url] : url });
        }
      });
    }
  }

  function create(body: Record<string, unknown>, modelPath: string | null) {
    const versionRaw = typeof body.version === "string" ? body.version : "";
    const version = modelPath ? "hidden" : (versionRaw.split(":").pop() ?? "");
    const model =
      modelPath ??
      (versionRaw.includes(":")
        ? (versionRaw.split(":")[0] ?? "")
        : (opts.versionModels?.[version] ?? "fake/versioned-model"));
    const scenario = scenarios.get(model) ?? scenarios.get(version) ?? globalScenario;
    if (scenario === "rate-limit-create" && throttledCreates < (opts.rateLimitCount ?? 2)) {
      throttledCreates++;
      const s = opts.retryAfterSeconds ?? 1;
      return {
        status: 429,
        body: { detail: `Request was throttled. Your rate limit resets in ~${s}s.` },
        headers: { "retry-after": String(s) },
      };
    }
    const limit = opts.createRateLimit;
    if (limit) {
      const at = (limit.now ?? Date.now)();
      while (acceptedCreates.length > 0 && acceptedCreates[0]! <= at - limit.windowMs) acceptedCreates.shift();
      if (acceptedCreates.length >= limit.creates) {
        const s = Math.max(1, Math.ceil((acceptedCreates[0]! + limit.windowMs - at) / 1000));
        return {
          status: 429,
          body: { detail: `Request was throttled. Your rate limit resets in ~${s}s.` },
          headers: { "retry-after": String(s) },
        };
      }
    }
    const err = ERRORS[scenario];
    if (err) return err;
    const filter = (body.webhook_events_filter as WebhookEvent[] | undefined) ?? ALL_EVENTS;
    if (typeof body.input !== "object" || body.input === null || !filter.every((e) => ALL_EVENTS.includes(e))) {
      return {
        status: 422,
        body: { title: "Input validation failed", status: 422, detail: "- input: Invalid type. Expected: object" },
      };
    }
    const id = base32(26);
    const hook = typeof body.webhook === "string" ? body.webhook : null;
    const prediction: FakePrediction = {
      id,
      model,
      version,
      input: body.input as Record<string, unknown>,
      output: null,
      logs: "",
      error: null,
      status: "starting",
      source: "api",
      data_removed: false,
      created_at: now(),
      started_at: null,
      completed_at: null,
      urls: {
        get: `${origin}/v1/predictions/${id}`,
        cancel: `${origin}/v1/predictions/${id}/cancel`,
        stream: `${origin}/stream/${id}`,
        web: `https://replicate.com/p/${id}`,
      },
      metrics: {},
      ...(hook ? { webhook: hook, webhook_events_filter: filter } : {}),
    };
    if (limit) acceptedCreates.push((limit.now ?? Date.now)());
    const rec: FakePredictionRecord = {
      prediction,
      body,
      webhook: hook,
      webhookEventsFilter: filter,
      scenario,
      pendingDeliveries: 0,
      held: holdingRuns,
    };
    predictions.set(id, rec);
    deliver(rec, "start");
    run(rec, opts.models?.[model]?.output ?? opts.models?.[version]?.output ?? "string");
    if (scenario === "http-500-after-create") return { status: 500, body: { detail: "Internal server error" } };
    return { status: 201, body: snapshot(prediction) };
  }

  /**
   * A page of `GET /v1/predictions`: newest first, `next` is the URL of the following page (a
   * cursor), as Replicate's. Items carry what the reference documents (id, model, version,
   * status, timestamps, urls, source); input and webhook only come with `GET /v1/predictions/{id}`.
   */
  function listPage(cursor: string | null) {
    const size = opts.listPageSize ?? 100;
    const all = [...predictions.values()].map((r) => r.prediction).reverse();
    const start = cursor
      ? Math.max(
          0,
          all.findIndex((p) => p.id === cursor),
        )
      : 0;
    const page = all.slice(start, start + size);
    const following = all[start + size];
    const results = page.map(
      ({ input: _input, webhook: _webhook, webhook_events_filter: _filter, logs: _logs, ...item }) =>
        structuredClone(item),
    );
    return { previous: null, next: following ? `${origin}/v1/predictions?cursor=${following.id}` : null, results };
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
    const url = new URL(req.url ?? "/", origin);
    const json = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      res.writeHead(status, { "content-type": "application/json", ...headers }).end(JSON.stringify(body));
      return status;
    };
    const file = /^\/files\/([a-z0-9]+)\.mp4$/.exec(url.pathname);
    if (file && req.method === "GET") {
      const id = file[1] ?? "";
      const range = req.headers.range ?? null;
      for (const hold of [...downloadHolds]) if (hold.match(req)) await hold.released;
      const status = await serveOutput(id, range, res);
      downloads.push({ id, range, status });
      return status;
    }
    const uploaded = /^\/files\/(f_[a-z0-9]+)$/.exec(url.pathname);
    if (uploaded && req.method === "GET") {
      const f = files.get(uploaded[1] ?? "");
      if (!f) return json(404, { detail: "Not found." });
      res.writeHead(200, { "content-type": f.contentType, "content-length": String(f.bytes.length) }).end(f.bytes);
      return 200;
    }
    if (!url.pathname.startsWith("/v1/")) return json(404, { detail: "Not found." });
    if (req.headers.authorization !== `Bearer ${token}`) return json(401, { detail: "Invalid token." });

    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    // The files API: multipart with the file in `content` (and JSON `metadata`), as the client sends it.
    if (req.method === "POST" && url.pathname === "/v1/files") {
      const form = await new Response(Buffer.concat(chunks), {
        headers: { "content-type": req.headers["content-type"] ?? "" },
      })
        .formData()
        .catch(() => null);
      const content = form?.get("content");
      if (!(content instanceof Blob))
        return json(422, { title: "Invalid file", status: 422, detail: "- content: Required" });
      const id = `f_${base32(12)}`;
      const file: FakeFile = {
        id,
        name: "name" in content && typeof content.name === "string" ? content.name : id,
        contentType: content.type || "application/octet-stream",
        bytes: Buffer.from(await content.arrayBuffer()),
        url: `${origin}/files/${id}`,
      };
      files.set(id, file);
      return json(201, {
        id,
        name: file.name,
        content_type: file.contentType,
        size: file.bytes.length,
        etag: id,
        checksums: {},
        metadata: {},
        created_at: now(),
        expires_at: null,
        urls: { get: file.url },
      });
    }
    let body: Record<string, unknown> = {};
    try {
      if (chunks.length) body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
    } catch {
      return json(400, { detail: "Malformed JSON." });
    }

    const route = `${req.method} ${url.pathname.replace(/\/+$/, "")}`;
    let m: RegExpExecArray | null;
    if (route === "GET /v1/webhooks/default/secret") return json(200, { key: signingSecret });
    if (route === "GET /v1/account")
      return json(200, { type: "organization", username: "fake", name: "Fake Replicate", github_url: null });
    const created = async (r: ReturnType<typeof create>) => {
      // A slow answer: the run has started, but the caller hears of it late (or gives up first).
      if (opts.createDelayMs && delayedCreates++ < (opts.slowCreates ?? Infinity)) {
        await new Promise<void>((resolve) => later(opts.createDelayMs ?? 0, resolve));
      }
      return json(r.status, r.body, "headers" in r ? r.headers : {});
    };
    const held = gates.creates as ReturnType<typeof makeGate> | null;
    if (
      held &&
      req.method === "POST" &&
      /^\/v1\/(models\/[^/]+\/[^/]+\/)?predictions$/.test(url.pathname) &&
      !(await held.wait(req))
    ) {
      return 499;
    }
    if (route === "GET /v1/predictions") return json(200, listPage(url.searchParams.get("cursor")));
    if ((m = /^POST \/v1\/models\/([^/]+\/[^/]+)\/predictions$/.exec(route))) {
      return created(create(body, m[1] ?? ""));
    }
    if (route === "POST /v1/predictions") {
      if (typeof body.version !== "string")
        return json(422, { title: "Input validation failed", status: 422, detail: "- version: Required" });
      return created(create(body, null));
    }
    if ((m = /^(GET|POST) \/v1\/predictions\/([a-z0-9]+)(\/cancel)?$/.exec(route))) {
      const rec = predictions.get(m[2] ?? "");
      if (!rec || (m[1] === "GET") === Boolean(m[3])) return json(404, { detail: "Not found." });
      if (m[3]) finish(rec, "canceled");
      return json(200, snapshot(rec.prediction));
    }
    return json(404, { detail: "Not found." });
  }

  /** The output file, with a single byte range when asked (as Replicate's file hosts do). */
  async function serveOutput(id: string, range: string | null, res: http.ServerResponse): Promise<number> {
    const rec = predictions.get(id);
    if (!rec || rec.prediction.data_removed || rec.prediction.status !== "succeeded") {
      res.writeHead(404, { "content-type": "text/plain" }).end("Not found");
      return 404;
    }
    const { size } = await stat(videoPath);
    const spec = range ? /^bytes=(\d*)-(\d*)$/.exec(range.trim()) : null;
    if (spec && (spec[1] || spec[2])) {
      const start = spec[1] ? Number(spec[1]) : Math.max(0, size - Number(spec[2]));
      const end = spec[1] && spec[2] ? Math.min(Number(spec[2]), size - 1) : size - 1;
      if (start >= size || end < start) {
        res.writeHead(416, { "content-range": `bytes */${size}` }).end();
        return 416;
      }
      res.writeHead(206, {
        "content-type": "video/mp4",
        "accept-ranges": "bytes",
        "content-length": String(end - start + 1),
        "content-range": `bytes ${start}-${end}/${size}`,
      });
      createReadStream(videoPath, { start, end }).pipe(res);
      return 206;
    }
    res.writeHead(200, { "content-type": "video/mp4", "accept-ranges": "bytes", "content-length": String(size) });
    createReadStream(videoPath).pipe(res);
    return 200;
  }

  const server = http.createServer((req, res) => {
    handle(req, res)
      .then((status) => requests.push({ method: req.method ?? "", path: req.url ?? "", status, at: Date.now() }))
      .catch((e: unknown) => {
        if (!res.headersSent) res.writeHead(500, { "content-type": "application/json" });
        res.end(JSON.stringify({ detail: String(e) }));
      });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    origin,
    baseUrl: `${origin}/v1`,
    token,
    signingSecret,
    predictions,
    requests,
    deliveries,
    files,
    fileAt(value) {
      return typeof value === "string" ? [...files.values()].find((f) => f.url === value) : undefined;
    },
    setScenario(scenario, model) {
      if (model) scenarios.set(model, scenario);
      else globalScenario = scenario;
      throttledCreates = 0;
    },
    resetScenarios() {
      scenarios = initialScenarios();
      globalScenario = opts.scenario ?? "success";
      throttledCreates = 0;
    },
    deleteOutputs() {
      for (const rec of predictions.values()) removeOutput(rec);
    },
    dropped,
    dropDeliveries(events) {
      droppedEvents = new Set(events);
    },
    holdCreates() {
      gates.creates = makeGate();
      return gates.creates;
    },
    complete(id) {
      const rec = predictions.get(id);
      if (!rec) throw new Error(`no prediction ${id}`);
      const p = rec.prediction;
      if (/^(meta|openai)\//.test(p.model)) return finish(rec, "succeeded", { output: LLM_TOKENS });
      const shape = opts.models?.[p.model]?.output ?? opts.models?.[p.version]?.output ?? "string";
      const url = `${origin}/files/${p.id}.mp4`;
      finish(rec, "succeeded", { started_at: p.started_at ?? now(), output: shape === "array" ? [url] : url });
    },
    holdRuns(on) {
      holdingRuns = on;
    },
    downloads,
    holdDownloads(match) {
      let release = () => {};
      const released = new Promise<void>((resolve) => (release = resolve));
      const hold = { match, released, release };
      downloadHolds.add(hold);
      return () => {
        downloadHolds.delete(hold);
        hold.release();
      };
    },
    async settled(id, timeoutMs) {
      const rec = await waitFor(
        () => predictions.get(id),
        (r) => r !== undefined && TERMINAL.has(r.prediction.status) && r.pendingDeliveries === 0,
        timeoutMs,
      );
      return snapshot(rec!.prediction);
    },
    async close() {
      closing.abort();
      for (const hold of downloadHolds) hold.release();
      downloadHolds.clear();
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
