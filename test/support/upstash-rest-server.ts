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
 */
export type UpstashRestServer = { url: string; token: string; close(): Promise<void> };

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
  const run = (command: Command) => redis.call(command[0], toArgs(command));

  const server = createServer((req, res) => {
    void (async () => {
      if (req.headers.authorization !== `Bearer ${opts.token}`) return send(res, 401, { error: "Unauthorized" });
      if (req.method !== "POST") return send(res, 405, { error: "Only POST is emulated" });
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
        if (!Array.isArray(body) || !body.every(isCommand)) return send(res, 400, { error: "ERR failed to parse pipeline" });
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
        for (const command of body) multi.call(command[0], toArgs(command));
        try {
          const results = (await multi.exec()) ?? [];
          return send(res, 200, results.map(([err, result]) => (err ? { error: message(err) } : out(result))));
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
    async close() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
