import { Webhook, WebhookVerificationError } from "standardwebhooks";

/**
 * Verifies a delivery signed in the Standard Webhooks scheme (Replicate's, and the local
 * engine's): HMAC-SHA256 over `${id}.${timestamp}.${rawBody}`, compared in constant time, with
 * a 5-minute timestamp tolerance. It must see the raw body: a re-serialised one fails.
 */
export type VerifyResult =
  /** `signer`: the index of the secret that matched. */
  | { ok: true; payload: unknown; webhookId: string; signer: number }
  | { ok: false; reason: "unsigned" | "bad_signature" | "malformed" };

/** The three signature headers, or null when one is missing (then there is nothing to verify). */
export function signatureHeaders(
  headers: Headers,
): Record<"webhook-id" | "webhook-timestamp" | "webhook-signature", string> | null {
  const webhookId = headers.get("webhook-id");
  const timestamp = headers.get("webhook-timestamp");
  const signature = headers.get("webhook-signature");
  if (!webhookId || !timestamp || !signature) return null;
  return { "webhook-id": webhookId, "webhook-timestamp": timestamp, "webhook-signature": signature };
}

export function verifyWebhook(rawBody: string, headers: Headers, secrets: readonly string[]): VerifyResult {
  const signed = signatureHeaders(headers);
  if (!signed) return { ok: false, reason: "unsigned" };
  for (const [signer, secret] of secrets.entries()) {
    try {
      const payload = new Webhook(secret).verify(rawBody, signed);
      return { ok: true, payload, webhookId: signed["webhook-id"], signer };
    } catch (error) {
      if (error instanceof WebhookVerificationError) continue;
      // The signature matched but the body is not JSON.
      if (error instanceof SyntaxError) return { ok: false, reason: "malformed" };
      continue;
    }
  }
  return { ok: false, reason: "bad_signature" };
}
