import { Webhook, WebhookVerificationError } from "standardwebhooks";

/**
 * Verifies a delivery signed in the Standard Webhooks scheme (Replicate's, and the local
 * engine's): HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`, compared in constant time, with
 * a 5-minute timestamp tolerance. It must see the raw body: a re-serialised one fails.
 */
export type VerifyResult =
  | { ok: true; payload: unknown; webhookId: string }
  | { ok: false; reason: "unsigned" | "bad_signature" | "malformed" };

export function verifyWebhook(rawBody: string, headers: Headers, secrets: readonly string[]): VerifyResult {
  const webhookId = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!webhookId || !timestamp || !signature) return { ok: false, reason: "unsigned" };
  const signed = { "webhook-id": webhookId, "webhook-timestamp": timestamp, "webhook-signature": signature };
  for (const secret of secrets) {
    try {
      const payload = new Webhook(secret).verify(rawBody, signed);
      return { ok: true, payload, webhookId };
    } catch (error) {
      if (error instanceof WebhookVerificationError) continue;
      // The signature matched but the body is not JSON.
      if (error instanceof SyntaxError) return { ok: false, reason: "malformed" };
      continue;
    }
  }
  return { ok: false, reason: "bad_signature" };
}
