import "server-only";
import { randomBytes } from "node:crypto";
import { env } from "@/lib/env";
import { getStore } from "@/lib/store";

let cached: Promise<string> | null = null;

/**
 * The secret the local preview engine signs its webhooks with: LOCAL_WEBHOOK_SECRET, or one made
 * on first use and kept in the store, so every instance and every restart agrees on it.
 */
export function localWebhookSecret(): Promise<string> {
  const configured = env().LOCAL_WEBHOOK_SECRET;
  if (configured) return Promise.resolve(configured);
  cached ??= getStore()
    .getOrCreateSecret("local-webhook", `whsec_${randomBytes(32).toString("base64")}`)
    .catch((error: unknown) => {
      cached = null;
      throw error;
    });
  return cached;
}

export function resetLocalSecretForTests(): void {
  cached = null;
}
