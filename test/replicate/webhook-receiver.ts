import http from "node:http";
import type { AddressInfo } from "node:net";
import { Webhook } from "standardwebhooks";

export type Received = {
  webhookId: string;
  verified: boolean;
  url: string;
  payload: { id: string; status: string; logs?: string | null; output?: unknown };
  at: number;
};

/** A tiny webhook endpoint that verifies every delivery with `standardwebhooks`. */
export async function startReceiver(secret: string, answer: (r: Received) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers = {
      "webhook-id": String(req.headers["webhook-id"] ?? ""),
      "webhook-timestamp": String(req.headers["webhook-timestamp"] ?? ""),
      "webhook-signature": String(req.headers["webhook-signature"] ?? ""),
    };
    let verified = true;
    try {
      new Webhook(secret).verify(raw, headers);
    } catch {
      verified = false;
    }
    const r: Received = {
      webhookId: headers["webhook-id"],
      verified,
      url: req.url ?? "",
      payload: JSON.parse(raw) as Received["payload"],
      at: Date.now(),
    };
    received.push(r);
    res.writeHead(answer(r), { "content-type": "application/json" }).end("{}");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/api/webhook`;
  return {
    url,
    received,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
