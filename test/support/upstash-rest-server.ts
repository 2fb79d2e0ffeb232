import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { Redis } from "ioredis";

/**
 * A loopback stand-in for the Upstash Redis REST API, forwarding to a real Redis, speaking what
 * @upstash/redis 1.39 sends: POST / (one command as a JSON array), POST /pipeline and
 * POST /multi-exec (arrays of commands, answered with [{result}|{error}]), Bearer auth, and
 * `Upstash-Encoding: base64`, under which every string in a result (also inside nested arrays)
 * is base64 of its UTF-8 bytes while integers and null stay as they are. The client decodes
 * exactly that (and passes a bare "OK" through).
 *
 * Pub/sub: POST /subscribe/<channel> answers a server-sent event stream, `data: subscribe,
 * <channel>,1` once Redis has the subscription, then `data: message,<channel>,<message>` for
 * every message published on that channel in Redis (by PUBLISH or a script), fanned out to every
 * open stream of the channel from one Redis subscriber connection.
 */
export type UpstashRestServer = {
  url: string;
  token: string;
  /** Commands received, as Upstash counts them: one per command (also in a pipeline), one per subscribe. */
  readonly commands: number;
  /** Subscribe streams open now, per channel. */
  streams(channel?: string): number;
  /**
   * Ends every open subscribe stream (as a lost connection would). With `hold`, new subscribe
   * requests wait until the returned function is called.
   */
  dropStreams(opts?: { hold?: boolean }): () => void;
  close(): Promise<void>;
};

type Command = [string, ...unknown[]];

function encode(value: unknown): unknown {
  if (typeof value === "string") return Buffer.from(value, "utf8").toString("base64");
  if (Array.isArray(value)) return value.map(encode);
  return value;
}

function isCommand(value: unknown): value is Command {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === "string";
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

async function readBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return JSON.parse(Buffer.concat(chunks).toString("utf8"));
}

const toArgs = (command: Command) => command.slice(1).map((a) => (typeof a === "string" ? a : JSON.stringify(a)));
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export async function startUpstashRestServer(opts: { redisUrl: string; token: string }): Promise<UpstashRestServer> {
  const redis = new Redis(opts.redisUrl, { maxRetriesPerRequest: 1 });
  let commands = 0;
  const run = (command: Command) => {
    commands++;
    return redis.call(command[0], toArgs(command));
  };
  const pubsub = pubSubFanOut(opts.redisUrl);

  const server = createServer((req, res) => {
    void (async () => {
      if (req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { error: "Unauthorized" });
      if (req.method !== "POST") return send(res, 405, { error: "Only POST is emulated" });
      const subscribe = /^\/subscribe\/([^/?]+)/.exec(req.url ?? "");
      if (subscribe) {
        commands++;
        req.resume();
        return pubsub.open(decodeURIComponent(subscribe[1]!), res);
      }
      const base64 = String(req.headers["upstash-encoding"] ?? "").toLowerCase() === "base64";
      const out = (result: unknown) => ({ result: base64 ? encode(result) : result });
      let body: unknown;
      try {
        body = await readBody(req);
      } catch {
        return send(res, 400, { error: "ERR failed to parse command" });
      }
      const path = (req.url ?? "/").split("?")[0];

      if (path === "/" || path === "") {
        if (!isCommand(body)) return send(res, 400, { error: "ERR failed to parse command" });
        try {
          return send(res, 200, out(await run(body)));
        } catch (err) {
          return send(res, 400, { error: message(err) });
        }
      }

      if (path === "/pipeline" || path === "/multi-exec") {
        if (!Array.isArray(body) || !body.every(isCommand))
          return send(res, 400, { error: "ERR failed to parse pipeline" });
        if (path === "/pipeline") {
          const replies = [];
          for (const command of body) {
            try {
              replies.push(out(await run(command)));
            } catch (err) {
              replies.push({ error: message(err) });
            }
          }
          return send(res, 200, replies);
        }
        const multi = redis.multi();
        commands += body.length;
        for (const command of body) multi.call(command[0], toArgs(command));
        try {
          const results = (await multi.exec()) ?? [];
          return send(
            res,
            200,
            results.map(([err, result]) => (err ? { error: message(err) } : out(result))),
          );
        } catch (err) {
          return send(res, 400, { error: message(err) });
        }
      }

      return send(res, 404, { error: `ERR unknown endpoint ${path}` });
    })().catch((err: unknown) => send(res, 500, { error: message(err) }));
  });

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    token: opts.token,
    get commands() {
      return commands;
    },
    streams: (channel) => pubsub.count(channel),
    dropStreams: (o) => pubsub.drop(o?.hold ?? false),
    async close() {
      pubsub.endAll();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await Promise.all([redis, pubsub.redis].map((r) => r.quit().catch(() => r.disconnect())));
    },
  };
}

/** One Redis subscriber connection; each channel's messages go to every stream open on it. */
function pubSubFanOut(redisUrl: string) {
  const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const streams = new Map<string, Set<ServerResponse>>();
  let held: Promise<void> | null = null;
  redis.on("message", (channel: string, message: string) => {
    for (const res of streams.get(channel) ?? []) res.write(`data: message,${channel},${message}\n\n`);
  });
  const remove = (channel: string, res: ServerResponse) => {
    const set = streams.get(channel);
    if (!set?.delete(res) || set.size > 0) return;
    streams.delete(channel);
    void redis.unsubscribe(channel).catch(() => undefined);
  };
  return {
    redis,
    async open(channel: string, res: ServerResponse) {
      if (held) await held;
      res.writeHead(200, { "content-type": "text/event-stream", "cache-control": "no-cache" });
      let set = streams.get(channel);
      if (!set) streams.set(channel, (set = new Set()));
      set.add(res);
      res.on("close", () => remove(channel, res));
      await redis.subscribe(channel);
      if (!res.writableEnded) res.write(`data: subscribe,${channel},1\n\n`);
    },
    count(channel?: string): number {
      if (channel) return streams.get(channel)?.size ?? 0;
      return [...streams.values()].reduce((n, set) => n + set.size, 0);
    },
    drop(hold: boolean): () => void {
      let release = () => {};
      if (hold) held = new Promise<void>((resolve) => (release = () => ((held = null), resolve())));
      this.endAll();
      return release;
    },
    endAll() {
      for (const [channel, set] of [...streams]) {
        for (const res of [...set]) {
          remove(channel, res);
          res.end();
        }
      }
    },
  };
}
