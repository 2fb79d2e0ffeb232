import "server-only";
import { replicateConfigured } from "@/lib/engines";
import type { EngineId } from "@/lib/core/job";
import { log } from "@/lib/log";
import { localWebhookSecret } from "@/lib/webhooks/local-secret";
import { replicateSigningSecret } from "@/lib/webhooks/replicate-secret";

export type WebhookSigner = { engine: EngineId; secret: string };

/** Every secret a genuine delivery may be signed with: the local engine's, and Replicate's when configured. */
export async function webhookSecrets(): Promise<WebhookSigner[]> {
  const secrets: WebhookSigner[] = [{ engine: "local", secret: await localWebhookSecret() }];
  if (replicateConfigured()) {
    try {
      secrets.push({ engine: "replicate", secret: await replicateSigningSecret() });
    } catch (error) {
      // Without the secret, Replicate deliveries are refused (it retries the final one) and reconciliation covers the rest.
      log.warn(
        { err: error instanceof Error ? error.message : String(error) },
        "could not get the Replicate signing secret",
      );
    }
  }
  return secrets;
}
