import "server-only";
import Replicate, { type Prediction as ReplicatePrediction } from "replicate";
import { EngineError } from "@/lib/engines/types";
import { env } from "@/lib/env";

export const DEFAULT_REPLICATE_BASE_URL = "https://api.replicate.com/v1";

type FetchFn = (input: Request | string | URL, init?: RequestInit) => Promise<Response>;

/**
 * The client (replicate 1.4, lib/util.js `withAutomaticRetries`) retries 429s, 5xx on GET and any
 * thrown fetch error up to five times without a real delay: its sleep only runs for integer
 * delays, which its random jitter rules out, and it ignores Retry-After. Worse, it would resend a
 * create after a network error that may already have started a paid run. It passes the same
 * `init` object to every try of one call, so this fetch answers the later tries with the outcome
 * of the first: one network request per client call, and backoff happens in createPrediction.
 * It also sets `cache: "no-store"`, without which Next.js may serve a cached prediction.
 */
export function singleShotFetch(inner: FetchFn = globalThis.fetch): FetchFn {
  const outcomes = new WeakMap<RequestInit, Promise<Response>>();
  return (input, init) => {
    if (!init) return inner(input, { cache: "no-store" });
    let outcome = outcomes.get(init);
    if (!outcome) {
      outcome = inner(input, { ...init, cache: "no-store" });
      outcomes.set(init, outcome);
    }
    return outcome;
  };
}

export type ReplicateClientConfig = { auth: string; baseUrl?: string; fetch?: FetchFn };

export function createReplicateClient(config: ReplicateClientConfig): Replicate {
  return new Replicate({
    auth: config.auth,
    baseUrl: config.baseUrl ?? DEFAULT_REPLICATE_BASE_URL,
    userAgent: "prompt2video",
    // Outputs stay plain URL strings: FileOutput streams start downloading and serialise to {}.
    useFileOutput: false,
    fetch: singleShotFetch(config.fetch),
  });
}

let cached: { key: string; client: Replicate } | null = null;

/** The app's client, from REPLICATE_API_TOKEN and REPLICATE_BASE_URL. */
export function replicateClient(): Replicate {
  const { REPLICATE_API_TOKEN: auth, REPLICATE_BASE_URL: baseUrl } = env();
  if (!auth) {
    throw new EngineError("Replicate is not configured on this server (REPLICATE_API_TOKEN is not set).", "auth");
  }
  const key = `${auth}\n${baseUrl ?? ""}`;
  if (cached?.key !== key) cached = { key, client: createReplicateClient({ auth, baseUrl }) };
  return cached.client;
}

export type RetryPolicy = {
  /** Attempts in all, the first included. */
  maxTries: number;
  /** Give up instead of waiting past this many ms after the first attempt. */
  maxTotalMs: number;
  /** First delay of the exponential backoff for 5xx and connection errors (and 429 without Retry-After). */
  baseDelayMs: number;
  sleep: (ms: number) => Promise<void>;
};

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxTries: 3,
  maxTotalMs: 30_000,
  baseDelayMs: 1_000,
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export type CreatePredictionParams = Parameters<Replicate["predictions"]["create"]>[0];

/** predictions.create with bounded retries of 429 (honouring Retry-After), 5xx and failed connections. */
export async function createPrediction(
  client: Replicate,
  params: CreatePredictionParams,
  policy: Partial<RetryPolicy> = {},
): Promise<ReplicatePrediction> {
  const p = { ...DEFAULT_RETRY_POLICY, ...policy };
  const startedAt = Date.now();
  for (let attempt = 1; ; attempt++) {
    try {
      return await client.predictions.create(params);
    } catch (err) {
      const delay = retryDelayMs(err, attempt, p.baseDelayMs);
      if (delay === null || attempt >= p.maxTries || Date.now() - startedAt + delay > p.maxTotalMs) {
        throw toEngineError(err);
      }
      await p.sleep(delay);
    }
  }
}

type ApiErrorLike = Error & { response: Response };

export function isApiError(err: unknown): err is ApiErrorLike {
  return err instanceof Error && err.name === "ApiError" && (err as Partial<ApiErrorLike>).response instanceof Response;
}

/** HTTP status of a failed client call, or null when no answer came (network error). */
export function apiErrorStatus(err: unknown): number | null {
  return isApiError(err) ? err.response.status : null;
}

/** Replicate's error text; the client consumes the body and keeps it only inside its message. */
export function apiErrorDetail(err: ApiErrorLike): string | null {
  const body = /failed with status \d+[^:]*: ([\s\S]*)\.$/.exec(err.message)?.[1];
  if (!body) return null;
  try {
    const parsed = JSON.parse(body) as { detail?: unknown; title?: unknown };
    const text = [parsed.detail, parsed.title].find((v) => typeof v === "string" && v.trim() !== "");
    return typeof text === "string" ? text.trim() : null;
  } catch {
    return body.trim().slice(0, 300) || null;
  }
}

/** Seconds to wait after a 429: Retry-After (seconds or HTTP date), else "resets in ~Ns" in the detail. */
export function retryAfterSeconds(err: ApiErrorLike): number | null {
  const header = err.response.headers.get("retry-after");
  if (header) {
    const seconds = /^\d+$/.test(header.trim()) ? Number(header) : (Date.parse(header) - Date.now()) / 1000;
    if (Number.isFinite(seconds)) return Math.max(0, Math.ceil(seconds));
  }
  const fromDetail = /resets in ~?(\d+)\s*s/.exec(apiErrorDetail(err) ?? "")?.[1];
  return fromDetail ? Number(fromDetail) : null;
}

// Errors raised before the request reached Replicate: a retry cannot start a second paid run.
const CONNECT_ERRORS = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN", "UND_ERR_CONNECT_TIMEOUT", "ENETUNREACH"]);

function networkErrorCode(err: unknown): string | null {
  let cause: unknown = err instanceof Error ? err.cause : null;
  if (cause instanceof AggregateError) cause = cause.errors[0];
  const code = (cause as { code?: unknown } | null)?.code;
  return typeof code === "string" ? code : null;
}

function retryDelayMs(err: unknown, attempt: number, baseDelayMs: number): number | null {
  const backoff = baseDelayMs * 2 ** (attempt - 1);
  if (isApiError(err)) {
    const status = err.response.status;
    if (status === 429) {
      const seconds = retryAfterSeconds(err);
      return seconds === null ? backoff : seconds * 1000;
    }
    return status >= 500 ? backoff : null;
  }
  return CONNECT_ERRORS.has(networkErrorCode(err) ?? "") ? backoff : null;
}

/** Maps a client failure to an EngineError whose message a user understands. */
export function toEngineError(err: unknown): EngineError {
  if (err instanceof EngineError) return err;
  if (!isApiError(err)) {
    if (err instanceof Error && err.message === "Invalid webhook URL") {
      return new EngineError("The webhook URL of this server is invalid; check APP_URL.", "unknown", { cause: err });
    }
    return new EngineError(
      "Replicate is not reachable right now. Please try again in a few minutes.",
      "unavailable",
      { cause: err },
    );
  }
  const status = err.response.status;
  const detail = apiErrorDetail(err);
  if (status === 401 || status === 403) {
    return new EngineError(
      "The Replicate API token was rejected, so videos cannot be made right now. The site owner needs to check REPLICATE_API_TOKEN.",
      "auth",
      { cause: err },
    );
  }
  if (status === 402) {
    return new EngineError(
      "The Replicate account has no credit left, so videos cannot be made right now. The site owner needs to add credit at replicate.com/account/billing.",
      "billing",
      { cause: err },
    );
  }
  if (status === 400 || status === 422) {
    return new EngineError(
      `Replicate refused the input for this model: ${detail ?? "invalid input"}`,
      "invalid_input",
      { cause: err },
    );
  }
  if (status === 429) {
    const seconds = retryAfterSeconds(err) ?? 30;
    return new EngineError(
      `Replicate is rate-limiting requests right now. Please try again in ${seconds} s.`,
      "rate_limited",
      { cause: err },
    );
  }
  if (status >= 500) {
    return new EngineError(
      "Replicate is not reachable right now. Please try again in a few minutes.",
      "unavailable",
      { cause: err },
    );
  }
  return new EngineError(
    `Replicate answered with an error (HTTP ${status})${detail ? `: ${detail}` : "."}`,
    "unknown",
    { cause: err },
  );
}
