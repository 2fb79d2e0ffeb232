import http from "node:http";
import type { AddressInfo } from "node:net";
import { verifyWebhook } from "@/lib/webhooks/verify";

export type Received = {
  webhookId: string;
  verified: boolean;
  url: string;
  payload: { id: string; status: string; logs?: string | null; output?: unknown };
  at: number;
};

/** A tiny webhook endpoint that verifies every delivery as the app does (lib/webhooks/verify.ts). */
export async function startReceiver(secret: string, answer: (r: Received) => number = () => 200) {
  const received: Received[] = [];
  const server = http.createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks).toString("utf8");
    const headers = new Headers();
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"])
      headers.set(name, String(req.headers[name] ?? ""));
    const r: Received = {
      webhookId: headers.get("webhook-id") ?? "",
      verified: verifyWebhook(raw, headers, [secret]).ok,
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
