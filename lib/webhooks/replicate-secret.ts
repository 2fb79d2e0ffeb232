import "server-only";
import type Replicate from "replicate";
import { replicateClient, toEngineError } from "@/lib/engines/replicate/client";
import { env } from "@/lib/env";

type Entry = {
  secret: string | null;
  pending: Promise<string> | null;
  failure: { error: unknown; until: number } | null;
};

// Per client, so that a changed token or base URL fetches its own secret.
const entries = new WeakMap<Replicate, Entry>();

/** A failed fetch is answered from memory this long: a flood of deliveries must not become a flood of requests. */
export const SECRET_FAILURE_TTL_MS = 30_000;

/**
 * The secret Replicate signs webhooks with: REPLICATE_WEBHOOK_SIGNING_SECRET when set, otherwise
 * fetched once from GET /v1/webhooks/default/secret and kept in memory. Concurrent callers share
 * one request; a failure is remembered for SECRET_FAILURE_TTL_MS, then the next caller asks again.
 */
export async function replicateSigningSecret(client?: Replicate): Promise<string> {
  const configured = env().REPLICATE_WEBHOOK_SIGNING_SECRET;
  if (configured) return configured;
  const c = client ?? replicateClient();
  let entry = entries.get(c);
  if (!entry) {
    entry = { secret: null, pending: null, failure: null };
    entries.set(c, entry);
  }
  if (entry.secret) return entry.secret;
  if (entry.failure && Date.now() < entry.failure.until) throw entry.failure.error;
  const e = entry;
  e.pending ??= fetchSecret(c)
    .then(
      (secret) => {
        e.secret = secret;
        return secret;
      },
      (error: unknown) => {
        e.failure = { error, until: Date.now() + SECRET_FAILURE_TTL_MS };
        throw error;
      },
    )
    .finally(() => {
      e.pending = null;
    });
  return e.pending;
}

async function fetchSecret(client: Replicate): Promise<string> {
  let key: unknown;
  try {
    key = (await client.webhooks.default.secret.get()).key;
  } catch (err) {
    throw toEngineError(err);
  }
  if (typeof key !== "string" || !key.startsWith("whsec_")) {
    throw new Error("Replicate returned a webhook signing secret that does not start with whsec_.");
  }
  return key;
}
