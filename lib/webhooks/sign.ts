import { randomBytes } from "node:crypto";
import { Webhook } from "standardwebhooks";

/**
 * Signs a delivery in the Standard Webhooks scheme, as Replicate does and as verify.ts checks:
 * HMAC-SHA256 over `${id}.${timestamp}.${rawBody}` keyed with the secret after `whsec_`. The one
 * signer of the app (the local engine), of the test servers and of the benchmark.
 */
export type SignedHeaders = {
  "content-type": "application/json";
  "webhook-id": string;
  "webhook-timestamp": string;
  "webhook-signature": string;
};

/** A fresh message id. Retries of one delivery keep theirs: it is the receiver's dedupe key. */
export function newWebhookId(): string {
  return `msg_${randomBytes(18).toString("base64url")}`;
}

/** A signer for one secret (`whsec_…`); it throws at once on a malformed secret. */
export function webhookSigner(secret: string) {
  const webhook = new Webhook(secret);
  /** The headers of `body` signed as message `id` at time `at` (default: now). */
  return (body: string, id: string = newWebhookId(), at: Date = new Date()): SignedHeaders => ({
    "content-type": "application/json",
    "webhook-id": id,
    "webhook-timestamp": String(Math.floor(at.getTime() / 1000)),
    "webhook-signature": webhook.sign(id, at, body),
  });
}

export type WebhookSigner = ReturnType<typeof webhookSigner>;
