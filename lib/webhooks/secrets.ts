import "server-only";
import { replicateConfigured } from "@/lib/engines";
import { log } from "@/lib/log";
import { localWebhookSecret } from "@/lib/webhooks/local-secret";
import { replicateSigningSecret } from "@/lib/webhooks/replicate-secret";

/** Every secret a genuine delivery may be signed with: the local engine's, and Replicate's when configured. */
export async function webhookSecrets(): Promise<string[]> {
  const secrets = [await localWebhookSecret()];
  if (replicateConfigured()) {
    try {
      secrets.push(await replicateSigningSecret());
    } catch (error) {
      // Without the secret, Replicate deliveries are refused (it retries the final one) and reconciliation covers the rest.
      log.warn({ err: error instanceof Error ? error.message : String(error) }, "could not get the Replicate signing secret");
    }
  }
  return secrets;
}
